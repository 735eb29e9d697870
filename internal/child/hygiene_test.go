package child_test

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// A dispatcher SIGKILLed while its job runs takes the job and the job's
// grandchild with it, every time.
func TestKilledDispatcherTakesRunningJobAndGrandchild(t *testing.T) {
	t.Parallel()
	for i := range 10 {
		t.Run(fmt.Sprint("round ", i), func(t *testing.T) {
			t.Parallel()
			m := startMiddle(t, middleSpec{Scenario: "run"})
			ps := readPIDs(t, m.file("job"), 2)
			m.kill(t)
			waitDead(t, "the job and its grandchild", ps...)
		})
	}
}

// A job that returned just before its dispatcher was SIGKILLed leaves no
// grandchild, even one that left the job's process group.
func TestKilledDispatcherAfterJobReturnedLeavesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		setsid bool
	}{
		{"grandchild in the job's group", false},
		{"grandchild in a session of its own", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := startMiddle(t, middleSpec{Scenario: "returned", Setsid: tt.setsid})
			waitFor(t, "the middle to see the job end", func() bool {
				_, err := os.Stat(m.file("returned"))
				return err == nil
			})
			if b, _ := os.ReadFile(m.file("returned")); string(b) != wire.KindOK {
				t.Fatalf("job reported %q; want ok", b)
			}
			ps := readPIDs(t, m.file("job"), 2)
			m.kill(t)
			waitDead(t, "the job and its grandchild", ps...)
		})
	}
}

// A job that returns while its grandchild runs has the grandchild killed
// and reaped by its own process before the result is reported, even when
// the grandchild left the job's process group.
func TestChildKillsWhatTheJobLeftBeforeReporting(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "pids")
	c := spawn(t, job("grandchild", jobSpec{File: file, Setsid: true}))
	ps := readPIDs(t, file, 2)
	waitDone(t, c)
	if r := c.Result(); r == nil || r.Kind != wire.KindOK {
		t.Fatalf("result = %+v; want ok", r)
	}
	if s := ps[1].state(); s != 0 {
		t.Fatalf("grandchild %d in a session of its own is in state %q after the child reported; want it reaped", ps[1].pid, s)
	}
}

// A job leader killed from outside (as by the OOM killer) does not leave
// its grandchild running: its group is killed before the leader is reaped.
func TestLeaderKilledFromOutsideTakesItsGroup(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "pids")
	c := spawn(t, job("grandchild", jobSpec{File: file, Block: true}))
	ps := readPIDs(t, file, 2)
	if err := syscall.Kill(ps[0].pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDone(t, c)
	// No Release yet: only the waiter can have killed the grandchild.
	waitFor(t, "the grandchild to die with its leader", func() bool { return !ps[1].alive() })
	if c.StoppedByUs() || signaled(c) != syscall.SIGKILL {
		t.Fatalf("stopped by us %v, signal %v; want an outside SIGKILL", c.StoppedByUs(), signaled(c))
	}
	c.Release()
	waitDead(t, "the grandchild", ps[1])
}

// The death signal is handled as "kill my whole group" whenever it comes,
// even while the parent lives.
func TestDeathSignalKillsTheWholeGroup(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "pids")
	c := spawn(t, job("grandchild", jobSpec{File: file, Block: true}))
	ps := readPIDs(t, file, 2)
	if err := syscall.Kill(c.PID(), proc.DeathSignal); err != nil {
		t.Fatal(err)
	}
	waitDone(t, c)
	if c.Result() != nil {
		t.Fatalf("child reported %+v; want it killed before any report", c.Result())
	}
	if s := signaled(c); s != syscall.SIGKILL {
		t.Fatalf("child ended by %v; want SIGKILL from its own death handler", s)
	}
	waitDead(t, "the grandchild", ps[1])
}

// A spare that gets the death signal before its request dies, whether its
// handler ran yet or not.
func TestDeathSignalToWaitingSpare(t *testing.T) {
	t.Parallel()
	c, err := child.Start(child.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Release)
	p := identify(t, c.PID())
	if err := syscall.Kill(c.PID(), proc.DeathSignal); err != nil {
		t.Fatal(err)
	}
	waitDone(t, c)
	if c.Result() != nil || c.State().Success() {
		t.Fatalf("spare ended with %v and result %+v; want it killed", c.State(), c.Result())
	}
	if s := p.state(); s != 0 {
		t.Fatalf("spare %d in state %q after Done; want it reaped", p.pid, s)
	}
}
