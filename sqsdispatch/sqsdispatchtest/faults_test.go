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
)

func TestFailNext(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	send(t, e.c, e.url, "m")
	throttled := &types.RequestThrottled{Message: aws.String("slow down")}
	internal := &smithy.GenericAPIError{Code: "InternalError", Fault: smithy.FaultServer}
	e.c.FailNext("ReceiveMessage", throttled)
	e.c.FailNext("ReceiveMessage", internal)

	for _, want := range []error{throttled, internal} {
		_, err := e.c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(e.url)})
		if !errors.Is(err, want) {
			t.Fatalf("ReceiveMessage = %v, want %v", err, want)
		}
		wantCounts(t, e.c, e.url, 1, 0) // a failed call has no effect
	}
	m := receiveOne(t, e.c, e.url)
	if got := e.c.Calls("ReceiveMessage"); got != 3 {
		t.Errorf("Calls(ReceiveMessage) = %d, want 3", got)
	}

	e.c.FailNext("DeleteMessage", internal)
	if err := deleteMessage(t.Context(), e.c, e.url, aws.ToString(m.ReceiptHandle)); !errors.Is(err, internal) {
		t.Fatalf("DeleteMessage = %v, want %v", err, internal)
	}
	if got := len(e.c.Messages(e.url)); got != 1 {
		t.Errorf("a failed delete deleted: %d messages left", got)
	}
}

func TestLoseNextResponse(t *testing.T) {
	t.Parallel()
	lost := errors.New("connection reset")
	tests := []struct {
		name      string
		op        string
		run       func(t *testing.T, e *env) error
		wantVis   int
		wantFly   int
		wantStore int
	}{
		{name: "send stores the message", op: "SendMessage", wantVis: 1, wantStore: 1,
			run: func(t *testing.T, e *env) error {
				_, err := e.c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(e.url), MessageBody: aws.String("m")})
				return err
			}},
		{name: "receive takes the message", op: "ReceiveMessage", wantFly: 1, wantStore: 1,
			run: func(t *testing.T, e *env) error {
				send(t, e.c, e.url, "m")
				_, err := e.c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(e.url)})
				return err
			}},
		{name: "delete deletes", op: "DeleteMessage",
			run: func(t *testing.T, e *env) error {
				send(t, e.c, e.url, "m")
				return deleteMessage(t.Context(), e.c, e.url, aws.ToString(receiveOne(t, e.c, e.url).ReceiptHandle))
			}},
		{name: "visibility change applies", op: "ChangeMessageVisibility", wantVis: 1, wantStore: 1,
			run: func(t *testing.T, e *env) error {
				send(t, e.c, e.url, "m")
				return changeVisibility(t.Context(), e.c, e.url, aws.ToString(receiveOne(t, e.c, e.url).ReceiptHandle), 0)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, nil)
			e.c.LoseNextResponse(tt.op, lost)
			if err := tt.run(t, e); !errors.Is(err, lost) {
				t.Fatalf("%s = %v, want %v", tt.op, err, lost)
			}
			wantCounts(t, e.c, e.url, tt.wantVis, tt.wantFly)
			if got := len(e.c.Messages(e.url)); got != tt.wantStore {
				t.Errorf("%d messages stored, want %d", got, tt.wantStore)
			}
		})
	}
}

func TestInterceptHangsUntilContextEnds(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	send(t, e.c, e.url, "m")
	m := receiveOne(t, e.c, e.url)
	var seen any
	e.c.Intercept(func(ctx context.Context, op string, in any) error {
		if op != "ChangeMessageVisibilityBatch" {
			return nil
		}
		seen = in
		<-ctx.Done()
		return ctx.Err()
	})
	in := &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(e.url),
		Entries: []types.ChangeMessageVisibilityBatchRequestEntry{{Id: aws.String("0"), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}}}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := e.c.ChangeMessageVisibilityBatch(ctx, in); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ChangeMessageVisibilityBatch = %v, want context.DeadlineExceeded", err)
	}
	if seen != in {
		t.Errorf("the interceptor saw %v, want the call's input", seen)
	}
	wantCounts(t, e.c, e.url, 0, 1) // the hung call had no effect

	e.c.Intercept(nil)
	out, err := e.c.ChangeMessageVisibilityBatch(t.Context(), in)
	if err != nil || len(out.Successful) != 1 {
		t.Fatalf("after Intercept(nil): %+v, %v", out, err)
	}
	wantCounts(t, e.c, e.url, 1, 0)
}

func TestFaultsPanicOnMistakes(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	tests := []struct {
		name string
		call func()
	}{
		{name: "FailNext with an unknown operation", call: func() { e.c.FailNext("RecieveMessage", errors.New("x")) }},
		{name: "FailNext with a nil error", call: func() { e.c.FailNext("ReceiveMessage", nil) }},
		{name: "LoseNextResponse with an unknown operation", call: func() { e.c.LoseNextResponse("Delete", errors.New("x")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.call()
		})
	}
}

func TestOperationsHonourEndedContext(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	ctx := ctxDone()
	calls := []struct {
		op   string
		call func() error
	}{
		{"SendMessage", func() error {
			_, err := e.c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(e.url), MessageBody: aws.String("m")})
			return err
		}},
		{"GetQueueUrl", func() error {
			_, err := e.c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q")})
			return err
		}},
		{"GetQueueAttributes", func() error {
			_, err := e.c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(e.url)})
			return err
		}},
		{"DeleteMessage", func() error { return deleteMessage(ctx, e.c, e.url, "h") }},
		{"ChangeMessageVisibility", func() error { return changeVisibility(ctx, e.c, e.url, "h", 0) }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s = %v, want context.Canceled", c.op, err)
		}
	}
	wantCounts(t, e.c, e.url, 0, 0)
}
