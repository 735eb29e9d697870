package queue

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// fakeClient is a Client that answers from queue attributes held in memory
// and records every call. Hooks replace a method's answer.
type fakeClient struct {
	mu     sync.Mutex
	attrs  map[string]map[string]string // queue attributes by URL
	calls  []string                     // "Method url"
	inputs []any

	receive    func(ctx context.Context, in *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error)
	send       func(ctx context.Context, in *sqs.SendMessageInput) error
	del        func(ctx context.Context, in *sqs.DeleteMessageInput) error
	visibility func(ctx context.Context, in *sqs.ChangeMessageVisibilityInput) error
	attributes func(ctx context.Context, url string) error // called before answering
	getURL     func(ctx context.Context, name string) error
}

func newFakeClient() *fakeClient { return &fakeClient{attrs: make(map[string]map[string]string)} }

const (
	testRegion  = "us-east-1"
	testAccount = "000000000000"
)

func queueURL(name string) string {
	return "http://sqs.test/" + testAccount + "/" + name
}

func queueARN(name string) string {
	return "arn:aws:sqs:" + testRegion + ":" + testAccount + ":" + name
}

// addQueue adds a queue named name with the given attributes (QueueArn and
// FifoQueue are filled in) and returns its URL.
func (f *fakeClient) addQueue(name string, attrs map[string]string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := map[string]string{"QueueArn": queueARN(name)}
	if strings.HasSuffix(name, ".fifo") {
		a["FifoQueue"] = "true"
	}
	for k, v := range attrs {
		a[k] = v
	}
	f.attrs[queueURL(name)] = a
	return queueURL(name)
}

// withDLQ adds a queue name with a dead-letter queue dlqName (which must
// exist) and returns its URL.
func (f *fakeClient) withDLQ(name, dlqName string, maxReceive int, attrs map[string]string) string {
	a := map[string]string{"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, queueARN(dlqName), maxReceive)}
	for k, v := range attrs {
		a[k] = v
	}
	return f.addQueue(name, a)
}

func (f *fakeClient) record(method, url string, in any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, method+" "+url)
	f.inputs = append(f.inputs, in)
}

// callsTo returns the calls of method, as "Method url".
func (f *fakeClient) callsTo(method string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, method+" ") {
			out = append(out, c)
		}
	}
	return out
}

// count returns how many calls were exactly call ("Method url").
func (f *fakeClient) count(call string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == call {
			n++
		}
	}
	return n
}

// allCalls returns every call, in order.
func (f *fakeClient) allCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// inputsOf returns the inputs of type T, in order.
func inputsOf[T any](f *fakeClient) []T {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []T
	for _, in := range f.inputs {
		if t, ok := in.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

func apiError(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: "test: " + code}
}

func (f *fakeClient) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	f.record("ReceiveMessage", aws.ToString(in.QueueUrl), in)
	if f.receive != nil {
		return f.receive(ctx, in)
	}
	return &sqs.ReceiveMessageOutput{}, nil
}

func (f *fakeClient) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	f.record("DeleteMessage", aws.ToString(in.QueueUrl), in)
	if f.del != nil {
		if err := f.del(ctx, in); err != nil {
			return nil, err
		}
	}
	return &sqs.DeleteMessageOutput{}, nil
}

func (f *fakeClient) DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	panic("queue: DeleteMessageBatch is not used here")
}

func (f *fakeClient) ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	f.record("ChangeMessageVisibility", aws.ToString(in.QueueUrl), in)
	if f.visibility != nil {
		if err := f.visibility(ctx, in); err != nil {
			return nil, err
		}
	}
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

func (f *fakeClient) ChangeMessageVisibilityBatch(_ context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	f.record("ChangeMessageVisibilityBatch", aws.ToString(in.QueueUrl), in)
	return &sqs.ChangeMessageVisibilityBatchOutput{}, nil
}

func (f *fakeClient) SendMessage(ctx context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.record("SendMessage", aws.ToString(in.QueueUrl), in)
	if f.send != nil {
		if err := f.send(ctx, in); err != nil {
			return nil, err
		}
	}
	return &sqs.SendMessageOutput{MessageId: aws.String("copy")}, nil
}

func (f *fakeClient) GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	url := aws.ToString(in.QueueUrl)
	f.record("GetQueueAttributes", url, in)
	if f.attributes != nil {
		if err := f.attributes(ctx, url); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.attrs[url]
	if !ok {
		return nil, apiError("AWS.SimpleQueueService.NonExistentQueue")
	}
	out := make(map[string]string, len(a))
	for k, v := range a {
		out[k] = v
	}
	return &sqs.GetQueueAttributesOutput{Attributes: out}, nil
}

func (f *fakeClient) GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, _ ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) {
	name := aws.ToString(in.QueueName)
	f.record("GetQueueUrl", name, in)
	if f.getURL != nil {
		if err := f.getURL(ctx, name); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.attrs[queueURL(name)]; !ok {
		return nil, apiError("AWS.SimpleQueueService.NonExistentQueue")
	}
	return &sqs.GetQueueUrlOutput{QueueUrl: aws.String(queueURL(name))}, nil
}

// bundle is what most tests need: a fake client, a fake clock, Queues over
// both and the log they write.
type bundle struct {
	client *fakeClient
	clock  *clock.Fake
	q      *Queues
	logs   *observer.ObservedLogs
	ctx    context.Context
}

var testStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// setup returns a bundle; cfg's Clock and Logger are filled in.
func setup(t *testing.T, cfg Config) *bundle {
	t.Helper()
	b := &bundle{client: newFakeClient(), clock: clock.NewFake(testStart)}
	core, logs := observer.New(zap.InfoLevel)
	b.logs = logs
	cfg.Clock, cfg.Logger = b.clock, zap.New(core)
	b.q = New(b.client, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	b.ctx = ctx
	return b
}
