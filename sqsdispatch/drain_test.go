package sqsdispatch_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.uber.org/zap/zaptest"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// TestDrainStopsReceivingAndLetsJobsFinish: a drain, as a preStop hook
// would ask for it, stops the receives but not the running job, which
// finishes and is deleted; Status says "draining" and, at the end, lists
// no job; Run stays up, idle, until the stop that follows, and a message
// sent meanwhile is never received.
func TestDrainStopsReceivingAndLetsJobsFinish(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memQueue(t, "drain", nil)
	ledger := filepath.Join(t.TempDir(), "ledger")
	if _, err := mem.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(gateMsg(ledger, "first"))}); err != nil {
		t.Fatal(err)
	}
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: mem, QueueURL: url, Registry: testRegistry(), Job: "gate",
		WaitTime: time.Second, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := runAsync(runCtx, d)
	waitFor(t, time.Minute, "the job to start", func() bool { return len(ledgerLines(t, ledger, "start")) == 1 })
	d.Drain()
	waitFor(t, time.Minute, "the drain", func() bool { return d.Status().State == sqsdispatch.StateDraining })
	if _, err := mem.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(gateMsg(ledger, "second"))}); err != nil {
		t.Fatal(err)
	}
	openGate(t, ledger)
	waitFor(t, time.Minute, "the running job to finish and its message to go", func() bool {
		return len(d.Status().Slots) == 0 && len(mem.Messages(url)) == 1
	})
	if returned, err := returnedYet(done); returned {
		t.Fatalf("Run returned %v during the drain", err)
	}
	stop()
	if err := wait(t, done, time.Minute, "Run"); !errors.Is(err, sqsdispatch.ErrStopped) {
		t.Fatalf("Run = %v; want ErrStopped", err)
	}
	if msgs := mem.Messages(url); len(msgs) != 1 || msgs[0].ReceiveCount != 0 {
		t.Fatalf("the queue holds %+v; want the second message, never received", msgs)
	}
	if starts := ledgerLines(t, ledger, "start"); len(starts) != 1 {
		t.Errorf("jobs started: %v; want the first alone", starts)
	}
}

// TestDrainDuringALongPollStartsNothing: a drain while a long poll is
// under way reads as draining at once, and what that poll returns goes
// back to the queue, visible, without running.
func TestDrainDuringALongPollStartsNothing(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memQueue(t, "drain-poll", nil)
	ledger := filepath.Join(t.TempDir(), "ledger")
	pw := &pollWatch{Client: mem}
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: pw, QueueURL: url, Registry: testRegistry(), Job: "gate",
		WaitTime: 10 * time.Second, VisibilityTimeout: 2 * time.Minute, Concurrency: 2, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := runAsync(runCtx, d)
	waitFor(t, time.Minute, "a long poll", func() bool { return pw.polling.Load() > 0 })
	d.Drain()
	if st := d.Status().State; st != sqsdispatch.StateDraining {
		t.Errorf("state %q right after Drain; want %q", st, sqsdispatch.StateDraining)
	}
	if _, err := mem.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(gateMsg(ledger, "late"))}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the message the poll returned to be visible again", func() bool {
		msgs := mem.Messages(url)
		return pw.polling.Load() == 0 && len(msgs) == 1 && msgs[0].ReceiveCount == 1 && msgs[0].State == sqsdispatchtest.StateVisible
	})
	stop()
	if err := wait(t, done, time.Minute, "Run"); !errors.Is(err, sqsdispatch.ErrStopped) {
		t.Fatalf("Run = %v; want ErrStopped", err)
	}
	if starts := ledgerLines(t, ledger, "start"); len(starts) != 0 {
		t.Errorf("jobs started: %v; want none after the drain", starts)
	}
}
