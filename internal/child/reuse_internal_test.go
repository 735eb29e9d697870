package child

import (
	"syscall"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// A kept process waiting for its next request dies when its lifeline, the
// request pipe, ends: by its own hand, killing its group, not by a signal
// of its parent's.
func TestKeptProcessDiesWithItsLifeline(t *testing.T) {
	t.Parallel()
	c, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Release)
	c.Send(wire.Request{Mode: wire.ModeRun, Job: "ok", Reuse: true}, nil)
	select {
	case <-c.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the job did not end")
	}
	p, ok := c.Keep()
	if !ok {
		t.Fatalf("Keep refused a job that ended with %+v", c.Result())
	}
	t.Cleanup(p.Retire)
	_ = p.reqW.Close() // the lifeline alone: no signal is sent
	select {
	case <-p.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the kept process outlived its lifeline")
	}
	ws, _ := p.state.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the process ended with %v; want its own group's SIGKILL", p.state)
	}
}
