package child_test

import (
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// Release leaves no goroutine behind, whatever state the child is in:
// finished, running, waiting at the handshake, or stuck behind a large
// request (or a body) it never read. It does not run in parallel, so that the
// children's goroutines it counts are those of its own children.
func TestReleaseLeavesNoGoroutine(t *testing.T) {
	if n := len(childGoroutines()); n > 0 {
		t.Fatalf("%d goroutines of children before the test started", n)
	}
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
	// The same with a body streamed after the request.
	streaming := start(nil)
	streaming.Signal(syscall.SIGSTOP)
	streaming.SendBody(wire.Request{Mode: wire.ModeRun, Job: "body"}, &patternReader{size: 400 << 20}, 400<<20, nil)
	readPIDs(t, file, 1)
	waitDone(t, done)
	for _, c := range kids {
		c.Release()
		c.Release() // idempotent
	}
	deadline := time.Now().Add(patience)
	for left := childGoroutines(); len(left) > 0; left = childGoroutines() {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines of released children left:\n%s", strings.Join(left, "\n\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, p := range ps {
		if s := p.state(); s != 0 {
			t.Errorf("released child %d left in state %q", p.pid, s)
		}
	}
}

// childGoroutines returns the stacks of the goroutines running code of the
// package's children (other than the process-wide ReapAdopted, and the
// package's own tests).
func childGoroutines() []string {
	buf := make([]byte, 4<<20)
	var out []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "/internal/child.") && !strings.Contains(g, "child.ReapAdopted") && !strings.Contains(g, "testing.tRunner(") {
			out = append(out, g)
		}
	}
	return out
}

// Retire, and Release of a job whose process was not kept, leave no
// goroutine of the process behind, whatever it does: wait for a request,
// run a later job, wait after a job nobody kept, or be gone already. The
// handle of a job whose process was kept leaves the process alone. It
// does not run in parallel, so that the children's goroutines it counts
// are those of its own children.
func TestRetireLeavesNoGoroutine(t *testing.T) {
	if n := len(childGoroutines()); n > 0 {
		t.Fatalf("%d goroutines of children before the test started", n)
	}
	var ps []process
	first := func(req wire.Request) *child.Child {
		t.Helper()
		c, err := child.Spawn(req, child.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, identify(t, c.PID()))
		waitDone(t, c)
		return c
	}
	kept := func() (*child.Child, *child.Process) {
		t.Helper()
		c := first(wire.Request{Mode: wire.ModeRun, Job: "ok", Reuse: true})
		p, ok := c.Keep()
		if !ok {
			t.Fatalf("Keep refused a job that ended with %+v", c.Result())
		}
		return c, p
	}
	_, waiting := kept()
	keptJob, running := kept()
	file := filepath.Join(t.TempDir(), "pid")
	second := nextJob(running, wire.Request{Mode: wire.ModeRun, Job: "sleep", Message: wire.Message{Body: jobSpec{File: file}.body()}, Reuse: true}, nil)
	readPIDs(t, file, 1)
	keptJob.Release()
	if isDone(second) || !ps[1].alive() {
		t.Fatal("releasing a job whose process was kept ended the process")
	}
	notKept := first(wire.Request{Mode: wire.ModeRun, Job: "ok", Reuse: true})
	_, gone := kept()
	_ = syscall.Kill(gone.PID(), syscall.SIGKILL)
	<-gone.Done()
	late := nextJob(gone, wire.Request{Mode: wire.ModeRun, Job: "ok", Reuse: true}, nil)
	waitDone(t, late)

	waiting.Retire()
	second.Release()
	notKept.Release()
	late.Release()
	gone.Retire()
	running.Retire() // retired already, by its job's Release
	deadline := time.Now().Add(patience)
	for left := childGoroutines(); len(left) > 0; left = childGoroutines() {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines of retired processes left:\n%s", strings.Join(left, "\n\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, p := range ps {
		if s := p.state(); s != 0 {
			t.Errorf("retired process %d left in state %q", p.pid, s)
		}
	}
}
