package sqsdispatch_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// cleanupLines returns the lines the tick job's cleanup wrote.
func cleanupLines(id string) []string {
	b, _ := os.ReadFile(outFile(id, "cleanup"))
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// field returns the value of key=value in a cleanup line.
func field(line, key string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

// startTicking starts a dispatcher process on a fresh tick message and
// waits until the job is running and writing.
func startTicking(t *testing.T, spec fauxqs.QueueSpec, pc procConfig) (*bundle, *dispatcherProc, string) {
	t.Helper()
	b := setup(t, spec)
	id := b.send("tick", nil)
	pc.Queue = b.q.URL
	p := startDispatcherProcess(t, pc)
	readPID(t, id, "pid", 30*time.Second)
	waitFor(t, 5*time.Second, "the job to tick", func() bool { return fileSize(outFile(id, "ticks")) > 0 })
	return b, p, id
}

// assertDiedBy checks the dispatcher process ended by sig.
func assertDiedBy(t *testing.T, p *dispatcherProc, sig syscall.Signal, within time.Duration) {
	t.Helper()
	st := p.wait(t, within)
	ws := st.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != sig {
		t.Fatalf("dispatcher process ended with %v; want death by %v", st, sig)
	}
}

// assertJobGone checks that neither the job nor its grandchild runs.
func assertJobGone(t *testing.T, id string) {
	t.Helper()
	for _, name := range []string{"pid", "grandchild"} {
		if pid := readPID(t, id, name, time.Second); running(pid) {
			t.Errorf("%s %d still running", name, pid)
		}
	}
}

// assertSuspendedDuringCleanup checks that the job wrote nothing while its
// cleanup ran, nor after.
func assertSuspendedDuringCleanup(t *testing.T, id, line string) {
	t.Helper()
	before, after := field(line, "before"), field(line, "after")
	if before == "" || before != after {
		t.Fatalf("job wrote while its cleanup ran (ticks file %s → %s bytes)", before, after)
	}
	if final := fileSize(outFile(id, "ticks")); itoa(int(final)) != before {
		t.Fatalf("job wrote after its cleanup started (ticks file %s → %d bytes)", before, final)
	}
}

func TestSIGTERMSuspendsCleansUpAndGivesBack(t *testing.T) {
	t.Parallel()
	b, p, id := startTicking(t, fauxqs.QueueSpec{MaxReceiveCount: 5},
		procConfig{Job: "tick", Visibility: 30 * time.Second, CleanupTimeout: 5 * time.Second})
	start := time.Now()
	if err := syscall.Kill(p.pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	assertDiedBy(t, p, syscall.SIGTERM, 20*time.Second)
	msgs := receiveWithin(t, b.ctx, b.q.URL, 2*time.Second)
	if len(msgs) != 1 || aws.ToString(msgs[0].MessageId) != id {
		t.Fatalf("message not receivable again within 2 s of SIGTERM (got %d after %s)", len(msgs), time.Since(start))
	}
	lines := cleanupLines(id)
	if len(lines) != 1 || field(lines[0], "attempt") != "1" || field(lines[0], "running") != "true" || field(lines[0], "signal") != "terminated" {
		t.Fatalf("cleanup lines = %q; want exactly one first attempt for a running job stopped by SIGTERM", lines)
	}
	assertSuspendedDuringCleanup(t, id, lines[0])
	assertJobGone(t, id)
}

func TestSIGTERMWithoutRetriesDeadLetters(t *testing.T) {
	t.Parallel()
	b, p, id := startTicking(t, fauxqs.QueueSpec{MaxReceiveCount: 1},
		procConfig{Job: "tick", Visibility: 30 * time.Second, CleanupTimeout: 5 * time.Second})
	if err := syscall.Kill(p.pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	assertDiedBy(t, p, syscall.SIGTERM, 20*time.Second)
	msgs := receiveWithin(t, b.ctx, b.q.DLQURL, 5*time.Second)
	if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "tick" {
		t.Fatalf("DLQ holds %v; want the interrupted message", msgs)
	}
	if v, f := counts(t, b.ctx, b.q.URL); v+f != 0 {
		t.Fatalf("source queue still holds %d visible, %d in flight", v, f)
	}
	if lines := cleanupLines(id); len(lines) != 1 {
		t.Fatalf("cleanup ran %d times, want 1", len(lines))
	}
	assertJobGone(t, id)
}

func TestHungCleanupIsRetriedThenDeadLettered(t *testing.T) {
	t.Parallel()
	const cleanupTimeout = 2 * time.Second
	tests := []struct {
		name, job string
		wantDLQ   bool
	}{
		{"first try hangs, second succeeds", "tick-hang1", false},
		{"both tries hang", "tick-hang2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, p, id := startTicking(t, fauxqs.QueueSpec{MaxReceiveCount: 5},
				procConfig{Job: tt.job, Visibility: 30 * time.Second, CleanupTimeout: cleanupTimeout})
			start := time.Now()
			if err := syscall.Kill(p.pid(), syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			assertDiedBy(t, p, syscall.SIGTERM, 30*time.Second)
			// Two cleanup timeouts plus process starts and SQS calls.
			if took := time.Since(start); took > 2*cleanupTimeout+3*time.Second {
				t.Errorf("shutdown took %s; want about two cleanup timeouts (%s)", took, 2*cleanupTimeout)
			}
			lines := cleanupLines(id)
			if len(lines) != 2 || field(lines[0], "running") != "true" || field(lines[1], "attempt") != "2" || field(lines[1], "running") != "false" {
				t.Fatalf("cleanup lines = %q; want a first try on the suspended job and a second after it was killed", lines)
			}
			assertSuspendedDuringCleanup(t, id, lines[0])
			queue := b.q.URL
			if tt.wantDLQ {
				queue = b.q.DLQURL
			}
			if msgs := receiveWithin(t, b.ctx, queue, 3*time.Second); len(msgs) != 1 {
				t.Fatalf("message not found in %s", queue)
			}
			if tt.wantDLQ {
				if v, f := counts(t, b.ctx, b.q.URL); v+f != 0 {
					t.Fatalf("source queue still holds the message")
				}
			}
			assertJobGone(t, id)
		})
	}
}

func TestJobKilledFromOutsideIsCleanedUpAndTheDispatcherGoesOn(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	tick := b.send("tick", map[string]types.MessageAttributeValue{"job": strAttr("tick")})
	cfg := b.config("")
	cfg.Route = func(m *sqsdispatch.Message) (string, error) { return m.MessageAttributes["job"].StringValue, nil }
	cfg.StopSignals = []os.Signal{}
	d := b.dispatcher(cfg)
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(ctx) }()

	child := readPID(t, tick, "pid", 30*time.Second)
	if err := syscall.Kill(child, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The next message; the killed one comes back too and completes.
	next := b.send("next", map[string]types.MessageAttributeValue{"job": strAttr("record")})
	for _, id := range []string{next, tick} {
		waitFor(t, 20*time.Second, "message "+id+" to be processed", func() bool { return fileSize(outFile(id, "runs")) > 0 })
	}
	lines := cleanupLines(tick)
	if len(lines) != 1 || field(lines[0], "running") != "false" || field(lines[0], "signal") != "killed" {
		t.Fatalf("cleanup lines = %q; want one cleanup of a job killed by SIGKILL", lines)
	}
	if gc := readPID(t, tick, "grandchild", time.Second); running(gc) {
		t.Errorf("grandchild %d of the killed job still running", gc)
	}
	select {
	case err := <-runErr:
		t.Fatalf("Run returned early: %v", err)
	default:
	}
	cancel()
	if err := <-runErr; !errors.Is(err, sqsdispatch.ErrStopped) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v; want ErrStopped wrapping context.Canceled", err)
	}
}

func TestShutdownGraceLetsTheJobFinish(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	id := b.send(`{"sleep": 1500000000}`, nil)
	p := startDispatcherProcess(t, procConfig{Queue: b.q.URL, Job: "sleep", Visibility: 30 * time.Second, ShutdownGrace: 20 * time.Second})
	readPID(t, id, "pid", 30*time.Second)
	if err := syscall.Kill(p.pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	assertDiedBy(t, p, syscall.SIGTERM, 20*time.Second)
	if fileSize(outFile(id, "runs")) <= 0 {
		t.Fatal("job did not finish during the shutdown grace")
	}
	if v, f := counts(t, b.ctx, b.q.URL); v+f != 0 {
		t.Fatalf("finished job's message not deleted (%d visible, %d in flight)", v, f)
	}
}

func TestSecondSignalInterruptsTheGraceAtOnce(t *testing.T) {
	t.Parallel()
	b, p, id := startTicking(t, fauxqs.QueueSpec{MaxReceiveCount: 5},
		procConfig{Job: "tick", Visibility: 30 * time.Second, CleanupTimeout: 5 * time.Second, ShutdownGrace: time.Minute})
	start := time.Now()
	if err := syscall.Kill(p.pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the dispatcher to start draining", func() bool {
		return strings.Contains(p.output(), "stop signal received")
	})
	if err := syscall.Kill(p.pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	assertDiedBy(t, p, syscall.SIGTERM, 20*time.Second)
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("second SIGTERM did not cut the one-minute grace short (took %s)", took)
	}
	if lines := cleanupLines(id); len(lines) != 1 || field(lines[0], "running") != "true" {
		t.Fatalf("cleanup lines = %q; want one cleanup of the suspended job", lines)
	}
	if msgs := receiveWithin(t, b.ctx, b.q.URL, 3*time.Second); len(msgs) != 1 {
		t.Fatal("interrupted message not given back")
	}
	assertJobGone(t, id)
}
