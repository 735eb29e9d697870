package child_test

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// stopped reports whether the process is suspended.
func stopped(p process) bool { s := p.state(); return s == 'T' || s == 't' }

// A job suspended for its cleanup dies with a SIGKILLed dispatcher, with
// its grandchild and the cleanup's child: the suspension is the guardian's
// doing, and the guardian is armed before it suspends.
func TestKilledDispatcherDuringCleanupTakesSuspendedJob(t *testing.T) {
	t.Parallel()
	m := startMiddle(t, middleSpec{Scenario: "guard"})
	ps := readPIDs(t, m.file("job"), 2)
	guardian := readPIDs(t, m.file("cleanup"), 1)[0]
	waitFor(t, "the job and its grandchild to be suspended", func() bool { return stopped(ps[0]) && stopped(ps[1]) })
	m.kill(t)
	waitDead(t, "the suspended job, its grandchild and the cleanup's child", append(ps, guardian)...)
}

// In the normal course, the cleanup runs while the job is suspended, and
// the job's group is killed once the cleanup has returned.
func TestGuardianSuspendsThenKillsTheJob(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := spawn(t, job("grandchild", jobSpec{File: filepath.Join(dir, "job"), Block: true}))
	ps := readPIDs(t, filepath.Join(dir, "job"), 2)
	g := spawn(t, wire.Request{Mode: wire.ModeCleanup, Job: "grandchild", GuardPGID: c.PID(),
		Message: wire.Message{Body: jobSpec{File: filepath.Join(dir, "cleanup")}.body()}})
	waitDone(t, g)
	if r := g.Result(); r == nil || r.Kind != wire.KindOK || !g.State().Success() {
		t.Fatalf("cleanup ended with %v, result %+v; want ok", g.State(), r)
	}
	if b, _ := readFile(t, filepath.Join(dir, "cleanup")); !strings.HasSuffix(b, " T") {
		t.Errorf("the cleanup saw the job in state %q; want it stopped (T)", b)
	}
	waitDone(t, c)
	if s := signaled(c); s != syscall.SIGKILL || c.StoppedByUs() {
		t.Fatalf("job ended by %v (stopped by us %v); want the guardian's SIGKILL, which this process did not send", s, c.StoppedByUs())
	}
	waitDead(t, "the grandchild", ps[1])
}
