package sqsdispatch_test

// The lease: heartbeats keep a running job's message from other
// consumers, and a lost lease stops the job.

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
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

func TestHeartbeatKeepsALongJobsMessageFromOtherConsumers(t *testing.T) {
	t.Parallel()
	forEachBackend(t, fauxqs.QueueSpec{}, func(t *testing.T, b *bundle) {
		id := b.send(`{"sleep": 7000000000}`, nil) // more than twice the visibility timeout
		cfg := b.config("sleep")
		cfg.VisibilityTimeout = 3 * time.Second
		d := b.dispatcher(cfg)

		type result struct {
			handled bool
			err     error
		}
		done := make(chan result, 1)
		go func() {
			h, err := d.DispatchOne(b.ctx)
			done <- result{h, err}
		}()
		readPID(t, id, "pid") // the job runs: now try to steal its message
		var res result
		for polling := true; polling; {
			for _, m := range receive(t, b.ctx, b.q.URL, 1) {
				t.Errorf("second consumer received message %s while its job ran", aws.ToString(m.MessageId))
			}
			select {
			case res = <-done:
				polling = false
			default:
			}
		}
		if res.err != nil || !res.handled {
			t.Fatalf("DispatchOne = %v, %v; want true, nil", res.handled, res.err)
		}
		if _, err := os.Stat(outFile(id, "runs")); err != nil {
			t.Fatalf("job did not complete: %v", err)
		}
		if !drained(t, b.ctx, b.q.URL) {
			t.Fatal("message left in the queue after its job succeeded")
		}
	})
}

// lostLease is a client whose heartbeats find the receipt handle invalid.
// lostLease rejects every heartbeat once the file after exists (the job
// has recorded its pids), and passes them through before.
type lostLease struct {
	sqsdispatch.Client
	after string
}

func (l lostLease) ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	if _, err := os.Stat(l.after); err != nil {
		return l.Client.ChangeMessageVisibilityBatch(ctx, in, opts...)
	}
	out := &sqs.ChangeMessageVisibilityBatchOutput{}
	for _, e := range in.Entries {
		out.Failed = append(out.Failed, invalidReceipt(e.Id))
	}
	return out, nil
}

func invalidReceipt(id *string) types.BatchResultErrorEntry {
	return types.BatchResultErrorEntry{Id: id, Code: aws.String("ReceiptHandleIsInvalid"),
		Message: aws.String("The input receipt handle is invalid."), SenderFault: true}
}

func TestLostLeaseStopsTheChild(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{})
	id := b.send(`{"sleep": 600000000000}`, nil)
	cfg := b.config("grandchild")
	cfg.Client = lostLease{client, outFile(id, "pid")} // written after the grandchild file
	cfg.VisibilityTimeout, cfg.HeartbeatInterval = 30*time.Second, 200*time.Millisecond
	// The job would sleep ten minutes: only the lost lease ends it in time.
	done := make(chan error, 1)
	go func() { _, err := b.dispatcher(cfg).DispatchOne(b.ctx); done <- err }()
	err := wait(t, done, time.Minute, "DispatchOne to stop the job")
	var de *sqsdispatch.DispatcherError
	if !errors.As(err, &de) || !errors.Is(err, sqsdispatch.ErrLeaseLost) {
		t.Fatalf("err = %v; want a *DispatcherError wrapping ErrLeaseLost", err)
	}
	if pid := readPID(t, id, "pid"); exists(pid) {
		t.Errorf("the job's process %d still exists after the lease was lost", pid)
	}
	assertDies(t, readPID(t, id, "grandchild"), "the job's grandchild, after the lease was lost,")
}

// doomedHeartbeat fails the heartbeat entries of messages whose body
// mentions "doomed" and passes the rest through.
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
			failed = append(failed, invalidReceipt(e.Id))
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

// TestHeartbeatBatchFailureStopsOnlyItsOwnChild: when one entry of a
// heartbeat batch fails, only that message's job is stopped; the other
// job in the batch runs to success.
func TestHeartbeatBatchFailureStopsOnlyItsOwnChild(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	doomed := b.send(`{"sleep": 600000000000, "note": "doomed"}`, nil)
	healthy := b.send(`{"sleep": 2000000000}`, nil)
	core, logs := observer.New(zapcore.InfoLevel)
	cfg := b.config("sleep")
	cfg.Client = &doomedHeartbeat{Client: client, doomed: map[string]bool{}}
	cfg.Concurrency, cfg.Logger = 2, zap.New(core)
	cfg.VisibilityTimeout, cfg.HeartbeatInterval = 30*time.Second, 200*time.Millisecond
	outcome := func(id string) any {
		for _, e := range logs.FilterField(zap.String("message_id", id)).All() {
			if o, ok := e.ContextMap()["outcome"]; ok {
				return o
			}
		}
		return nil
	}
	// The doomed job would sleep ten minutes: only its lost lease ends it
	// in time.
	runUntil(t, b.dispatcher(cfg), "both messages' outcomes", func() bool {
		return outcome(doomed) != nil && outcome(healthy) != nil
	})
	if o := outcome(healthy); o != sqsdispatch.OutcomeSuccess || fileSize(outFile(healthy, "runs")) <= 0 {
		t.Errorf("the healthy job's outcome is %v; want it to run to success", o)
	}
	if o := outcome(doomed); o != sqsdispatch.OutcomeLeaseLost {
		t.Errorf("the doomed job's outcome is %v; want %s", o, sqsdispatch.OutcomeLeaseLost)
	}
	if fileSize(outFile(doomed, "runs")) >= 0 {
		t.Error("the doomed job ran to completion although its lease was lost")
	}
	if fileSize(outFile(doomed, "pid")) > 0 { // it may have been stopped before it wrote it
		if pid := readPID(t, doomed, "pid"); exists(pid) {
			t.Errorf("the doomed job's process %d still exists", pid)
		}
	}
}
