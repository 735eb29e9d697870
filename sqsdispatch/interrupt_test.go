package sqsdispatch_test

// The interruption protocol: on a stop signal the running job is
// suspended, its Cleanup runs, and the message goes back (or to the DLQ);
// the process then dies by the signal. A job killed from outside goes
// through the same protocol while the dispatcher runs on.

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
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
	readPID(t, id, "pid")
	waitFor(t, time.Minute, "the job to tick", func() bool { return fileSize(outFile(id, "ticks")) > 0 })
	return b, p, id
}

// assertJobGone checks that neither the job nor its grandchild runs.
func assertJobGone(t *testing.T, id string) {
	t.Helper()
	for _, name := range []string{"pid", "grandchild"} {
		assertDies(t, readPID(t, id, name), name)
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
		procConfig{Job: "tick", Visibility: time.Minute, CleanupTimeout: 10 * time.Second})
	p.signal(t, syscall.SIGTERM)
	assertDiedBy(t, p, syscall.SIGTERM, time.Minute)
	// Given back: receivable again long before its one-minute visibility.
	msgs := receiveWithin(t, b.ctx, b.q.URL, 30*time.Second)
	if len(msgs) != 1 || aws.ToString(msgs[0].MessageId) != id {
		t.Fatalf("message not given back (got %d messages)", len(msgs))
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
		procConfig{Job: "tick", Visibility: time.Minute, CleanupTimeout: 10 * time.Second})
	p.signal(t, syscall.SIGTERM)
	assertDiedBy(t, p, syscall.SIGTERM, time.Minute)
	m := dlqMessages(t, b, 1)["tick"]
	if !strings.Contains(reasonOf(m), "allows no retries") {
		t.Errorf("DLQ reason %q does not say the queue allows no retries", reasonOf(m))
	}
	if !drained(t, b.ctx, b.q.URL) {
		t.Fatal("the source queue still holds the message")
	}
	if lines := cleanupLines(id); len(lines) != 1 {
		t.Fatalf("cleanup ran %d times, want 1", len(lines))
	}
	assertJobGone(t, id)
}

func TestHungCleanupIsRetriedThenDeadLettered(t *testing.T) {
	t.Parallel()
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
				procConfig{Job: tt.job, Visibility: time.Minute, CleanupTimeout: 2 * time.Second})
			p.signal(t, syscall.SIGTERM)
			// The hung cleanups sleep an hour: only their timeouts end them.
			assertDiedBy(t, p, syscall.SIGTERM, time.Minute)
			lines := cleanupLines(id)
			if len(lines) != 2 || field(lines[0], "running") != "true" || field(lines[1], "attempt") != "2" || field(lines[1], "running") != "false" {
				t.Fatalf("cleanup lines = %q; want a first try on the suspended job and a second after it was killed", lines)
			}
			assertSuspendedDuringCleanup(t, id, lines[0])
			if tt.wantDLQ {
				if m := dlqMessages(t, b, 1)["tick"]; !strings.Contains(reasonOf(m), "cleanup failed") {
					t.Errorf("DLQ reason %q does not name the failed cleanup", reasonOf(m))
				}
				if !drained(t, b.ctx, b.q.URL) {
					t.Fatal("the source queue still holds the message")
				}
			} else if msgs := receiveWithin(t, b.ctx, b.q.URL, 30*time.Second); len(msgs) != 1 {
				t.Fatal("message not given back after the second cleanup succeeded")
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
	cfg.Route = sqsdispatch.RouteByAttribute("job")
	cfg.StopSignals = []os.Signal{}
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	done := runAsync(ctx, b.dispatcher(cfg))

	child := readPID(t, tick, "pid")
	if err := syscall.Kill(child, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The next message runs; the killed one comes back too and completes.
	next := b.send("next", map[string]types.MessageAttributeValue{"job": strAttr("record")})
	for _, id := range []string{next, tick} {
		waitFor(t, time.Minute, "message "+id+" to be processed", func() bool { return fileSize(outFile(id, "runs")) > 0 })
	}
	lines := cleanupLines(tick)
	if len(lines) != 1 || field(lines[0], "running") != "false" || field(lines[0], "signal") != "killed" {
		t.Fatalf("cleanup lines = %q; want one cleanup of a job killed by SIGKILL", lines)
	}
	assertDies(t, readPID(t, tick, "grandchild"), "the killed job's grandchild")
	if returned, err := returnedYet(done); returned {
		t.Fatalf("Run returned early: %v", err)
	}
	cancel()
	if err := wait(t, done, time.Minute, "Run to stop"); !errors.Is(err, sqsdispatch.ErrStopped) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v; want ErrStopped wrapping context.Canceled", err)
	}
}

func TestShutdownGraceLetsTheJobFinish(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	gate := filepath.Join(t.TempDir(), "gate")
	body, _ := json.Marshal(params{Until: gate})
	id := b.send(string(body), nil)
	p := startDispatcherProcess(t, procConfig{Queue: b.q.URL, Job: "sleep", Visibility: time.Minute, ShutdownGrace: 5 * time.Minute})
	readPID(t, id, "pid")
	p.signal(t, syscall.SIGTERM)
	waitFor(t, time.Minute, "the dispatcher to start draining", func() bool {
		return strings.Contains(p.output(), "stop signal received")
	})
	if err := os.WriteFile(gate, nil, 0o644); err != nil { // the job finishes during the drain
		t.Fatal(err)
	}
	assertDiedBy(t, p, syscall.SIGTERM, time.Minute)
	if fileSize(outFile(id, "runs")) <= 0 {
		t.Fatal("job did not finish during the shutdown grace")
	}
	if !drained(t, b.ctx, b.q.URL) {
		t.Fatal("the finished job's message was not deleted")
	}
}

func TestSecondSignalInterruptsTheGraceAtOnce(t *testing.T) {
	t.Parallel()
	b, p, id := startTicking(t, fauxqs.QueueSpec{MaxReceiveCount: 5},
		procConfig{Job: "tick", Visibility: time.Minute, CleanupTimeout: 10 * time.Second, ShutdownGrace: 10 * time.Minute})
	p.signal(t, syscall.SIGTERM)
	waitFor(t, time.Minute, "the dispatcher to start draining", func() bool {
		return strings.Contains(p.output(), "stop signal received")
	})
	p.signal(t, syscall.SIGTERM)
	// Far less than the ten-minute grace.
	assertDiedBy(t, p, syscall.SIGTERM, time.Minute)
	if lines := cleanupLines(id); len(lines) != 1 || field(lines[0], "running") != "true" {
		t.Fatalf("cleanup lines = %q; want one cleanup of the suspended job", lines)
	}
	if msgs := receiveWithin(t, b.ctx, b.q.URL, 30*time.Second); len(msgs) != 1 {
		t.Fatal("interrupted message not given back")
	}
	assertJobGone(t, id)
}
