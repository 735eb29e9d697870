package child_test

import (
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// Release leaves no goroutine behind, whatever state the child is in:
// finished, running, waiting at the handshake, or stuck behind a large
// request it never read. It does not run in parallel, so that the
// goroutine count is its own.
func TestReleaseLeavesNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	var (
		kids []*child.Child
		ps   []process
	)
	start := func(req *wire.Request) *child.Child {
		t.Helper()
		c, err := child.Start(child.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, identify(t, c.PID()))
		if req != nil {
			c.Send(*req, nil)
		}
		kids = append(kids, c)
		return c
	}
	done := start(&wire.Request{Mode: wire.ModeRun, Job: "ok"})
	file := filepath.Join(t.TempDir(), "pid")
	start(&wire.Request{Mode: wire.ModeRun, Job: "sleep", Message: wire.Message{Body: jobSpec{File: file}.body()}})
	start(nil)
	// A request larger than a pipe holds, to a child that is stopped
	// before it can read it: the write stays in flight.
	stuck := start(nil)
	stuck.Signal(syscall.SIGSTOP)
	stuck.Send(wire.Request{Mode: wire.ModeRun, Job: "ok", Message: wire.Message{Body: strings.Repeat("x", 1<<20)}}, nil)
	readPIDs(t, file, 1)
	waitDone(t, done)
	for _, c := range kids {
		c.Release()
		c.Release() // idempotent
	}
	waitFor(t, "the goroutines of the released children to end", func() bool { return runtime.NumGoroutine() <= before })
	for _, p := range ps {
		if s := p.state(); s != 0 {
			t.Errorf("released child %d left in state %q", p.pid, s)
		}
	}
}
