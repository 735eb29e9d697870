package child_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

func TestSparesAreReplacedWhenStaleAndReleasedByRun(t *testing.T) {
	t.Parallel()
	const maxIdle = time.Minute
	clk := clock.NewFake(time.Unix(0, 0))
	sp := child.NewSpares(1, maxIdle, child.Options{Log: zaptest.NewLogger(t)}, clk)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sp.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	waitFor(t, "a spare", func() bool { return len(sp.PIDs()) == 1 })
	first := identify(t, sp.PIDs()[0])
	clk.Advance(maxIdle)
	waitFor(t, "the stale spare to be replaced", func() bool {
		p := sp.PIDs()
		return len(p) == 1 && p[0] != first.pid
	})
	if s := first.state(); s != 0 {
		t.Fatalf("replaced spare %d is in state %q; want it reaped", first.pid, s)
	}

	// A stale spare is never taken; whether Take or Run finds it stale
	// first, Run releases it.
	second := identify(t, sp.PIDs()[0])
	clk.Advance(maxIdle)
	if c := sp.Take(); c != nil {
		if c.PID() == second.pid {
			t.Fatal("Take returned a stale spare")
		}
		c.Release()
	}
	waitFor(t, "the stale spare to be reaped", func() bool { return second.state() == 0 })

	waitFor(t, "a fresh spare", func() bool { return len(sp.PIDs()) == 1 && sp.PIDs()[0] != second.pid })
	c := sp.Take()
	if c == nil {
		t.Fatal("Take returned no spare while a fresh one waited")
	}
	t.Cleanup(c.Release)
	select {
	case <-c.Done():
		t.Fatal("Take returned a dead spare")
	default:
	}
	waitFor(t, "a new spare after Take", func() bool { return len(sp.PIDs()) == 1 && !slices.Contains(sp.PIDs(), c.PID()) })
	last := identify(t, sp.PIDs()[0])
	cancel()
	<-done
	if s := last.state(); s != 0 {
		t.Fatalf("spare %d is in state %q after Run returned; want it released and reaped", last.pid, s)
	}
	if sp.Take() != nil {
		t.Fatal("Take returned a spare after Run returned")
	}
	select {
	case <-c.Done():
		t.Fatal("Run released a spare that had been taken")
	default:
	}
}

// A spare taken runs its job like any child, and its process can be kept
// for the next job like any other.
func TestTakenSpareCanBeKept(t *testing.T) {
	t.Parallel()
	sp := child.NewSpares(1, time.Minute, child.Options{Log: zaptest.NewLogger(t)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sp.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "a spare", func() bool { return len(sp.PIDs()) == 1 })
	c := sp.Take()
	if c == nil {
		t.Fatal("Take returned no spare while one waited")
	}
	t.Cleanup(c.Release)
	self := identify(t, c.PID())
	c.Send(reused("pid", jobSpec{}), zaptest.NewLogger(t))
	livesOn(t, c, wire.KindOK)
	p := keep(t, c)
	if r := livesOn(t, sendNext(t, p, reused("pid", jobSpec{})), wire.KindOK); r.Error != fmt.Sprintf("%d:%d", self.pid, self.start) {
		t.Fatalf("the next job ran in %q; want the spare's process %v", r.Error, self)
	}
	p.Retire()
	waitDead(t, "the kept spare", self)
}
