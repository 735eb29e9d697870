package sqsdispatchtest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// entered makes c signal on the returned channel each time ReceiveMessage
// is called.
func entered(c *sqsdispatchtest.Client) <-chan struct{} {
	ch := make(chan struct{}, 10)
	c.Intercept(func(ctx context.Context, op string, in any) error {
		if op == "ReceiveMessage" {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
		return nil
	})
	return ch
}

func TestLongPollWakesOnSend(t *testing.T) {
	t.Parallel()
	c := sqsdispatchtest.NewClient()
	url := createQueue(t, c, "q", nil)
	calls := entered(c)
	res := receiveAsync(t.Context(), c, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20})
	<-calls
	send(t, c, url, "hello")
	r := await(t, res)
	if r.err != nil || len(r.out.Messages) != 1 || aws.ToString(r.out.Messages[0].Body) != "hello" {
		t.Fatalf("long poll = %+v, %v; want the message", r.out, r.err)
	}
}

func TestLongPollReturnsOnCancel(t *testing.T) {
	t.Parallel()
	c := sqsdispatchtest.NewClient()
	url := createQueue(t, c, "q", nil)
	calls := entered(c)
	ctx, cancel := context.WithCancel(t.Context())
	res := receiveAsync(ctx, c, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20})
	<-calls
	cancel()
	r := await(t, res)
	if !errors.Is(r.err, context.Canceled) || r.out != nil {
		t.Fatalf("long poll = %+v, %v; want context.Canceled", r.out, r.err)
	}
	send(t, c, url, "after")
	wantCounts(t, c, url, 1, 0) // the cancelled poll took nothing
}

func TestReceiveWithEndedContext(t *testing.T) {
	t.Parallel()
	c := sqsdispatchtest.NewClient()
	url := createQueue(t, c, "q", nil)
	send(t, c, url, "m")
	_, err := c.ReceiveMessage(ctxDone(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ReceiveMessage = %v, want context.Canceled", err)
	}
	wantCounts(t, c, url, 1, 0)
	if got := c.Calls("ReceiveMessage"); got != 1 {
		t.Errorf("Calls(ReceiveMessage) = %d, want 1", got)
	}
}

func TestLongPollEndsEmpty(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		attrs map[string]string
		wait  int32
	}{
		{name: "WaitTimeSeconds", wait: 1},
		{name: "the queue's ReceiveMessageWaitTimeSeconds", attrs: map[string]string{"ReceiveMessageWaitTimeSeconds": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := sqsdispatchtest.NewClient()
			url := createQueue(t, c, "q", tt.attrs)
			start := time.Now()
			out, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: tt.wait})
			if err != nil || len(out.Messages) != 0 {
				t.Fatalf("ReceiveMessage = %+v, %v; want no messages and no error", out, err)
			}
			if d := time.Since(start); d < time.Second {
				t.Errorf("the long poll ended after %v, before its 1s wait", d)
			}
		})
	}
}

// With a fake clock, a long poll notices a message made visible by moving
// the clock.
func TestLongPollFollowsFakeClock(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	send(t, e.c, e.url, "m")
	receiveOne(t, e.c, e.url)
	calls := entered(e.c)
	res := receiveAsync(t.Context(), e.c, &sqs.ReceiveMessageInput{QueueUrl: aws.String(e.url), WaitTimeSeconds: 20})
	<-calls
	e.clock.Advance(30 * time.Second)
	r := await(t, res)
	if r.err != nil || len(r.out.Messages) != 1 {
		t.Fatalf("long poll = %+v, %v; want the message", r.out, r.err)
	}
}

func TestReceiveRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   sqs.ReceiveMessageInput
		want string
	}{
		{name: "eleven messages", in: sqs.ReceiveMessageInput{MaxNumberOfMessages: 11}, want: "InvalidParameterValue"},
		{name: "negative count", in: sqs.ReceiveMessageInput{MaxNumberOfMessages: -1}, want: "InvalidParameterValue"},
		{name: "wait too long", in: sqs.ReceiveMessageInput{WaitTimeSeconds: 21}, want: "InvalidParameterValue"},
		{name: "visibility too long", in: sqs.ReceiveMessageInput{VisibilityTimeout: 43201}, want: "InvalidParameterValue"},
		{name: "unknown queue", in: sqs.ReceiveMessageInput{QueueUrl: aws.String("https://example.com/nope")}, want: "QueueDoesNotExist"},
		{name: "no queue", in: sqs.ReceiveMessageInput{QueueUrl: aws.String("")}, want: "MissingParameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, nil)
			in := tt.in
			if in.QueueUrl == nil {
				in.QueueUrl = aws.String(e.url)
			}
			_, err := e.c.ReceiveMessage(t.Context(), &in)
			if got := code(err); got != tt.want {
				t.Errorf("error code = %q (%v), want %q", got, err, tt.want)
			}
		})
	}
}

func TestReceiveDelayedMessage(t *testing.T) {
	t.Parallel()
	e := setup(t, map[string]string{"DelaySeconds": "10"})
	send(t, e.c, e.url, "queue delay")
	if _, err := e.c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(e.url),
		MessageBody: aws.String("own delay"), DelaySeconds: 20}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance time.Duration
		want    string
	}{{9 * time.Second, ""}, {time.Second, "queue delay"}, {9 * time.Second, ""}, {time.Second, "own delay"}}
	for _, s := range steps {
		e.clock.Advance(s.advance)
		if got := bodies(receive(t, e.c, e.url, 10)); got != s.want {
			t.Fatalf("received %q, want %q", got, s.want)
		}
	}
}
