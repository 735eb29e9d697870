package child_test

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// patience bounds every wait for something a busy machine may be slow to
// do; no test asserts that anything happens sooner.
const patience = 30 * time.Second

// waitFor polls cond until it holds, failing the test after patience.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", patience, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// process identifies one process across pid reuse.
type process struct {
	pid   int
	start uint64
}

// identify reads pid's start time; the process must exist.
func identify(t *testing.T, pid int) process {
	t.Helper()
	st, err := proc.ReadStat(pid)
	if err != nil {
		t.Fatalf("process %d: %v", pid, err)
	}
	return process{pid: pid, start: st.Start}
}

// state returns the process's state letter, or 0 when it is gone (reaped).
func (p process) state() byte {
	st, err := proc.ReadStat(p.pid)
	if err != nil || st.Start != p.start {
		return 0
	}
	return st.State
}

// alive reports whether the process exists and is not a zombie.
func (p process) alive() bool {
	switch p.state() {
	case 0, 'Z', 'X':
		return false
	}
	return true
}

// waitDead waits until every process is dead (a zombie counts) and then
// until each is reaped: by its parent, or by the test process's
// ReapAdopted when it was re-parented here.
func waitDead(t *testing.T, what string, ps ...process) {
	t.Helper()
	for _, p := range ps {
		waitFor(t, what+" "+strconv.Itoa(p.pid)+" to die", func() bool { return !p.alive() })
	}
	for _, p := range ps {
		waitFor(t, what+" "+strconv.Itoa(p.pid)+" to be reaped", func() bool { return p.state() == 0 })
	}
}

// readPIDs waits for a file that starts with n "pid:start" tokens, as
// the test jobs write them, and returns the processes they name, which
// may be gone already.
func readPIDs(t *testing.T, path string, n int) []process {
	t.Helper()
	var fields []string
	waitFor(t, "the pids in "+path, func() bool {
		b, err := os.ReadFile(path)
		fields = strings.Fields(string(b))
		return err == nil && len(fields) >= n
	})
	out := make([]process, n)
	for i := range out {
		pid, start, _ := strings.Cut(fields[i], ":")
		var err1, err2 error
		out[i].pid, err1 = strconv.Atoi(pid)
		out[i].start, err2 = strconv.ParseUint(start, 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: malformed %q", path, fields[i])
		}
	}
	return out
}

// spawn starts a child for a test job, released when the test ends.
func spawn(t *testing.T, req wire.Request) *child.Child {
	t.Helper()
	if req.Mode == "" {
		req.Mode = wire.ModeRun
	}
	c, err := child.Spawn(req, child.Options{Log: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Release)
	return c
}

// job is a run request for a test job.
func job(name string, spec jobSpec) wire.Request {
	return wire.Request{Mode: wire.ModeRun, Job: name, Message: wire.Message{ID: "m", Body: spec.body()}}
}

// waitDone waits for the child to end.
func waitDone(t *testing.T, c *child.Child) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(patience):
		t.Fatalf("child %d still running after %s", c.PID(), patience)
	}
}

// signaled returns the signal that ended the child, or 0.
func signaled(c *child.Child) syscall.Signal {
	if ws, ok := c.State().Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal()
	}
	return 0
}

// nextJob sends the kept process p its next job's request and returns
// the job's handle.
func nextJob(p *child.Process, req wire.Request, log *zap.Logger) *child.Child {
	c := p.Next()
	c.Send(req, log)
	return c
}
