package sqsdispatchtest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// The in-memory client can stand in for SQS wherever sqsdispatch wants a
// client.
var _ sqsdispatch.Client = (*sqsdispatchtest.Client)(nil)

// testStart is where fake clocks start.
var testStart = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// env is a client with a fake clock and one standard queue.
type env struct {
	c     *sqsdispatchtest.Client
	clock *clock.Fake
	url   string
}

// setup returns a client on a fake clock with a standard queue "q"
// created with attrs.
func setup(t *testing.T, attrs map[string]string) *env {
	t.Helper()
	fake := clock.NewFake(testStart)
	c := sqsdispatchtest.NewClient(sqsdispatchtest.WithClock(fake.Now))
	return &env{c: c, clock: fake, url: createQueue(t, c, "q", attrs)}
}

func createQueue(t *testing.T, c *sqsdispatchtest.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue(%s): %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

func send(t *testing.T, c *sqsdispatchtest.Client, url, body string) *sqs.SendMessageOutput {
	t.Helper()
	out, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)})
	if err != nil {
		t.Fatalf("SendMessage(%q): %v", body, err)
	}
	return out
}

func sendGroup(t *testing.T, c *sqsdispatchtest.Client, url, group, body string) *sqs.SendMessageOutput {
	t.Helper()
	out, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url),
		MessageBody: aws.String(body), MessageGroupId: aws.String(group), MessageDeduplicationId: aws.String(body)})
	if err != nil {
		t.Fatalf("SendMessage(%s, %q): %v", group, body, err)
	}
	return out
}

// receive short-polls up to n messages with all attributes.
func receive(t *testing.T, c *sqsdispatchtest.Client, url string, n int32) []types.Message {
	t.Helper()
	out, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(url),
		MaxNumberOfMessages:         n,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	return out.Messages
}

// receiveOne short-polls exactly one message.
func receiveOne(t *testing.T, c *sqsdispatchtest.Client, url string) types.Message {
	t.Helper()
	ms := receive(t, c, url, 1)
	if len(ms) != 1 {
		t.Fatalf("ReceiveMessage returned %d messages, want 1", len(ms))
	}
	return ms[0]
}

func changeVisibility(ctx context.Context, c *sqsdispatchtest.Client, url, handle string, secs int32) error {
	_, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(url), ReceiptHandle: aws.String(handle), VisibilityTimeout: secs})
	return err
}

func deleteMessage(ctx context.Context, c *sqsdispatchtest.Client, url, handle string) error {
	_, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String(handle)})
	return err
}

// code returns the SQS error code of err, "" for nil, or "not an API error".
func code(err error) string {
	if err == nil {
		return ""
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return "not an API error: " + err.Error()
	}
	return api.ErrorCode()
}

func wantCounts(t *testing.T, c *sqsdispatchtest.Client, url string, visible, inflight int) {
	t.Helper()
	if v, f := c.Counts(url); v != visible || f != inflight {
		t.Fatalf("Counts = %d visible, %d in flight; want %d, %d", v, f, visible, inflight)
	}
}

// result is what a ReceiveMessage call run in a goroutine returned.
type result struct {
	out *sqs.ReceiveMessageOutput
	err error
}

// receiveAsync starts a ReceiveMessage call and returns its result
// channel.
func receiveAsync(ctx context.Context, c *sqsdispatchtest.Client, in *sqs.ReceiveMessageInput) <-chan result {
	ch := make(chan result, 1)
	go func() {
		out, err := c.ReceiveMessage(ctx, in)
		ch <- result{out, err}
	}()
	return ch
}

// await waits for a result, failing the test after a generous deadline.
func await(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("ReceiveMessage did not return within 15s")
		return result{}
	}
}
