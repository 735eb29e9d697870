package sqsdispatch_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"go.uber.org/zap/zaptest"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// The 12-hour limit is shortened to ageLimit, and jobs are interrupted
// ageMargin before it: 4 s after each receive. The margin leaves what the
// dispatcher needs after that: two cleanups of CleanupTimeout plus 5 s, a
// second's kill grace, the 10 s margin every visibility keeps from the
// limit, and hideMin to continue a message.
const (
	ageLimit  = 30 * time.Second
	ageMargin = 26 * time.Second
	hideMin   = 3 * time.Second
)

// ageLimitConfig is a Config for the bundle's queue with the limit
// shortened.
func ageLimitConfig(b *bundle) sqsdispatch.Config {
	cfg := b.config("units")
	cfg.VisibilityTimeout, cfg.HeartbeatInterval = 4*time.Second, time.Second
	cfg.CleanupTimeout, cfg.KillGrace = time.Second, time.Second
	sqsdispatch.SetAgeLimit(&cfg, ageLimit, ageMargin, hideMin)
	return cfg
}

// TestCheckpointedJobOutrunsTheAgeLimit runs a job that checkpoints every
// second for longer than the limit: it is continued before each message's
// limit, and finishes with every unit done once.
func TestCheckpointedJobOutrunsTheAgeLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 20})
	dir := t.TempDir()
	events := filepath.Join(dir, "events")
	const units = 32
	b.send(unitsMsg(dir, units, time.Second, true), nil)
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	done := runAsync(ctx, b.dispatcher(ageLimitConfig(b)))
	waitFor(t, 3*time.Minute, "the job to finish", func() bool { return len(withPrefix(t, events, "done")) > 0 })
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
// checkpoints is stopped before its message's limit with ErrAgeLimit, its
// Cleanup told there is no checkpoint, and the message is left. Another
// dispatcher polling the queue all along gets the message only after the
// job is gone.
func TestJobWithoutCheckpointStopsAtTheAgeLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	dir := t.TempDir()
	events := filepath.Join(dir, "events")
	b.send(unitsMsg(dir, 1000, 100*time.Millisecond, false), nil)
	first := make(chan error, 1)
	d := b.dispatcher(ageLimitConfig(b))
	go func() { first <- dispatchUntil(b.ctx, d) }()
	waitFor(t, time.Minute, "the job to start", func() bool { return len(withPrefix(t, events, "start")) == 1 })
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	other := make(chan error, 1)
	go func() { other <- dispatchUntil(ctx, b.dispatcher(ageLimitConfig(b))) }()
	err := wait(t, first, time.Minute, "the first DispatchOne")
	var de *sqsdispatch.DispatcherError
	if !errors.As(err, &de) || !errors.Is(err, sqsdispatch.ErrAgeLimit) {
		t.Fatalf("DispatchOne = %v; want a *DispatcherError wrapping ErrAgeLimit", err)
	}
	if c := withPrefix(t, events, "cleanup"); len(c) != 1 || c[0] != "cleanup_keep=0_checkpoint=false" {
		t.Fatalf("cleanups = %v; want one, told of no checkpoint", c)
	}
	if l := lines(t, filepath.Join(dir, "ledger")); len(l) != 0 {
		t.Errorf("the ledger holds %v after the cleanup", l)
	}
	if _, inflight := counts(t, b.ctx, b.q.URL); inflight != 1 {
		t.Errorf("%d messages in flight; want the message left to its visibility", inflight)
	}
	waitFor(t, time.Minute, "the message to run again", func() bool { return len(withPrefix(t, events, "start")) == 2 })
	cancel()
	_ = wait(t, other, time.Minute, "the other DispatchOne")
	assertUnitsOnce(t, dir, 0)
	ev := lines(t, events)
	if len(ev) < 3 || !strings.HasPrefix(ev[0], "start") || !strings.HasPrefix(ev[1], "cleanup") ||
		!strings.HasPrefix(ev[2], "start") || eventField(ev[2], "runs") != 2 {
		t.Errorf("events = %v; want the second run, a redelivery, to start after the first was cleaned up", ev)
	}
}

// dispatchUntil calls DispatchOne until it handles a message or ctx ends,
// and returns the message's outcome.
func dispatchUntil(ctx context.Context, d *sqsdispatch.Dispatcher) error {
	for {
		handled, err := d.DispatchOne(ctx)
		if handled || ctx.Err() != nil {
			return err
		}
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

// TestAgeLimitLeavesNoTimeForTheJob: a message received too near its
// limit for its job to run goes back without a child; one whose limit
// leaves too little visibility for a cleanup has its job killed without
// one. Either way nothing of the job runs past the message's visibility.
func TestAgeLimitLeavesNoTimeForTheJob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		maxAge, margin time.Duration
		wantStarts     int
		wantErr        string
	}{
		{name: "no time to start", maxAge: 30 * time.Second, margin: 30 * time.Second, wantStarts: 0},
		{name: "no time for a cleanup", maxAge: 16 * time.Second, margin: 12 * time.Second, wantStarts: 1,
			wantErr: "could not be extended for the cleanup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
			dir := t.TempDir()
			b.send(unitsMsg(dir, 1000, 100*time.Millisecond, false), nil)
			cfg := ageLimitConfig(b)
			sqsdispatch.SetAgeLimit(&cfg, tt.maxAge, tt.margin, hideMin)
			err := dispatchNext(t, b.ctx, b.dispatcher(cfg), time.Minute)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("DispatchOne = %v; want %q", err, tt.wantErr)
			}
			events := filepath.Join(dir, "events")
			if starts := withPrefix(t, events, "start"); len(starts) != tt.wantStarts {
				t.Errorf("runs = %v; want %d", starts, tt.wantStarts)
			}
			if c := withPrefix(t, events, "cleanup"); len(c) != 0 {
				t.Errorf("cleanups = %v; want none", c)
			}
		})
	}
}

// TestContinuationAtTheAgeLimitOutlastsFailedDeletes: at the (shortened)
// 12-hour limit a checkpointing job is continued while SQS refuses the
// original's delete for a while. The delete is retried for as long as
// the original stays hidden, so once it succeeds within the hide, the
// original never comes back beside its copy: the two runs never overlap.
// The first try's deletes fail for longer than a minute, the longest the
// delete was once retried for; the others fail for a few seconds of a
// shorter hide.
func TestContinuationAtTheAgeLimitOutlastsFailedDeletes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		maxAge   time.Duration
		failFor  time.Duration
		deadline time.Duration
	}{
		{name: "deletes fail for 64s of a 75s hide", maxAge: 90 * time.Second, failFor: 64 * time.Second, deadline: 3 * time.Minute},
		{name: "deletes fail for 3s of a 15s hide", maxAge: ageLimit, failFor: 3 * time.Second, deadline: time.Minute},
		{name: "deletes fail for 8s of a 15s hide", maxAge: ageLimit, failFor: 8 * time.Second, deadline: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, mem, url := memQueue(t, "delete-fails", nil)
			dir := t.TempDir()
			events := filepath.Join(dir, "events")
			if _, err := mem.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url),
				MessageBody: aws.String(unitsMsg(dir, 1000, 500*time.Millisecond, true))}); err != nil {
				t.Fatal(err)
			}
			var failing atomic.Int64 // until when deletes fail, in Unix nanoseconds; 0: not yet
			mem.Intercept(func(_ context.Context, op string, _ any) error {
				if op != "DeleteMessage" {
					return nil
				}
				failing.CompareAndSwap(0, time.Now().Add(tt.failFor).UnixNano())
				if time.Now().UnixNano() < failing.Load() {
					return &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: "injected", Fault: smithy.FaultServer}
				}
				return nil
			})
			cfg := sqsdispatch.Config{Client: mem, QueueURL: url, Registry: testRegistry(), Job: "units", Concurrency: 2,
				WaitTime: time.Second, VisibilityTimeout: 4 * time.Second, HeartbeatInterval: time.Second,
				CleanupTimeout: time.Second, KillGrace: time.Second, Logger: zaptest.NewLogger(t)}
			// Interrupted 4 s after each receive; the second slot takes
			// the copy at once, and would take the original should it
			// come back.
			sqsdispatch.SetAgeLimit(&cfg, tt.maxAge, tt.maxAge-4*time.Second, hideMin)
			d, err := sqsdispatch.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			runCtx, stop := context.WithCancel(ctx)
			done := runAsync(runCtx, d)
			waitFor(t, tt.deadline, "the original to be deleted, its copy running", func() bool {
				msgs := mem.Messages(url)
				return failing.Load() != 0 && time.Now().UnixNano() > failing.Load() && len(msgs) == 1 &&
					len(withPrefix(t, events, "start")) >= 2
			})
			stop()
			_ = wait(t, done, time.Minute, "Run")
			if o := withPrefix(t, events, "overlap"); len(o) > 0 {
				t.Fatalf("the original and its copy ran at the same time: %v", lines(t, events))
			}
			ledger := lines(t, filepath.Join(dir, "ledger"))
			if len(slices.Compact(slices.Sorted(slices.Values(ledger)))) != len(ledger) {
				t.Errorf("a unit was done twice: %v", ledger)
			}
		})
	}
}
