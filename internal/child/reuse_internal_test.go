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

// TestWaitsAfter: a child waits for another request only when reuse was
// asked for, the job neither panicked nor met a signal, and its marker
// can be set for the next job.
func TestWaitsAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		reuse       bool
		res         wire.Result
		markerLasts bool
		want        bool
	}{
		{"a clean success", true, wire.Result{Kind: wire.KindOK}, true, true},
		{"an ordinary error", true, wire.Result{Kind: wire.KindError}, true, true},
		{"no reuse asked for", false, wire.Result{Kind: wire.KindOK}, true, false},
		{"a panic", true, wire.Result{Kind: wire.KindPanic}, true, false},
		{"a signal", true, wire.Result{Kind: wire.KindOK, Signal: int(syscall.SIGTERM)}, true, false},
		{"a marker that cannot be set again", true, wire.Result{Kind: wire.KindOK}, false, false},
	}
	for _, tt := range tests {
		if got := waitsAfter(tt.reuse, &tt.res, tt.markerLasts); got != tt.want {
			t.Errorf("%s: waitsAfter = %t; want %t", tt.name, got, tt.want)
		}
	}
}
