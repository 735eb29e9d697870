package sqsdispatchtest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

func TestVisibilityHidesThenReturns(t *testing.T) {
	t.Parallel()
	e := setup(t, nil) // VisibilityTimeout 30 s
	send(t, e.c, e.url, "m")
	first := receiveOne(t, e.c, e.url)
	wantCounts(t, e.c, e.url, 0, 1)
	e.clock.Advance(29 * time.Second)
	if ms := receive(t, e.c, e.url, 10); len(ms) != 0 {
		t.Fatalf("a message in flight was received again")
	}
	e.clock.Advance(time.Second)
	wantCounts(t, e.c, e.url, 1, 0)
	second := receiveOne(t, e.c, e.url)
	if got := second.Attributes["ApproximateReceiveCount"]; got != "2" {
		t.Errorf("ApproximateReceiveCount = %s, want 2", got)
	}
	if aws.ToString(second.ReceiptHandle) == aws.ToString(first.ReceiptHandle) {
		t.Error("the second receive reused the receipt handle")
	}
	if second.Attributes["ApproximateFirstReceiveTimestamp"] != first.Attributes["ApproximateFirstReceiveTimestamp"] {
		t.Error("ApproximateFirstReceiveTimestamp changed")
	}
}

func TestVisibilityRealTime(t *testing.T) {
	t.Parallel()
	c := sqsdispatchtest.NewClient()
	url := createQueue(t, c, "q", nil)
	send(t, c, url, "m")
	before := time.Now()
	out, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), VisibilityTimeout: 1})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("ReceiveMessage = %v, %v", out, err)
	}
	if ms := receive(t, c, url, 10); len(ms) != 0 {
		t.Fatal("a message in flight was received again")
	}
	// A long poll wakes when the visibility timeout ends.
	r := await(t, receiveAsync(t.Context(), c, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"ApproximateReceiveCount"}}))
	if r.err != nil || len(r.out.Messages) != 1 {
		t.Fatalf("long poll = %v, %v", r.out, r.err)
	}
	if got := r.out.Messages[0].Attributes["ApproximateReceiveCount"]; got != "2" {
		t.Errorf("ApproximateReceiveCount = %s, want 2", got)
	}
	if since := time.Since(before); since < time.Second {
		t.Errorf("the message came back after %v, before its visibility timeout of 1s", since)
	}
}

func TestChangeMessageVisibility(t *testing.T) {
	t.Parallel()
	// Each case starts with one message received (handle h) on a queue
	// with a visibility timeout of 30 s.
	tests := []struct {
		name     string
		run      func(t *testing.T, e *env, h string) error
		wantCode string
		wantVis  int // visible messages afterwards
		wantFly  int // messages in flight afterwards
	}{
		{name: "zero makes the message visible at once", wantVis: 1,
			run: func(t *testing.T, e *env, h string) error { return changeVisibility(t.Context(), e.c, e.url, h, 0) }},
		{name: "extends past the queue's timeout", wantFly: 1,
			run: func(t *testing.T, e *env, h string) error {
				err := changeVisibility(t.Context(), e.c, e.url, h, 100)
				e.clock.Advance(99 * time.Second)
				return err
			}},
		{name: "shortens", wantVis: 1,
			run: func(t *testing.T, e *env, h string) error {
				err := changeVisibility(t.Context(), e.c, e.url, h, 5)
				e.clock.Advance(5 * time.Second)
				return err
			}},
		{name: "stale handle after redelivery", wantCode: "InvalidParameterValue", wantFly: 1,
			run: func(t *testing.T, e *env, h string) error {
				e.clock.Advance(30 * time.Second)
				receiveOne(t, e.c, e.url)
				return changeVisibility(t.Context(), e.c, e.url, h, 60)
			}},
		{name: "visibility ended", wantCode: "MessageNotInflight", wantVis: 1,
			run: func(t *testing.T, e *env, h string) error {
				e.clock.Advance(30 * time.Second)
				return changeVisibility(t.Context(), e.c, e.url, h, 60)
			}},
		{name: "given back already", wantCode: "MessageNotInflight", wantVis: 1,
			run: func(t *testing.T, e *env, h string) error {
				if err := changeVisibility(t.Context(), e.c, e.url, h, 0); err != nil {
					t.Fatal(err)
				}
				return changeVisibility(t.Context(), e.c, e.url, h, 0)
			}},
		{name: "deleted", wantCode: "InvalidParameterValue",
			run: func(t *testing.T, e *env, h string) error {
				if err := deleteMessage(t.Context(), e.c, e.url, h); err != nil {
					t.Fatal(err)
				}
				return changeVisibility(t.Context(), e.c, e.url, h, 10)
			}},
		{name: "not a receipt handle", wantCode: "ReceiptHandleIsInvalid", wantFly: 1,
			run: func(t *testing.T, e *env, h string) error {
				return changeVisibility(t.Context(), e.c, e.url, "garbage", 10)
			}},
		{name: "handle of another queue", wantCode: "ReceiptHandleIsInvalid", wantFly: 1,
			run: func(t *testing.T, e *env, h string) error {
				other := createQueue(t, e.c, "other", nil)
				return changeVisibility(t.Context(), e.c, other, h, 10)
			}},
		{name: "twelve hours from the receive", wantFly: 1,
			run: func(t *testing.T, e *env, h string) error { return changeVisibility(t.Context(), e.c, e.url, h, 43200) }},
		{name: "beyond twelve hours from the receive", wantCode: "InvalidParameterValue", wantFly: 1,
			run: func(t *testing.T, e *env, h string) error {
				e.clock.Advance(time.Second)
				return changeVisibility(t.Context(), e.c, e.url, h, 43200)
			}},
		{name: "above the maximum", wantCode: "InvalidParameterValue", wantFly: 1,
			run: func(t *testing.T, e *env, h string) error { return changeVisibility(t.Context(), e.c, e.url, h, 43201) }},
		{name: "negative", wantCode: "InvalidParameterValue", wantFly: 1,
			run: func(t *testing.T, e *env, h string) error { return changeVisibility(t.Context(), e.c, e.url, h, -1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, nil)
			send(t, e.c, e.url, "m")
			h := aws.ToString(receiveOne(t, e.c, e.url).ReceiptHandle)
			err := tt.run(t, e, h)
			if got := code(err); got != tt.wantCode {
				t.Fatalf("error code = %q (%v), want %q", got, err, tt.wantCode)
			}
			wantCounts(t, e.c, e.url, tt.wantVis, tt.wantFly)
		})
	}
}

// A stale or deleted handle fails the way sqsdispatch recognises as a lost
// lease: InvalidParameterValue naming the receipt handle.
func TestStaleHandleMessage(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	send(t, e.c, e.url, "m")
	h := aws.ToString(receiveOne(t, e.c, e.url).ReceiptHandle)
	e.clock.Advance(30 * time.Second)
	receiveOne(t, e.c, e.url)
	err := changeVisibility(t.Context(), e.c, e.url, h, 60)
	var api smithy.APIError
	if !errors.As(err, &api) || !strings.Contains(strings.ToLower(api.ErrorMessage()), "receipt") || api.ErrorFault() != smithy.FaultClient {
		t.Fatalf("error = %v; want a client fault whose message names the receipt handle", err)
	}
	var op *smithy.OperationError
	if !errors.As(err, &op) || op.Operation() != "ChangeMessageVisibility" || op.Service() != "SQS" {
		t.Errorf("error = %#v; want it wrapped in a *smithy.OperationError as the SDK does", err)
	}
}

func TestDeleteMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		run      func(t *testing.T, e *env, h string) error
		wantCode string
		wantLeft int // messages stored afterwards
	}{
		{name: "latest handle deletes",
			run: func(t *testing.T, e *env, h string) error { return deleteMessage(t.Context(), e.c, e.url, h) }},
		{name: "latest handle deletes after the visibility ended",
			run: func(t *testing.T, e *env, h string) error {
				e.clock.Advance(time.Minute)
				return deleteMessage(t.Context(), e.c, e.url, h)
			}},
		{name: "stale handle succeeds without deleting", wantLeft: 1,
			run: func(t *testing.T, e *env, h string) error {
				e.clock.Advance(30 * time.Second)
				receiveOne(t, e.c, e.url)
				return deleteMessage(t.Context(), e.c, e.url, h)
			}},
		{name: "deleting twice succeeds",
			run: func(t *testing.T, e *env, h string) error {
				if err := deleteMessage(t.Context(), e.c, e.url, h); err != nil {
					t.Fatal(err)
				}
				return deleteMessage(t.Context(), e.c, e.url, h)
			}},
		{name: "not a receipt handle", wantCode: "ReceiptHandleIsInvalid", wantLeft: 1,
			run: func(t *testing.T, e *env, h string) error { return deleteMessage(t.Context(), e.c, e.url, "AAAA") }},
		{name: "unknown queue", wantCode: "QueueDoesNotExist", wantLeft: 1,
			run: func(t *testing.T, e *env, h string) error { return deleteMessage(t.Context(), e.c, e.url+"x", h) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, nil)
			send(t, e.c, e.url, "m")
			h := aws.ToString(receiveOne(t, e.c, e.url).ReceiptHandle)
			err := tt.run(t, e, h)
			if got := code(err); got != tt.wantCode {
				t.Fatalf("error code = %q (%v), want %q", got, err, tt.wantCode)
			}
			if got := len(e.c.Messages(e.url)); got != tt.wantLeft {
				t.Errorf("%d messages stored, want %d", got, tt.wantLeft)
			}
		})
	}
}

func TestChangeMessageVisibilityBatch(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	for _, b := range []string{"1", "2", "3"} {
		send(t, e.c, e.url, b)
	}
	ms := receive(t, e.c, e.url, 3)
	if len(ms) != 3 {
		t.Fatalf("received %d messages, want 3", len(ms))
	}
	stale := aws.ToString(ms[1].ReceiptHandle)
	if err := changeVisibility(t.Context(), e.c, e.url, stale, 0); err != nil {
		t.Fatal(err)
	}
	receiveOne(t, e.c, e.url) // ms[1] again: its first handle is stale now

	entry := func(id, handle string, secs int32) types.ChangeMessageVisibilityBatchRequestEntry {
		return types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(id), ReceiptHandle: aws.String(handle), VisibilityTimeout: secs}
	}
	out, err := e.c.ChangeMessageVisibilityBatch(t.Context(), &sqs.ChangeMessageVisibilityBatchInput{
		QueueUrl: aws.String(e.url),
		Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
			entry("a", aws.ToString(ms[0].ReceiptHandle), 0),
			entry("b", stale, 60),
			entry("c", "garbage", 60),
			entry("d", aws.ToString(ms[2].ReceiptHandle), 60),
			entry("e", aws.ToString(ms[2].ReceiptHandle), 43201),
		},
	})
	if err != nil {
		t.Fatalf("ChangeMessageVisibilityBatch: %v", err)
	}
	var ok []string
	for _, s := range out.Successful {
		ok = append(ok, aws.ToString(s.Id))
	}
	if strings.Join(ok, ",") != "a,d" {
		t.Errorf("Successful = %v, want a,d", ok)
	}
	failed := map[string]string{}
	for _, f := range out.Failed {
		failed[aws.ToString(f.Id)] = aws.ToString(f.Code)
		if !f.SenderFault || aws.ToString(f.Message) == "" {
			t.Errorf("failed entry %s: SenderFault %v, message %q", aws.ToString(f.Id), f.SenderFault, aws.ToString(f.Message))
		}
	}
	want := map[string]string{"b": "InvalidParameterValue", "c": "ReceiptHandleIsInvalid", "e": "InvalidParameterValue"}
	if len(failed) != len(want) {
		t.Errorf("Failed = %v, want %v", failed, want)
	}
	for id, c := range want {
		if failed[id] != c {
			t.Errorf("entry %s failed with %q, want %q", id, failed[id], c)
		}
	}
	wantCounts(t, e.c, e.url, 1, 2) // a is visible again; the redelivered one and d in flight
}

func TestChangeMessageVisibilityBatchInvalid(t *testing.T) {
	t.Parallel()
	entries := func(ids ...string) []types.ChangeMessageVisibilityBatchRequestEntry {
		var es []types.ChangeMessageVisibilityBatchRequestEntry
		for _, id := range ids {
			es = append(es, types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(id), ReceiptHandle: aws.String("h")})
		}
		return es
	}
	tests := []struct {
		name    string
		entries []types.ChangeMessageVisibilityBatchRequestEntry
		want    string
	}{
		{name: "empty", want: "EmptyBatchRequest"},
		{name: "eleven", entries: entries("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"), want: "TooManyEntriesInBatchRequest"},
		{name: "duplicate IDs", entries: entries("a", "a"), want: "BatchEntryIdsNotDistinct"},
		{name: "bad ID", entries: entries("a b"), want: "InvalidBatchEntryId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, nil)
			_, err := e.c.ChangeMessageVisibilityBatch(t.Context(), &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(e.url), Entries: tt.entries})
			if got := code(err); got != tt.want {
				t.Errorf("error code = %q (%v), want %q", got, err, tt.want)
			}
		})
	}
}

// ctxDone returns a context that has ended.
func ctxDone() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
