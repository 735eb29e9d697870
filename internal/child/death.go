package child

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
)

// suspendWait bounds how long a guardian waits for the job it suspends to
// be seen stopped before it runs the cleanup.
const suspendWait = time.Second

// death is what a child does when its parent dies: kill the job it guards,
// then everything of its own.
type death struct {
	mu    sync.Mutex
	pgid  int    // the guarded job's process group; 0: none
	start uint64 // its leader's start time; 0: not known on this platform
}

// armDeath installs the handler of proc.DeathSignal. It must run before
// anything else in the child: until then the Go runtime discards the
// signal (the lifeline covers that window, in which no job code runs).
func armDeath() *death {
	d := &death{}
	if proc.DeathSignal != 0 {
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, proc.DeathSignal)
		go func() {
			<-sigs
			d.die()
		}()
	}
	return d
}

// guard makes the death of the parent kill process group pgid too. The
// group's leader is identified by its start time as well, so that a group
// id reused after the job ended is never signalled.
func (d *death) guard(pgid int) {
	if pgid <= 1 {
		return
	}
	st, err := proc.ReadStat(pgid)
	switch {
	case errors.Is(err, errors.ErrUnsupported):
	case err != nil || st.PGID != pgid || st.State == 'Z' || st.State == 'X':
		return // the job ended already: its parent killed its group
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pgid, d.start = pgid, st.Start
}

// signalGuarded sends sig to the guarded group while its leader is the
// one guard saw, and reports whether there was one.
func (d *death) signalGuarded(sig syscall.Signal) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pgid == 0 {
		return false
	}
	if d.start != 0 {
		if st, err := proc.ReadStat(d.pgid); err != nil || st.Start != d.start {
			return false
		}
	}
	_ = proc.SignalGroup(d.pgid, sig)
	return true
}

// unguard ends the guard, killing the guarded group.
func (d *death) unguard() {
	d.signalGuarded(syscall.SIGKILL)
	d.drop()
}

// resume ends the guard of a job that had returned: it goes on, to report
// its own result.
func (d *death) resume() {
	d.signalGuarded(syscall.SIGCONT)
	d.drop()
}

func (d *death) drop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pgid = 0
}

// die kills the guarded group, this process's descendants, and its own
// process group, itself included. It does not return.
func (d *death) die() {
	d.signalGuarded(syscall.SIGKILL)
	proc.SignalDescendants(syscall.SIGKILL) // those that left the group
	proc.KillOwnGroup()
	os.Exit(ExitFailed) // not reached: SIGKILL is not delayed
}

// stopWatch is the child's one watcher of SIGTERM and SIGHUP, for its
// whole life: the first such signal cancels ctx, from which every job's
// context derives, and makes the child exit once its job has reported.
type stopWatch struct {
	ctx   context.Context
	first atomic.Int32
}

// watchStops starts watching for SIGTERM and SIGHUP.
func watchStops() *stopWatch {
	ctx, cancel := context.WithCancelCause(context.Background())
	s := &stopWatch{ctx: ctx}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		for sig := range sigs {
			sig := sig.(syscall.Signal)
			if s.first.CompareAndSwap(0, int32(sig)) {
				cancel(fmt.Errorf("sqsdispatch: job stopped by %s", sig))
			}
		}
	}()
	return s
}

// signal returns the first stop signal that came, or 0.
func (s *stopWatch) signal() syscall.Signal { return syscall.Signal(s.first.Load()) }

// dieBy makes the process, which runs no job, end by the stop signal that
// came, as it would had it not watched for it. Should the signal be
// ignored, it returns the exit code to exit with instead.
func (s *stopWatch) dieBy() int {
	if sig := s.signal(); sig != 0 {
		signal.Reset(sig)
		raise(sig)
	}
	return ExitFailed
}
