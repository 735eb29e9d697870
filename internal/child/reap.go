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

const (
	// reapSafetyInterval is how often ReapAdopted looks for zombies when
	// no SIGCHLD came.
	reapSafetyInterval = time.Second
	// reapSettle is how long a zombie outside the groups of this
	// package's children is left for an owner to wait for it.
	reapSettle = time.Second
)

// ReapAdopted reaps, until ctx ends, the processes re-parented to this
// process that have exited. It is meant for a process that made itself a
// child subreaper (proc.BecomeSubreaper), to which the orphaned
// descendants of jobs are re-parented. It looks at each SIGCHLD and, as a
// safety net, every second.
//
// It reaps by pid, never waiting for any child: the children this package
// started are left to their Child; a zombie in the process group of such
// a child is an orphan of its job and is reaped at once; a zombie in this
// process's own process group, where the children this process starts by
// other means (os/exec) stay unless told otherwise, is left to its owner;
// any other zombie is reaped once it has been left unreaped for a second
// or two. A child started elsewhere in this process with a process group
// of its own must therefore be waited for promptly.
func ReapAdopted(ctx context.Context) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGCHLD)
	defer signal.Stop(sigs)
	t := time.NewTicker(reapSafetyInterval)
	defer t.Stop()
	r := newReaper()
	for {
		r.scan(time.Now())
		select {
		case <-ctx.Done():
			return
		case <-sigs:
		case <-t.C:
		}
	}
}

// reaper remembers when it first saw each zombie it left.
type reaper struct {
	seen map[int]zombie
}

type zombie struct {
	start uint64
	since time.Time
}

func newReaper() *reaper { return &reaper{seen: make(map[int]zombie)} }

// scan reaps the adopted zombies it finds now.
func (r *reaper) scan(now time.Time) {
	tracked.start.Lock() // no child of ours can appear untracked meanwhile
	defer tracked.start.Unlock()
	own := syscall.Getpgrp()
	seen := make(map[int]zombie)
	for _, pid := range proc.Children(0) {
		if isTracked(pid) {
			continue
		}
		st, err := proc.ReadStat(pid)
		if err != nil || st.State != 'Z' || st.PGID == own {
			continue
		}
		if !isTracked(st.PGID) {
			z, ok := r.seen[pid]
			if !ok || z.start != st.Start {
				z = zombie{start: st.Start, since: now}
			}
			if now.Sub(z.since) < reapSettle {
				seen[pid] = z
				continue
			}
		}
		reapPID(pid)
	}
	r.seen = seen
}

func reapPID(pid int) {
	for {
		var ws syscall.WaitStatus
		_, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		if !errors.Is(err, syscall.EINTR) {
			return
		}
	}
}
