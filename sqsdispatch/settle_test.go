package sqsdispatch_test

// Stops and the waits they meet: a stop while the payload is fetched, a
// continuation SQS refuses, a second stop while a message is settled.

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/internal/payload"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// hangingStore is a PayloadStore that answers no open until the open's
// context ends, and remembers that it was asked.
type hangingStore struct{ opened, ended atomic.Bool }

func (s *hangingStore) OpenPayload(ctx context.Context, _, _ string) (io.ReadCloser, int64, error) {
	s.opened.Store(true)
	<-ctx.Done()
	s.ended.Store(true)
	return nil, 0, ctx.Err()
}

func (s *hangingStore) DeletePayload(context.Context, string, string) error { return nil }

// TestStopDuringPayloadFetchGivesBackWithoutAChild: a stop that comes
// while the message's payload is being fetched ends the fetch and gives
// the message back, visible at once, without starting its job.
func TestStopDuringPayloadFetchGivesBackWithoutAChild(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memQueue(t, "payload-stop", nil)
	out, err := mem.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url),
		MessageBody: aws.String(payload.Pointer{Bucket: "b", Key: "k"}.Body()),
		MessageAttributes: map[string]types.MessageAttributeValue{
			payload.AttrSize: {DataType: aws.String("Number"), StringValue: aws.String("300000")}}})
	if err != nil {
		t.Fatal(err)
	}
	store := &hangingStore{}
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: mem, QueueURL: url, Registry: testRegistry(), Job: "record",
		WaitTime: time.Second, Payloads: store, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { _, err := d.DispatchOne(runCtx); done <- err }()
	waitFor(t, time.Minute, "the payload fetch to start", store.opened.Load)
	stop()
	// The fetch would give up on its own only after a minute.
	if err := wait(t, done, 45*time.Second, "DispatchOne after the stop"); !errors.Is(err, sqsdispatch.ErrStopped) {
		t.Fatalf("DispatchOne = %v; want ErrStopped", err)
	}
	if !store.ended.Load() {
		t.Error("the payload fetch was not ended by the stop")
	}
	if visible, inflight := mem.Counts(url); visible != 1 || inflight != 0 {
		t.Errorf("the queue holds %d visible and %d in-flight messages; want the message given back", visible, inflight)
	}
	if _, err := os.Stat(outFile(aws.ToString(out.MessageId), "pid")); err == nil {
		t.Error("the job ran")
	}
}

// TestRefusedContinuationGivesTheMessageBack: when SQS refuses the copy
// that would continue a stopped job (here a 400 answer), the original is
// given back at once, to resume from its own checkpoint, rather than left
// hidden for up to twelve hours; the log line says why.
func TestRefusedContinuationGivesTheMessageBack(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memQueue(t, "refused-copy", nil)
	dir := t.TempDir()
	if _, err := mem.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url),
		MessageBody: aws.String(unitsMsg(dir, 20, 200*time.Millisecond, true))}); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.WarnLevel)
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: mem, QueueURL: url, Registry: testRegistry(), Job: "units",
		WaitTime: time.Second, CleanupTimeout: 10 * time.Second, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := runAsync(runCtx, d)
	waitFor(t, time.Minute, "a checkpoint", func() bool { return len(withPrefix(t, filepath.Join(dir, "events"), "saved")) > 0 })
	mem.Intercept(func(_ context.Context, op string, _ any) error {
		if op == "SendMessage" {
			return &smithy.GenericAPIError{Code: "InvalidParameterValue", Message: "Message must be shorter than 262144 bytes.", Fault: smithy.FaultClient}
		}
		return nil
	})
	stop()
	if err := wait(t, done, time.Minute, "Run"); !errors.Is(err, sqsdispatch.ErrStopped) {
		t.Fatalf("Run = %v; want ErrStopped", err)
	}
	msgs := mem.Messages(url)
	if len(msgs) != 1 || msgs[0].State != sqsdispatchtest.StateVisible {
		t.Fatalf("the queue holds %+v; want the original, visible again", msgs)
	}
	refused := logs.FilterMessageSnippet("refused the message's continuation").All()
	if len(refused) != 1 || !strings.Contains(refused[0].ContextMap()["error"].(string), "InvalidParameterValue") {
		t.Errorf("log lines about the refusal: %v; want one, with SQS's answer", refused)
	}
}

// TestSecondStopDoesNotCutTheDeleteAfterAContinuation: a second stop
// signal shortens cleanups, never the calls that settle a message: the
// delete of a continued message's original, failing at first, is retried
// after it, so the original does not stay beside its copy.
func TestSecondStopDoesNotCutTheDeleteAfterAContinuation(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	dir := t.TempDir()
	b.send(unitsMsg(dir, 20, 200*time.Millisecond, true), nil)
	p := startDispatcherProcess(t, procConfig{Queue: b.q.URL, Job: "units", Visibility: 10 * time.Second,
		CleanupTimeout: 10 * time.Second, FailDeletes: 4})
	waitFor(t, time.Minute, "a checkpoint", func() bool { return len(withPrefix(t, filepath.Join(dir, "events"), "saved")) > 0 })
	p.signal(t, syscall.SIGTERM)
	waitFor(t, time.Minute, "the delete after the continuation to fail", func() bool {
		return strings.Contains(p.output(), "deleting the message after its copy was sent")
	})
	p.signal(t, syscall.SIGTERM)
	assertDiedBy(t, p, syscall.SIGTERM, time.Minute)
	if !strings.Contains(p.output(), `"outcome": "continued"`) {
		t.Fatalf("the message was not continued:\n%s", p.output())
	}
	if visible, inflight := counts(t, b.ctx, b.q.URL); visible+inflight != 1 {
		t.Fatalf("the queue holds %d messages; want the continuation alone, the original deleted", visible+inflight)
	}
}

// pollWatch tells when a ReceiveMessage call is under way, and counts
// the give-backs (visibility 0) in each ChangeMessageVisibilityBatch call.
type pollWatch struct {
	sqsdispatch.Client
	polling atomic.Int32
	mu      sync.Mutex
	backs   []int
}

func (p *pollWatch) ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	n := 0
	for _, e := range in.Entries {
		if e.VisibilityTimeout == 0 {
			n++
		}
	}
	if n > 0 {
		p.mu.Lock()
		p.backs = append(p.backs, n)
		p.mu.Unlock()
	}
	return p.Client.ChangeMessageVisibilityBatch(ctx, in, opts...)
}

func (p *pollWatch) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	p.polling.Add(1)
	defer p.polling.Add(-1)
	return p.Client.ReceiveMessage(ctx, in, opts...)
}

// TestStopDuringALongPollStrandsNothing: a stop that comes while a long
// poll is under way lets it finish rather than cancel it: the local
// server, like SQS, would hand the messages that arrive meanwhile to the
// cancelled poll and hide them for their whole visibility timeout. The
// messages it returns go back at once, visible, without running, in one
// batch call.
func TestStopDuringALongPollStrandsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	pw := &pollWatch{Client: client}
	cfg := b.config("record")
	cfg.Client, cfg.WaitTime, cfg.Concurrency, cfg.VisibilityTimeout = pw, 10*time.Second, 4, 2*time.Minute
	ctx, cancel := context.WithCancel(b.ctx)
	done := runAsync(ctx, b.dispatcher(cfg))
	waitFor(t, time.Minute, "a long poll", func() bool { return pw.polling.Load() > 0 })
	cancel()
	fill(t, b.ctx, b.q.URL, 3) // they arrive during the poll, after the stop
	if err := wait(t, done, time.Minute, "Run"); !errors.Is(err, sqsdispatch.ErrStopped) {
		t.Fatalf("Run = %v; want ErrStopped", err)
	}
	waitFor(t, 30*time.Second, "the three messages to be visible", func() bool {
		visible, inflight := counts(t, b.ctx, b.q.URL)
		return visible == 3 && inflight == 0
	})
	for _, m := range receive(t, b.ctx, b.q.URL, 1) {
		if _, err := os.Stat(outFile(aws.ToString(m.MessageId), "runs")); err == nil {
			t.Errorf("message %s ran after the stop", aws.ToString(m.MessageId))
		}
	}
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if len(pw.backs) != 1 || pw.backs[0] != 3 {
		t.Errorf("give-backs by call: %v; want the three in one call", pw.backs)
	}
}
