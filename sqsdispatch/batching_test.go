package sqsdispatch_test

// Acknowledgements in batch calls: the deletes and visibility changes that
// settle messages share DeleteMessageBatch and ChangeMessageVisibilityBatch
// calls; SQS's answer for each entry is its message's.

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// deleteLog records the receipt handles of every DeleteMessageBatch call.
type deleteLog struct {
	mu    sync.Mutex
	calls [][]string
}

func (l *deleteLog) intercept(_ context.Context, op string, in any) error {
	if op == "DeleteMessageBatch" {
		var rs []string
		for _, e := range in.(*sqs.DeleteMessageBatchInput).Entries {
			rs = append(rs, aws.ToString(e.ReceiptHandle))
		}
		l.mu.Lock()
		l.calls = append(l.calls, rs)
		l.mu.Unlock()
	}
	return nil
}

// sent counts, by receipt handle, the calls that carried it.
func (l *deleteLog) sent() (byReceipt map[string]int, calls [][]string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	byReceipt = map[string]int{}
	for _, c := range l.calls {
		for _, r := range c {
			byReceipt[r]++
		}
	}
	return byReceipt, append([][]string(nil), l.calls...)
}

// runTen runs ten messages of the "sleep" job, which succeed together,
// through a dispatcher of ten slots on mem, until the queue is empty.
func runTen(t *testing.T, ctx context.Context, mem *sqsdispatchtest.Client, url string) {
	t.Helper()
	for range 10 {
		if _, err := mem.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"sleep": 100000000}`)}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: mem, QueueURL: url, Registry: testRegistry(), Job: "sleep",
		Concurrency: 10, WaitTime: time.Second, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	runUntil(t, d, "the queue to empty", func() bool { return len(mem.Messages(url)) == 0 })
}

// TestFailedEntryIsRetriedAloneAndTheOthersSettledOnce: one entry of a
// batch of deletes fails with a server fault: it is sent again alone; the
// others were settled by their first call and never sent again.
func TestFailedEntryIsRetriedAloneAndTheOthersSettledOnce(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memQueue(t, "entry-fails", nil)
	log := &deleteLog{}
	mem.Intercept(log.intercept)
	mem.FailEntry("DeleteMessageBatch", nil, &smithy.GenericAPIError{Code: "InternalError", Message: "injected", Fault: smithy.FaultServer})
	runTen(t, ctx, mem, url)
	byReceipt, calls := log.sent()
	twice := 0
	for r, n := range byReceipt {
		switch n {
		case 1:
		case 2:
			twice++
			alone := slices.ContainsFunc(calls, func(c []string) bool { return len(c) == 1 && c[0] == r })
			if !alone {
				t.Errorf("the failed entry was not sent again alone: %v", calls)
			}
		default:
			t.Errorf("receipt %s sent %d times", r, n)
		}
	}
	if len(byReceipt) != 10 || twice != 1 {
		t.Fatalf("%d messages deleted, %d sent twice; want 10, and only the failed one twice (calls %v)", len(byReceipt), twice, calls)
	}
	if len(calls) >= 10 {
		t.Errorf("%d delete calls for 10 messages; want them batched", len(calls))
	}
}

// TestWholeCallFailureRetriesEveryEntry: a DeleteMessageBatch call that
// fails as a whole is made again for every one of its entries.
func TestWholeBatchFailureRetriesEveryEntry(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memQueue(t, "call-fails", nil)
	log := &deleteLog{}
	mem.Intercept(log.intercept)
	mem.FailNext("DeleteMessageBatch", &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: "injected", Fault: smithy.FaultServer})
	runTen(t, ctx, mem, url)
	byReceipt, calls := log.sent()
	if len(byReceipt) != 10 {
		t.Fatalf("%d messages deleted; want 10 (calls %v)", len(byReceipt), calls)
	}
	again := 0
	for _, r := range calls[0] {
		if byReceipt[r] == 2 {
			again++
		}
	}
	if again != len(calls[0]) {
		t.Errorf("of the %d entries of the failed call, %d were sent again; want all (calls %v)", len(calls[0]), again, calls)
	}
}

// TestInvalidReceiptIsNotASuccess: a delete whose receipt handle no
// longer holds the message is not counted a success: the message stays,
// to be delivered again, and the caller hears why.
func TestInvalidReceiptIsNotASuccess(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memQueue(t, "invalid-receipt", nil)
	if _, err := mem.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	mem.FailEntry("DeleteMessageBatch", nil, &types.ReceiptHandleIsInvalid{Message: aws.String("The receipt handle is not valid.")})
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: mem, QueueURL: url, Registry: testRegistry(), Job: "noop",
		WaitTime: time.Second, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	err = dispatchNext(t, ctx, d, time.Minute)
	var de *sqsdispatch.DispatcherError
	if !errors.As(err, &de) || !queue.LeaseGone(err) {
		t.Fatalf("DispatchOne = %v; want a *DispatcherError saying the receipt handle no longer holds the message", err)
	}
	if msgs := mem.Messages(url); len(msgs) != 1 {
		t.Fatalf("%d messages in the queue; want the message, to be delivered again", len(msgs))
	}
}

// TestStopWaitsForPendingDeletes: Run does not return while the delete of
// a job that succeeded is still waiting for SQS's answer.
func TestStopWaitsForPendingDeletes(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memQueue(t, "pending-delete", nil)
	if _, err := mem.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	mem.Intercept(func(_ context.Context, op string, _ any) error {
		if op == "DeleteMessageBatch" {
			once.Do(func() { close(held) })
			<-release
		}
		return nil
	})
	pw := &pollWatch{Client: mem}
	core, logs := observer.New(zapcore.InfoLevel)
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: pw, QueueURL: url, Registry: testRegistry(), Job: "noop",
		WaitTime: time.Second, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := runAsync(runCtx, d)
	waitFor(t, time.Minute, "the delete to be under way", func() bool { return isDone(held) })
	stop()
	waitFor(t, time.Minute, "the receives to end", func() bool {
		return logs.FilterMessageSnippet("dispatcher stopping").Len() > 0 && pw.polling.Load() == 0
	})
	select { // all Run has left to wait for is the delete
	case err := <-done:
		t.Fatalf("Run returned %v with a delete pending", err)
	case <-time.After(500 * time.Millisecond):
	}
	close(release)
	if err := wait(t, done, time.Minute, "Run"); !errors.Is(err, sqsdispatch.ErrStopped) {
		t.Fatalf("Run = %v; want ErrStopped", err)
	}
	if msgs := mem.Messages(url); len(msgs) != 0 {
		t.Fatalf("the queue holds %d messages; want the message deleted", len(msgs))
	}
}
