package sqsdispatch_test

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"go.uber.org/zap/zaptest"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

func openGate(t *testing.T, ledger string) {
	t.Helper()
	if err := os.WriteFile(ledger+".go", nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFinishedJobIsNeverInterruptedByAStop: a stop that comes as the job
// finishes must not interrupt it (its cleanup would undo finished work and
// the message would run again). Either the job finished first and its
// message is deleted without a cleanup, or it was still running, is cleaned
// up while suspended, and its message goes back. Many tries, since it is a
// race.
func TestFinishedJobIsNeverInterruptedByAStop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	deleted, interrupted := 0, 0
	for i := range 12 {
		b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
		ledger := filepath.Join(dir, itoa(i))
		b.send(gateMsg(ledger, "m"), nil)
		d := b.dispatcher(b.config("gate"))
		ctx, cancel := context.WithCancel(b.ctx)
		done := make(chan error, 1)
		go func() { _, err := d.DispatchOne(ctx); done <- err }()
		waitFor(t, 60*time.Second, "the job to start", func() bool { return len(ledgerLines(t, ledger, "start")) == 1 })
		openGate(t, ledger)
		// The stop races the job's end; the delay moves the moment it comes
		// across the job's last milliseconds, so both sides of the race occur.
		time.Sleep(time.Duration(i%6) * time.Millisecond)
		cancel()
		err := wait(t, done, 60*time.Second, "DispatchOne")
		cleanups := ledgerLines(t, ledger, "cleanup")
		visible, inflight := counts(t, b.ctx, b.q.URL)
		switch {
		case len(cleanups) == 0 && err == nil:
			deleted++
			if visible+inflight != 0 {
				t.Fatalf("try %d: the job succeeded but its message is still in the queue (%d visible, %d in flight)", i, visible, inflight)
			}
		case len(cleanups) == 1 && errors.Is(err, sqsdispatch.ErrStopped):
			interrupted++
			if !strings.Contains(cleanups[0], "running=true") {
				t.Fatalf("try %d: cleanup ran for a job whose process had already ended: %q", i, cleanups[0])
			}
			if visible+inflight != 1 {
				t.Fatalf("try %d: interrupted message not given back (%d visible, %d in flight)", i, visible, inflight)
			}
		default:
			t.Fatalf("try %d: DispatchOne returned %v with cleanups %q", i, err, cleanups)
		}
	}
	t.Logf("%d deleted, %d interrupted", deleted, interrupted)
}

// TestNotifyContextSignalIsOneStop: with signal.NotifyContext in main, one
// SIGTERM both ends the context and reaches the dispatcher. That is one
// stop: the drain (ShutdownGrace) must be honoured.
func TestNotifyContextSignalIsOneStop(t *testing.T) {
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	ledger := filepath.Join(t.TempDir(), "ledger")
	b.send(gateMsg(ledger, "m"), nil)
	ctx, stop := signal.NotifyContext(b.ctx, syscall.SIGUSR2)
	defer stop()
	cfg := b.config("gate")
	cfg.StopSignals, cfg.ShutdownGrace = []os.Signal{syscall.SIGUSR2}, time.Minute
	d := b.dispatcher(cfg)
	done := runAsync(ctx, d)
	waitFor(t, 60*time.Second, "the job to start", func() bool { return len(ledgerLines(t, ledger, "start")) == 1 })
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the dispatcher to stop receiving", func() bool { return d.Status().State == sqsdispatch.StateStopping })
	// Were it taken for a second stop, the job would be suspended and
	// cleaned up at once; watch for that for a while.
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if c := ledgerLines(t, ledger, "cleanup"); len(c) > 0 {
			t.Fatalf("one signal skipped the drain: %q", c)
		}
		time.Sleep(20 * time.Millisecond) // observing a window, not synchronising
	}
	openGate(t, ledger)
	err := wait(t, done, 60*time.Second, "Run")
	var se *sqsdispatch.StoppedError
	if !errors.As(err, &se) || se.Signal != syscall.SIGUSR2 {
		t.Fatalf("Run returned %v, want a StoppedError naming SIGUSR2", err)
	}
	if len(ledgerLines(t, ledger, "done")) != 1 {
		t.Fatal("the job did not finish within the drain")
	}
	if v, f := counts(t, b.ctx, b.q.URL); v+f != 0 {
		t.Fatalf("finished message not deleted (%d visible, %d in flight)", v, f)
	}
}

// TestSecondSignalDuringCleanupSkipsTheRetry: a second stop signal that
// arrives while the first cleanup runs means no second cleanup.
func TestSecondSignalDuringCleanupSkipsTheRetry(t *testing.T) {
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	ledger := filepath.Join(t.TempDir(), "ledger")
	id := b.send(gateMsg(ledger, "m"), nil)
	cfg := b.config("gate-hung-cleanup")
	cfg.StopSignals, cfg.CleanupTimeout = []os.Signal{syscall.SIGUSR2}, 3*time.Second
	d := b.dispatcher(cfg)
	done := runAsync(b.ctx, d)
	waitFor(t, 60*time.Second, "the job to start", func() bool { return len(ledgerLines(t, ledger, "start")) == 1 })
	_ = syscall.Kill(os.Getpid(), syscall.SIGUSR2)
	waitFor(t, 60*time.Second, "the first cleanup", func() bool { return len(ledgerLines(t, ledger, "cleanup")) == 1 })
	_ = syscall.Kill(os.Getpid(), syscall.SIGUSR2)
	err := wait(t, done, 60*time.Second, "Run")
	if !errors.Is(err, sqsdispatch.ErrStopped) {
		t.Fatalf("Run returned %v", err)
	}
	if c := ledgerLines(t, ledger, "cleanup"); len(c) != 1 {
		t.Fatalf("cleanups %q: the second signal must skip the retry", c)
	}
	msgs := receiveWithin(t, b.ctx, b.q.DLQURL, 10*time.Second)
	if len(msgs) != 1 || aws.ToString(msgs[0].MessageId) == "" || !strings.Contains(aws.ToString(msgs[0].MessageAttributes[sqsdispatch.AttrReason].StringValue), "cleanup failed") {
		t.Fatalf("message %s not dead-lettered with the cleanup failure: %v", id, msgs)
	}
}

// TestStopBeforeStartGivesBackWithoutAChild: FIFO messages queued behind
// their group when the stop comes go back at once, without a child. It runs
// on the in-memory queue only: the local server hands out one message of a
// group per receive, so on it no message is ever queued behind its group.
func TestStopBeforeStartGivesBackWithoutAChild(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memFIFOQueue(t)
	ledger := filepath.Join(t.TempDir(), "ledger")
	sendGroup(t, ctx, mem, url, ledger, "1", "2", "3")
	runCtx, cancel := context.WithCancel(ctx)
	done := runAsync(runCtx, memDispatcher(t, mem, url, "gate"))
	waitFor(t, 60*time.Second, "the first job to start", func() bool { return len(ledgerLines(t, ledger, "start")) == 1 })
	cancel()
	if err := wait(t, done, 60*time.Second, "Run"); !errors.Is(err, sqsdispatch.ErrStopped) {
		t.Fatalf("Run returned %v", err)
	}
	if starts := ledgerLines(t, ledger, "start"); len(starts) != 1 {
		t.Fatalf("jobs started after the stop: %q", starts)
	}
	// A child started after the stop would have been interrupted at once,
	// with a cleanup of its own.
	if c := ledgerLines(t, ledger, "cleanup"); len(c) != 1 || !strings.HasPrefix(c[0], "cleanup 1 ") {
		t.Fatalf("cleanups %q, want only the running job's", c)
	}
	// Given back: visible at once, or once the receive the stop cut short
	// can no longer take them.
	waitFor(t, 30*time.Second, "all 3 messages to be visible again", func() bool { v, f := mem.Counts(url); return v == 3 && f == 0 })
}

// memFIFOQueue returns an in-memory SQS with one FIFO queue.
func memFIFOQueue(t *testing.T) (context.Context, *sqsdispatchtest.Client, string) {
	t.Helper()
	return memQueue(t, "order.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
}

// memQueue returns a context for the test, an in-memory SQS of its own
// and the URL of one queue created there with attrs.
func memQueue(t *testing.T, name string, attrs map[string]string) (context.Context, *sqsdispatchtest.Client, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	mem := sqsdispatchtest.NewClient()
	q, err := mem.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return ctx, mem, aws.ToString(q.QueueUrl)
}

// sendGroup sends one gate message per tag to url, all in group "g".
func sendGroup(t *testing.T, ctx context.Context, mem *sqsdispatchtest.Client, url, ledger string, tags ...string) {
	t.Helper()
	for _, tag := range tags {
		if _, err := mem.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url),
			MessageBody: aws.String(gateMsg(ledger, tag)), MessageGroupId: aws.String("g")}); err != nil {
			t.Fatal(err)
		}
	}
}

// memDispatcher is a dispatcher with three slots on an in-memory queue.
func memDispatcher(t *testing.T, mem *sqsdispatchtest.Client, url, job string) *sqsdispatch.Dispatcher {
	t.Helper()
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: mem, QueueURL: url, Registry: testRegistry(),
		Job: job, Concurrency: 3, WaitTime: time.Second, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestFIFOGroupWaitsForARetriedMessage: when a message of a group fails,
// the messages received with it behind it must not run before its
// redelivery. The in-memory queue hands out a group's messages in one
// receive, as SQS does; the local server hands out one per receive, which
// would not put any message behind the failed one, so this test runs on
// the in-memory queue only.
func TestFIFOGroupWaitsForARetriedMessage(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memFIFOQueue(t)
	ledger := filepath.Join(t.TempDir(), "ledger")
	sendGroup(t, ctx, mem, url, ledger, "1", "2", "3")
	d := memDispatcher(t, mem, url, "step")
	runCtx, stop := context.WithCancel(ctx)
	done := runAsync(runCtx, d)
	waitFor(t, 90*time.Second, "the group to be done", func() bool { return len(ledgerLines(t, ledger, "run 3")) == 1 })
	stop()
	wait(t, done, 60*time.Second, "Run")
	var order []string
	for _, l := range ledgerLines(t, ledger, "run") {
		order = append(order, strings.Fields(l)[1])
	}
	if strings.Join(order, "") != "1123" {
		t.Fatalf("runs in order %v, want 1 (failed), 1 (again), 2, 3", order)
	}
}

// TestFatalErrorInterruptsRunningJobs: when the queue disappears, Run
// returns the error without waiting for running jobs to end by themselves.
func TestFatalErrorInterruptsRunningJobs(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{})
	ledger := filepath.Join(t.TempDir(), "ledger")
	b.send(gateMsg(ledger, "m"), nil)
	cfg := b.config("gate")
	// A free slot keeps receiving; the long lease outlasts the wait below,
	// so only the fatal error can end Run in time.
	cfg.Concurrency, cfg.VisibilityTimeout = 2, 10*time.Minute
	done := runAsync(b.ctx, b.dispatcher(cfg))
	waitFor(t, 60*time.Second, "the job to start", func() bool { return len(ledgerLines(t, ledger, "start")) == 1 })
	if _, err := client.DeleteQueue(b.ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(b.q.URL)}); err != nil {
		t.Fatal(err)
	}
	err := wait(t, done, 90*time.Second, "Run to return while the job still runs")
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Run returned %v, want the missing queue", err)
	}
	if len(ledgerLines(t, ledger, "done")) != 0 {
		t.Fatal("the job was not interrupted")
	}
}

// hangingDelete makes the deletes hang until their context ends.
type hangingDelete struct{ sqsdispatch.Client }

func (h hangingDelete) DeleteMessageBatch(ctx context.Context, _ *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestOutcomeCallsHaveADeadline: an SQS call made for an outcome that
// hangs is cut off (at the lease's deadline, or a few seconds), so one hung
// call cannot pin a slot for ever.
func TestOutcomeCallsHaveADeadline(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{})
	b.send("x", nil)
	cfg := b.config("noop")
	cfg.Client, cfg.VisibilityTimeout = hangingDelete{client}, 2*time.Second
	done := make(chan error, 1)
	go func() { _, err := b.dispatcher(cfg).DispatchOne(b.ctx); done <- err }()
	err := wait(t, done, 60*time.Second, "DispatchOne with a hung delete")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("DispatchOne returned %v, want the delete cut off by its deadline", err)
	}
}

// TestUnroutableFIFOMessageIsNotHeldForEver: a FIFO message that cannot be
// routed, on a queue without a dead-letter queue, is left where it is —
// and not kept invisible by heartbeats, which would block its group.
func TestUnroutableFIFOMessageIsNotHeldForEver(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memFIFOQueue(t)
	if _, err := mem.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url),
		MessageBody: aws.String("no route"), MessageGroupId: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: mem, QueueURL: url, Registry: testRegistry(),
		Route: sqsdispatch.RouteByAttribute("job"), Concurrency: 2, WaitTime: time.Second,
		VisibilityTimeout: 2 * time.Second, HeartbeatInterval: 500 * time.Millisecond, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := runAsync(runCtx, d)
	waitFor(t, 60*time.Second, "the message to be received again", func() bool {
		msgs := mem.Messages(url)
		return len(msgs) == 1 && msgs[0].ReceiveCount >= 2
	})
	stop()
	wait(t, done, 60*time.Second, "Run")
}

// TestNoCleanupWithoutALease: when the message's visibility cannot be
// extended to cover the cleanup, another consumer may take the message
// while the cleanup would run, so the cleanup does not run: the job is
// killed and the message left to its visibility.
func TestNoCleanupWithoutALease(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memFIFOQueue(t)
	ledger := filepath.Join(t.TempDir(), "ledger")
	sendGroup(t, ctx, mem, url, ledger, "1")
	mem.Intercept(func(_ context.Context, op string, _ any) error {
		if op == "ChangeMessageVisibility" {
			return errors.New("connection reset")
		}
		return nil
	})
	runCtx, cancel := context.WithCancel(ctx)
	done := runAsync(runCtx, memDispatcher(t, mem, url, "gate"))
	waitFor(t, 60*time.Second, "the job to start", func() bool { return len(ledgerLines(t, ledger, "start")) == 1 })
	cancel()
	wait(t, done, 60*time.Second, "Run")
	if c := ledgerLines(t, ledger, "cleanup"); len(c) != 0 {
		t.Fatalf("cleanup ran without a lease: %q", c)
	}
	if v, f := mem.Counts(url); v+f != 1 {
		t.Fatalf("%d visible + %d in flight; the message must be left in the queue", v, f)
	}
}

// TestReceiveAsksForEveryIdleSlot: with several idle slots one receive
// asks for as many messages (at most ten), not one per call.
func TestReceiveAsksForEveryIdleSlot(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memFIFOQueue(t)
	var most atomic.Int32
	mem.Intercept(func(_ context.Context, op string, in any) error {
		if r, ok := in.(*sqs.ReceiveMessageInput); ok && op == "ReceiveMessage" && r.MaxNumberOfMessages > most.Load() {
			most.Store(r.MaxNumberOfMessages)
		}
		return nil
	})
	runCtx, cancel := context.WithCancel(ctx)
	done := runAsync(runCtx, memDispatcher(t, mem, url, "noop"))
	waitFor(t, 30*time.Second, "a receive", func() bool { return most.Load() > 0 })
	cancel()
	wait(t, done, 60*time.Second, "Run")
	if got := most.Load(); got != 3 {
		t.Fatalf("receives asked for at most %d messages with 3 idle slots", got)
	}
}
