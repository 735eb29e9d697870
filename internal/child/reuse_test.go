package child_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// reused is a run request for a test job after which the child waits for
// another request.
func reused(name string, spec jobSpec) wire.Request {
	r := job(name, spec)
	r.Reuse = true
	return r
}

// keep waits for the job and takes its process, retired when the test
// ends.
func keep(t *testing.T, c *child.Child) *child.Process {
	t.Helper()
	waitDone(t, c)
	p, ok := c.Keep()
	if !ok {
		t.Fatalf("Keep refused the process of a job that ended with %+v (exited %v, %v; stderr %q)", c.Result(), c.Exited(), c.State(), c.Stderr())
	}
	t.Cleanup(p.Retire)
	return p
}

// sendNext sends a kept process its next job, released when the test
// ends.
func sendNext(t *testing.T, p *child.Process, req wire.Request) *child.Child {
	t.Helper()
	c := nextJob(p, req, zaptest.NewLogger(t))
	t.Cleanup(c.Release)
	return c
}

// livesOn checks that the job ended with a result of kind and its process
// waits for another request.
func livesOn(t *testing.T, c *child.Child, kind string) *wire.Result {
	t.Helper()
	waitDone(t, c)
	r := c.Result()
	if r == nil || r.Kind != kind || c.Exited() || c.State() != nil {
		t.Fatalf("job ended with %+v (exited %v, %v); want kind %q and the process waiting (stderr %q)", r, c.Exited(), c.State(), kind, c.Stderr())
	}
	return r
}

// One process runs several jobs in turn, of different names, streamed
// bodies too, and exits after the one whose request does not ask it to
// wait.
func TestOneProcessServesJobsInTurn(t *testing.T) {
	t.Parallel()
	c := spawn(t, reused("pid", jobSpec{}))
	self := identify(t, c.PID())
	token := fmt.Sprintf("%d:%d", self.pid, self.start)
	if r := livesOn(t, c, wire.KindOK); r.Error != token {
		t.Fatalf("first job ran in %q; want %q", r.Error, token)
	}
	p := keep(t, c)
	c2 := sendNext(t, p, reused("fail", jobSpec{}))
	if r := livesOn(t, c2, wire.KindError); r.Error != "failed as asked" {
		t.Fatalf("second job's error %q", r.Error)
	}
	if _, ok := c2.Keep(); !ok {
		t.Fatal("Keep refused after a job's ordinary error")
	}
	c3 := sendNext(t, p, reused("checkpoint", jobSpec{Checkpoints: 2}))
	if r := livesOn(t, c3, wire.KindOK); r.Error != "final" {
		t.Fatalf("third job's result %+v", r)
	}
	if again, _ := c3.Keep(); again != p {
		t.Fatal("the same process came back as another Process")
	}
	const size = 1 << 20
	c4 := p.Next()
	c4.SendBody(reused("body", jobSpec{}), &patternReader{size: size}, size, zaptest.NewLogger(t))
	t.Cleanup(c4.Release)
	if r := livesOn(t, c4, wire.KindOK); r.Error != digest(t, size) {
		t.Fatalf("streamed body arrived as %q", r.Error)
	}
	if _, ok := c4.Keep(); !ok {
		t.Fatal("Keep refused after a streamed body")
	}
	last := sendNext(t, p, job("pid", jobSpec{}))
	waitDone(t, last)
	if r := last.Result(); r == nil || r.Error != token || !last.Exited() || !last.State().Success() {
		t.Fatalf("last job ended with %+v, exited %v (%v); want it run in %q and the process exited", r, last.Exited(), last.State(), token)
	}
	if _, ok := last.Keep(); ok {
		t.Fatal("Keep took a process that exited")
	}
	if p.Jobs() != 5 || !last.Started().After(p.Started()) || last.PID() != self.pid {
		t.Fatalf("process counts %d jobs (want 5), started %v, last job %v", p.Jobs(), p.Started(), last.Started())
	}
	<-p.Done()
	if s := self.state(); s != 0 {
		t.Fatalf("process %d in state %q after it exited; want it reaped", self.pid, s)
	}
}

// What a job started is killed and reaped before its result is reported,
// so before the process can get its next request, even when it left the
// job's process group.
func TestNothingOfAJobReachesTheNext(t *testing.T) {
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
			dir := t.TempDir()
			c := spawn(t, reused("grandchild", jobSpec{File: filepath.Join(dir, "1"), Setsid: tt.setsid}))
			first := readPIDs(t, filepath.Join(dir, "1"), 2)
			livesOn(t, c, wire.KindOK)
			if s := first[1].state(); s != 0 {
				t.Fatalf("grandchild %d of the first job in state %q once it reported; want it reaped", first[1].pid, s)
			}
			p := keep(t, c)
			c2 := sendNext(t, p, reused("grandchild", jobSpec{File: filepath.Join(dir, "2"), Block: true, Setsid: tt.setsid}))
			second := readPIDs(t, filepath.Join(dir, "2"), 2)
			if second[0] != first[0] {
				t.Fatalf("second job ran in %v; want the first's process %v", second[0], first[0])
			}
			c2.Signal(syscall.SIGTERM)
			waitDone(t, c2)
			if r := c2.Result(); r == nil || r.Signal != int(syscall.SIGTERM) || !c2.Exited() {
				t.Fatalf("stopped job ended with %+v, exited %v; want the signal reported and the process gone", r, c2.Exited())
			}
			waitDead(t, "the process and the second grandchild", second...)
		})
	}
}

// Checkpoints belong to the job that recorded them: a goroutine a job
// left behind cannot record one once the job returned, and an answer the
// parent sends after its job returned does not reach the next job.
func TestCheckpointsArePerJob(t *testing.T) {
	t.Parallel()
	c := spawn(t, reused("checkpoint", jobSpec{Checkpoints: 3}))
	self := identify(t, c.PID())
	livesOn(t, c, wire.KindOK)
	if data, n := c.Checkpoint(); string(data) != "0-3:" || n != 3 {
		t.Fatalf("first job's checkpoints %q, %d", data, n)
	}
	p := keep(t, c)
	leak := sendNext(t, p, reused("leak", jobSpec{}))
	livesOn(t, leak, wire.KindOK)
	if _, ok := leak.Keep(); !ok {
		t.Fatal("Keep refused")
	}
	fire := sendNext(t, p, reused("leak-fire", jobSpec{}))
	if r := livesOn(t, fire, wire.KindOK); r.Error != "true <nil>" {
		t.Fatalf("leaked checkpoint refused, own checkpoint error: %q; want true, <nil>", r.Error)
	}
	if data, n := fire.Checkpoint(); string(data) != "own" || n != 1 {
		t.Fatalf("the job that fired the leak holds checkpoints %q, %d; want only its own", data, n)
	}
	if data, n := leak.Checkpoint(); n != 0 {
		t.Fatalf("the job that leaked holds checkpoint %q, %d; want none", data, n)
	}
	prev := fire
	for i := range 5 {
		if _, ok := prev.Keep(); !ok {
			t.Fatalf("round %d: Keep refused", i)
		}
		stray := sendNext(t, p, reused("stray", jobSpec{}))
		livesOn(t, stray, wire.KindOK)
		if data, n := stray.Checkpoint(); string(data) != "stray" || n != 1 {
			t.Fatalf("round %d: checkpoint %q, %d; want the one written before the job returned", i, data, n)
		}
		if _, ok := stray.Keep(); !ok {
			t.Fatalf("round %d: Keep refused", i)
		}
		prev = sendNext(t, p, reused("checkpoint", jobSpec{Checkpoints: 2}))
		if r := livesOn(t, prev, wire.KindOK); r.Error != "final" {
			t.Fatalf("round %d: result %+v after a stray answer (stderr %q)", i, r, prev.Stderr())
		}
		if data, n := prev.Checkpoint(); string(data) != "0-2:" || n != 2 {
			t.Fatalf("round %d: checkpoints %q, %d after a stray answer; want 0-2:, 2", i, data, n)
		}
	}
	p.Retire()
	waitDead(t, "the retired process", self)
}

// A cleanup's guard tells a job that runs in a kept process from one that
// returned: the marker is set again for each job.
func TestGuardSeesEachJobOfAKeptProcess(t *testing.T) {
	t.Parallel()
	guard := func(t *testing.T, pid int, file string) *child.Child {
		t.Helper()
		g := spawn(t, wire.Request{Mode: wire.ModeCleanup, Job: "guard", GuardPGID: pid,
			Message: wire.Message{Body: jobSpec{File: file}.body()}})
		waitDone(t, g)
		return g
	}
	t.Run("running", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		c := spawn(t, reused("ok", jobSpec{}))
		self := identify(t, c.PID())
		c2 := sendNext(t, keep(t, c), reused("sleep", jobSpec{File: filepath.Join(dir, "job")}))
		readPIDs(t, filepath.Join(dir, "job"), 1)
		g := guard(t, c2.PID(), filepath.Join(dir, "cleanup"))
		if r := g.Result(); r == nil || r.Kind != wire.KindOK {
			t.Fatalf("guard reported %+v; want its cleanup run, the second job taken as running", r)
		}
		if b, _ := readFile(t, filepath.Join(dir, "cleanup")); !strings.HasSuffix(b, " T") {
			t.Errorf("the cleanup saw the job in state %q; want it stopped (T)", b)
		}
		waitDone(t, c2)
		if s := signaled(c2); s != syscall.SIGKILL || c2.StoppedByUs() || c2.Result() != nil {
			t.Fatalf("second job ended by %v (stopped by us %v) with %+v; want the guardian's SIGKILL", s, c2.StoppedByUs(), c2.Result())
		}
		if _, ok := c2.Keep(); ok {
			t.Fatal("Keep took a process the guardian killed")
		}
		waitDead(t, "the guarded process", self)
	})
	t.Run("returned", func(t *testing.T) {
		t.Parallel()
		c := spawn(t, reused("ok", jobSpec{}))
		self := identify(t, c.PID())
		p := keep(t, c)
		c2 := sendNext(t, p, reused("pid", jobSpec{}))
		livesOn(t, c2, wire.KindOK)
		if r := guard(t, c2.PID(), filepath.Join(t.TempDir(), "cleanup")).Result(); r == nil || r.Kind != wire.KindJobFinished {
			t.Fatalf("guard reported %+v; want the second job seen as returned", r)
		}
		waitFor(t, "the process to be resumed", func() bool { return !stopped(self) })
		if _, ok := c2.Keep(); !ok {
			t.Fatal("Keep refused a process the guardian resumed")
		}
		livesOn(t, sendNext(t, p, reused("ok", jobSpec{})), wire.KindOK)
		p.Retire()
		waitDead(t, "the retired process", self)
	})
}

// Once its job has reported, GOMAXPROCS is set back for the next job.
func TestNextJobGetsTheSameGOMAXPROCS(t *testing.T) {
	t.Parallel()
	c := spawn(t, reused("set-procs", jobSpec{}))
	first := livesOn(t, c, wire.KindOK).Error
	second := livesOn(t, sendNext(t, keep(t, c), reused("set-procs", jobSpec{})), wire.KindOK).Error
	if first != second {
		t.Fatalf("the second job ran with GOMAXPROCS %s after the first changed its %s", second, first)
	}
}
