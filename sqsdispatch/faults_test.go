package sqsdispatch_test

// SQS faults: failing receives are ridden out with back-off and reported
// in Status; fatal errors and work-losing queue configurations end Run at
// once.

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// throttled is the error a failing receive returns.
var throttled = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}

// flakyReceive fails the first `fail` receives with a throttling error
// (fail < 0: every receive) and passes the later ones through. Before the
// first receive it lets through, it records the dispatcher's Status: what
// the dispatcher reported while receives failed.
type flakyReceive struct {
	sqsdispatch.Client
	fail int
	d    func() *sqsdispatch.Dispatcher // the dispatcher whose Status to record

	mu         sync.Mutex
	calls      int
	whileFault sqsdispatch.Status
}

func (f *flakyReceive) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	if n == f.fail+1 && f.d != nil {
		f.whileFault = f.d().Status()
	}
	f.mu.Unlock()
	if f.fail < 0 || n <= f.fail {
		return nil, throttled
	}
	return f.Client.ReceiveMessage(ctx, in, opts...)
}

// TestReceiveErrorsAreRiddenOut: three failing receives are retried with
// back-off, Status reports them meanwhile, and the message is processed
// once receives work again.
func TestReceiveErrorsAreRiddenOut(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	id := b.send("x", nil)
	var d *sqsdispatch.Dispatcher
	fc := &flakyReceive{Client: client, fail: 3, d: func() *sqsdispatch.Dispatcher { return d }}
	cfg := b.config("record")
	cfg.Client = fc
	d = b.dispatcher(cfg)
	runUntil(t, d, "the message to run after the failures", func() bool { return fileSize(outFile(id, "runs")) > 0 })

	fc.mu.Lock()
	st, calls := fc.whileFault, fc.calls
	fc.mu.Unlock()
	if calls < 4 {
		t.Fatalf("%d receives; want the 3 failures and a working one", calls)
	}
	if st.State != sqsdispatch.StateBackingOff || !strings.Contains(st.LastError, "ThrottlingException") || st.LastErrorAt.IsZero() {
		t.Fatalf("Status while receives failed = %+v; want %q with the throttling error", st, sqsdispatch.StateBackingOff)
	}
	if st = d.Status(); st.LastError != "" || st.LastReceive.IsZero() {
		t.Fatalf("Status after receives recovered = %+v; want the error cleared and a last receive", st)
	}
}

func TestReceiveErrorsPastGiveUpAfterEndRun(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	cfg := b.config("record")
	cfg.Client = &flakyReceive{Client: client, fail: -1}
	cfg.GiveUpAfter = 2 * time.Second
	done := runAsync(b.ctx, b.dispatcher(cfg))
	err := wait(t, done, time.Minute, "Run to give up")
	if err == nil || !strings.Contains(err.Error(), "giving up after 2s") || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Fatalf("Run = %v; want it to give up with the throttling error", err)
	}
}

func TestMissingQueueFailsAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{})
	cfg := b.config("record")
	cfg.QueueURL = b.q.URL[:strings.LastIndexByte(b.q.URL, '/')] + "/no-such-queue"
	cfg.GiveUpAfter = time.Hour // failing at once is not giving up
	done := runAsync(b.ctx, b.dispatcher(cfg))
	err := wait(t, done, time.Minute, "Run to fail")
	var de *sqsdispatch.DispatcherError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "the queue does not exist") {
		t.Fatalf("Run = %v; want a *DispatcherError saying the queue does not exist", err)
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
