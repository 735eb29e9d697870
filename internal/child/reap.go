package child

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
)

// reapSafetyInterval is how often ReapAdopted looks for zombies when no
// SIGCHLD came.
const reapSafetyInterval = 5 * time.Second

// ReapAdopted reaps, until ctx ends, the processes re-parented to this
// process that have exited: it is meant for a process that made itself a
// child subreaper (proc.BecomeSubreaper), to which the orphaned
// descendants of jobs are re-parented. It looks at each SIGCHLD and, as a
// safety net, every few seconds.
//
// It reaps by pid only zombies that this package did not start (those are
// reaped by their Child) and that are not in this process's own process
// group, where the children this process starts by other means (os/exec)
// stay unless told otherwise: their owners wait for them.
func ReapAdopted(ctx context.Context) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGCHLD)
	defer signal.Stop(sigs)
	t := time.NewTicker(reapSafetyInterval)
	defer t.Stop()
	for {
		reapAdoptedOnce()
		select {
		case <-ctx.Done():
			return
		case <-sigs:
		case <-t.C:
		}
	}
}

// reapAdoptedOnce reaps the adopted zombies it finds now.
func reapAdoptedOnce() {
	tracked.start.Lock()
	defer tracked.start.Unlock()
	own := syscall.Getpgrp()
	for _, pid := range proc.Children(0) {
		if isTracked(pid) {
			continue
		}
		st, err := proc.ReadStat(pid)
		if err != nil || st.State != 'Z' || st.PGID == own {
			continue
		}
		for {
			var ws syscall.WaitStatus
			_, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			if !errors.Is(err, syscall.EINTR) {
				break
			}
		}
	}
}
