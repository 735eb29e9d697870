package sqsdispatch_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// The 12-hour limit is shortened to ageLimit, and jobs are interrupted
// ageMargin before it: 4 s after each receive.
const (
	ageLimit  = 16 * time.Second
	ageMargin = 12 * time.Second
)

// ageLimitConfig is a Config for the bundle's queue with the limit
// shortened.
func ageLimitConfig(b *bundle) sqsdispatch.Config {
	cfg := b.config("units")
	cfg.VisibilityTimeout, cfg.HeartbeatInterval = 4*time.Second, time.Second
	cfg.CleanupTimeout, cfg.KillGrace = time.Second, time.Second
	sqsdispatch.SetAgeLimit(&cfg, ageLimit, ageMargin)
	return cfg
}

// TestCheckpointedJobOutrunsTheAgeLimit runs a job that checkpoints for
// longer than the limit: it is continued before each message's limit and
// finishes, every unit done once.
func TestCheckpointedJobOutrunsTheAgeLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 20})
	dir := t.TempDir()
	events := filepath.Join(dir, "events")
	const units = 22
	b.send(unitsMsg(dir, units, 800*time.Millisecond, true), nil)
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	done := runAsync(ctx, b.dispatcher(ageLimitConfig(b)))
	waitFor(t, 2*time.Minute, "the job to finish", func() bool { return len(withPrefix(t, events, "done")) > 0 })
	waitFor(t, time.Minute, "the queue to drain", func() bool { return drained(t, b.ctx, b.q.URL) })
	cancel()
	_ = wait(t, done, time.Minute, "Run")

	assertUnitsOnce(t, dir, units)
	starts := withPrefix(t, events, "start")
	if len(starts) < 3 {
		t.Fatalf("runs = %v; want the job continued at least twice", starts)
	}
	first, finished := eventField(starts[0], "first"), eventField(withPrefix(t, events, "done")[0], "at")
	if ran := time.Duration(finished-first) * time.Millisecond; ran <= ageLimit {
		t.Errorf("the work ran %s from its first receive; want past the %s limit", ran, ageLimit)
	}
	for _, c := range withPrefix(t, events, "cleanup") {
		if !strings.HasSuffix(c, "checkpoint=true") {
			t.Errorf("cleanup %q was told of no checkpoint", c)
		}
	}
	if !drained(t, b.ctx, b.q.DLQURL) {
		t.Error("the dead-letter queue is not empty")
	}
}

// TestJobWithoutCheckpointStopsAtTheAgeLimit: a job that never
// checkpoints is stopped before its message's limit, with ErrAgeLimit,
// its Cleanup told there is no checkpoint; its message comes back only
// after it is gone, and its next run never overlaps it.
func TestJobWithoutCheckpointStopsAtTheAgeLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	dir := t.TempDir()
	events := filepath.Join(dir, "events")
	b.send(unitsMsg(dir, 1000, 100*time.Millisecond, false), nil)
	d := b.dispatcher(ageLimitConfig(b))
	for run := 1; run <= 2; run++ {
		err := dispatchNext(t, b.ctx, d, time.Minute)
		var de *sqsdispatch.DispatcherError
		if !errors.As(err, &de) || !errors.Is(err, sqsdispatch.ErrAgeLimit) {
			t.Fatalf("run %d: DispatchOne = %v; want a *DispatcherError wrapping ErrAgeLimit", run, err)
		}
		cleanups := withPrefix(t, events, "cleanup")
		if len(cleanups) != run || cleanups[run-1] != "cleanup_keep=0_checkpoint=false" {
			t.Fatalf("run %d: cleanups = %v; want one per run, told of no checkpoint", run, cleanups)
		}
		if l := lines(t, filepath.Join(dir, "ledger")); len(l) != 0 {
			t.Errorf("run %d: the ledger holds %v after the cleanup", run, l)
		}
	}
	assertUnitsOnce(t, dir, 0)
	if starts := withPrefix(t, events, "start"); len(starts) != 2 || eventField(starts[1], "runs") != 2 {
		t.Errorf("runs = %v; want 2, the second a redelivery", starts)
	}
}

// dispatchNext calls DispatchOne until it handles a message, for up to
// within, and returns the message's outcome.
func dispatchNext(t *testing.T, ctx context.Context, d *sqsdispatch.Dispatcher, within time.Duration) error {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if handled, err := d.DispatchOne(ctx); handled {
			return err
		}
	}
	t.Fatalf("no message handled within %s", within)
	return nil
}
