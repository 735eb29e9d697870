package sqsdispatch_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// faultyReceive fails every receive with a throttling error until
// failUntil, recording when each call came, and then passes calls through.
type faultyReceive struct {
	sqsdispatch.Client
	failUntil time.Time

	mu    sync.Mutex
	calls []time.Time
}

func (f *faultyReceive) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	now := time.Now()
	if now.Before(f.failUntil) {
		f.mu.Lock()
		f.calls = append(f.calls, now)
		f.mu.Unlock()
		return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	}
	return f.Client.ReceiveMessage(ctx, in, opts...)
}

func (f *faultyReceive) failures() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.calls...)
}

func TestReceiveErrorsAreRiddenOutWithGrowingDelays(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	id := b.send("x", nil)
	fc := &faultyReceive{Client: client, failUntil: time.Now().Add(30 * time.Second)}
	cfg := b.config("record")
	cfg.Client = fc
	runUntil(t, b.dispatcher(cfg), "the message to run after the outage", func() bool {
		return fileSize(outFile(id, "runs")) > 0
	})
	calls := fc.failures()
	if len(calls) < 5 || len(calls) > 40 {
		t.Fatalf("%d failing receives in 30 s; want exponential back-off, not a tight loop nor a stall", len(calls))
	}
	first, last := calls[1].Sub(calls[0]), calls[len(calls)-1].Sub(calls[len(calls)-2])
	if first > time.Second || last < 2*time.Second {
		t.Fatalf("delays did not grow: first %s, last %s", first, last)
	}
}

func TestReceiveErrorsPastGiveUpAfterEndRun(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	cfg := b.config("record")
	cfg.Client = &faultyReceive{Client: client, failUntil: time.Now().Add(time.Hour)}
	cfg.GiveUpAfter = 2 * time.Second
	start := time.Now()
	err := b.dispatcher(cfg).Run(b.ctx)
	if err == nil || !strings.Contains(err.Error(), "giving up after 2s") || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Fatalf("Run = %v; want it to give up with the throttling error", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("Run gave up only after %s", took)
	}
}

func TestMissingQueueFailsAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{})
	cfg := b.config("record")
	cfg.QueueURL = strings.TrimSuffix(b.q.URL, "/"+lastPathElem(b.q.URL)) + "/no-such-queue"
	start := time.Now()
	err := b.dispatcher(cfg).Run(b.ctx)
	var de *sqsdispatch.DispatcherError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "the queue does not exist") {
		t.Fatalf("Run = %v; want a *DispatcherError saying the queue does not exist", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Run took %s to fail", took)
	}
}

func lastPathElem(u string) string { return u[strings.LastIndexByte(u, '/')+1:] }

// doomedHeartbeat fails the heartbeat entries of messages whose body is
// "doomed" and passes the rest through.
type doomedHeartbeat struct {
	sqsdispatch.Client
	mu     sync.Mutex
	doomed map[string]bool // receipt handles
}

func (d *doomedHeartbeat) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	out, err := d.Client.ReceiveMessage(ctx, in, opts...)
	if err == nil {
		d.mu.Lock()
		for _, m := range out.Messages {
			if strings.Contains(aws.ToString(m.Body), "doomed") {
				d.doomed[aws.ToString(m.ReceiptHandle)] = true
			}
		}
		d.mu.Unlock()
	}
	return out, err
}

func (d *doomedHeartbeat) ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	pass := *in
	pass.Entries = nil
	var failed []types.BatchResultErrorEntry
	d.mu.Lock()
	for _, e := range in.Entries {
		if d.doomed[aws.ToString(e.ReceiptHandle)] {
			failed = append(failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("ReceiptHandleIsInvalid"), SenderFault: true,
				Message: aws.String("The input receipt handle is invalid.")})
		} else {
			pass.Entries = append(pass.Entries, e)
		}
	}
	d.mu.Unlock()
	out := &sqs.ChangeMessageVisibilityBatchOutput{}
	if len(pass.Entries) > 0 {
		real, err := d.Client.ChangeMessageVisibilityBatch(ctx, &pass, opts...)
		if err != nil {
			return nil, err
		}
		out = real
	}
	out.Failed = append(out.Failed, failed...)
	return out, nil
}

func TestHeartbeatBatchFailureStopsOnlyItsOwnChild(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	doomed := b.send(`{"sleep": 2000000000, "note": "doomed"}`, nil)
	healthy := b.send(`{"sleep": 2000000000}`, nil)
	cfg := b.config("sleep")
	cfg.Client = &doomedHeartbeat{Client: client, doomed: map[string]bool{}}
	cfg.Concurrency = 2
	cfg.VisibilityTimeout, cfg.HeartbeatInterval = 10*time.Second, 200*time.Millisecond
	runUntil(t, b.dispatcher(cfg), "the healthy job to finish", func() bool {
		return fileSize(outFile(healthy, "runs")) > 0
	})
	if pid := readPID(t, doomed, "pid", time.Second); exists(pid) {
		t.Errorf("the doomed job's process %d still exists", pid)
	}
	if _, err := os.Stat(outFile(doomed, "runs")); err == nil {
		t.Error("the doomed job ran to completion although its lease was lost")
	}
}

func TestStartupChecksRefuseWorkLosingQueues(t *testing.T) {
	t.Parallel()
	t.Run("RequireDLQ without a redrive policy", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fauxqs.QueueSpec{})
		cfg := b.config("record")
		cfg.RequireDLQ = true
		if err := b.dispatcher(cfg).Run(b.ctx); !errors.Is(err, sqsdispatch.ErrQueueConfig) || !strings.Contains(err.Error(), "RequireDLQ") {
			t.Fatalf("Run = %v; want ErrQueueConfig naming RequireDLQ", err)
		}
	})
	t.Run("redrive policy names a missing DLQ", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
		if _, err := client.DeleteQueue(b.ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(b.q.DLQURL)}); err != nil {
			t.Fatal(err)
		}
		err := b.dispatcher(b.config("record")).Run(b.ctx)
		if !errors.Is(err, sqsdispatch.ErrQueueConfig) || !strings.Contains(err.Error(), "dead-letter queue") {
			t.Fatalf("Run = %v; want ErrQueueConfig about the dead-letter queue", err)
		}
	})
}

// gatedDelete holds every DeleteMessage until open is closed.
type gatedDelete struct {
	sqsdispatch.Client
	open    chan struct{}
	waiting chan struct{} // closed when the first delete waits
	once    sync.Once
}

func (g *gatedDelete) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	g.once.Do(func() { close(g.waiting) })
	<-g.open
	return g.Client.DeleteMessage(ctx, in, opts...)
}

func TestSlotTakesTheNextMessageWhileADeleteIsPending(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	first, second := b.send("1", nil), b.send("2", nil)
	gc := &gatedDelete{Client: client, open: make(chan struct{}), waiting: make(chan struct{})}
	cfg := b.config("record")
	cfg.Client, cfg.MaxJobs = gc, 2
	d := b.dispatcher(cfg)
	done := make(chan error, 1)
	go func() { done <- d.Run(b.ctx) }()

	waitFor(t, 30*time.Second, "both jobs to run while the first delete is held", func() bool {
		return fileSize(outFile(first, "runs")) > 0 && fileSize(outFile(second, "runs")) > 0
	})
	if !isDone(gc.waiting) {
		t.Fatal("both jobs ran but no delete was attempted")
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned %v with a delete still pending", err)
	default:
	}
	close(gc.open)
	if err := <-done; !errors.Is(err, sqsdispatch.ErrRetired) {
		t.Fatalf("Run = %v; want ErrRetired", err)
	}
	if v, f := counts(t, b.ctx, b.q.URL); v+f != 0 {
		t.Fatalf("%d visible and %d in-flight messages left; both should be deleted", v, f)
	}
}
