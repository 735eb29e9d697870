package queue

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func TestReceive(t *testing.T) {
	t.Parallel()
	high, mid, low := queueURL("high"), queueURL("mid"), queueURL("low")
	urls := []string{high, mid, low}
	tests := []struct {
		name      string
		waitTime  time.Duration
		n         int
		has       map[string]int // messages waiting per queue
		failing   string         // queue whose receive fails
		wantAsked []string
		wantFrom  string
		wantN     int32 // MaxNumberOfMessages asked for
		wantErr   bool
	}{
		{name: "stops at the first non-empty queue", n: 3, has: map[string]int{mid: 2, low: 5},
			wantAsked: []string{high, mid}, wantFrom: mid, wantN: 3},
		{name: "highest queue first", n: 1, has: map[string]int{high: 1, mid: 1},
			wantAsked: []string{high}, wantFrom: high, wantN: 1},
		{name: "all empty: every queue asked, only the last long-polls", n: 2, waitTime: 20 * time.Second,
			wantAsked: urls, wantN: 2},
		{name: "n capped at 10", n: 25, has: map[string]int{low: 10},
			wantAsked: urls, wantFrom: low, wantN: 10},
		{name: "a failure ends the round", n: 1, has: map[string]int{low: 1}, failing: mid,
			wantAsked: []string{high, mid}, wantN: 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Config{Visibility: 45 * time.Second, WaitTime: tt.waitTime})
			b.client.receive = func(_ context.Context, in *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
				url := aws.ToString(in.QueueUrl)
				if url == tt.failing {
					return nil, apiError("ServiceUnavailable")
				}
				out := &sqs.ReceiveMessageOutput{}
				for i := range min(tt.has[url], int(in.MaxNumberOfMessages)) {
					out.Messages = append(out.Messages, types.Message{MessageId: aws.String(url + string(rune('a'+i)))})
				}
				return out, nil
			}
			got, err := b.q.Receive(b.ctx, urls, tt.n, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Receive: err = %v; want error %t", err, tt.wantErr)
			}
			var oe *OpError
			if tt.wantErr && (!errors.As(err, &oe) || oe.Op != "ReceiveMessage" || oe.Queue != tt.failing) {
				t.Errorf("err = %#v; want an *OpError of ReceiveMessage on %s", err, tt.failing)
			}
			ins := inputsOf[*sqs.ReceiveMessageInput](b.client)
			var asked []string
			for i, in := range ins {
				asked = append(asked, aws.ToString(in.QueueUrl))
				if in.MaxNumberOfMessages != tt.wantN {
					t.Errorf("MaxNumberOfMessages = %d; want %d", in.MaxNumberOfMessages, tt.wantN)
				}
				if in.VisibilityTimeout != 45 {
					t.Errorf("VisibilityTimeout = %d; want 45", in.VisibilityTimeout)
				}
				if !slices.Equal(in.MessageAttributeNames, []string{"All"}) ||
					!slices.Equal(in.MessageSystemAttributeNames, []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}) {
					t.Errorf("attributes asked for: %v, %v; want All, All", in.MessageAttributeNames, in.MessageSystemAttributeNames)
				}
				wantWait := int32(0)
				if i == len(urls)-1 {
					wantWait = int32(tt.waitTime / time.Second)
				}
				if in.WaitTimeSeconds != wantWait {
					t.Errorf("WaitTimeSeconds of %s = %d; want %d", aws.ToString(in.QueueUrl), in.WaitTimeSeconds, wantWait)
				}
			}
			if !slices.Equal(asked, tt.wantAsked) {
				t.Errorf("queues asked = %v; want %v", asked, tt.wantAsked)
			}
			if want := min(tt.has[tt.wantFrom], int(tt.wantN)); len(got) != want {
				t.Fatalf("got %d messages; want %d", len(got), want)
			}
			for _, r := range got {
				if r.Queue != tt.wantFrom || !r.At.Equal(testStart) || r.Message.MessageId == nil {
					t.Errorf("received %+v; want from %s at %v", r, tt.wantFrom, testStart)
				}
			}
		})
	}
}

func TestReceiveNothingAsked(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	got, err := b.q.Receive(b.ctx, []string{queueURL("q")}, 0, nil)
	if err != nil || got != nil {
		t.Fatalf("Receive(n=0) = %v, %v; want nothing", got, err)
	}
	if calls := b.client.allCalls(); len(calls) != 0 {
		t.Errorf("calls = %v; want none", calls)
	}
}

// blockingReceive makes every receive wait until its context ends or
// release is closed; started receives a value as each one begins.
func blockingReceive(b *bundle) (started chan struct{}, release chan struct{}) {
	started, release = make(chan struct{}, 10), make(chan struct{})
	b.client.receive = func(ctx context.Context, _ *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
		started <- struct{}{}
		select {
		case <-release:
			return &sqs.ReceiveMessageOutput{}, nil
		case <-ctx.Done():
			return nil, &smithyCanceled{ctx.Err()}
		}
	}
	return started, release
}

// smithyCanceled stands in for the SDK's error on a cancelled request.
type smithyCanceled struct{ err error }

func (e *smithyCanceled) Error() string { return "canceled, " + e.err.Error() }
func (e *smithyCanceled) Unwrap() error { return e.err }

func TestGiveBackDelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		waitTime  time.Duration // Config.WaitTime
		queueWait string        // the queue's ReceiveMessageWaitTimeSeconds
		wantDelay time.Duration
	}{
		{name: "configured wait", waitTime: 20 * time.Second, queueWait: "3", wantDelay: 21 * time.Second},
		{name: "queue's own wait", queueWait: "7", wantDelay: 8 * time.Second},
		{name: "short poll", queueWait: "0", wantDelay: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Config{WaitTime: tt.waitTime})
			url := b.client.addQueue("q", map[string]string{"ReceiveMessageWaitTimeSeconds": tt.queueWait})
			other := b.client.addQueue("other", nil)
			delay := func(url string) time.Duration {
				t.Helper()
				d, err := b.q.GiveBackDelay(b.ctx, url)
				if err != nil {
					t.Fatalf("GiveBackDelay: %v", err)
				}
				return d
			}
			if d := delay(url); d != 0 {
				t.Errorf("before any receive: delay = %v; want 0", d)
			}
			if calls := b.client.allCalls(); len(calls) != 0 {
				t.Errorf("calls before any receive = %v; want none", calls)
			}

			// A receive in flight, which then succeeds.
			started, release := blockingReceive(b)
			done := make(chan error, 1)
			go func() {
				_, err := b.q.Receive(b.ctx, []string{url}, 1, nil)
				done <- err
			}()
			<-started
			if d := delay(url); d != tt.wantDelay {
				t.Errorf("receive in flight: delay = %v; want %v", d, tt.wantDelay)
			}
			if d := delay(other); d != 0 {
				t.Errorf("receive in flight on another queue: delay = %v; want 0", d)
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if d := delay(url); d != 0 {
				t.Errorf("after a completed receive: delay = %v; want 0", d)
			}

			// A receive cancelled in flight.
			started, _ = blockingReceive(b)
			ctx, cancel := context.WithCancel(b.ctx)
			go func() {
				_, err := b.q.Receive(ctx, []string{url}, 1, nil)
				done <- err
			}()
			<-started
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled Receive: err = %v; want context.Canceled", err)
			}
			if d := delay(url); d != tt.wantDelay {
				t.Errorf("just after a cancelled receive: delay = %v; want %v", d, tt.wantDelay)
			}
			b.clock.Advance(tt.wantDelay - time.Millisecond)
			if d := delay(url); d != tt.wantDelay {
				t.Errorf("still within the wait of a cancelled receive: delay = %v; want %v", d, tt.wantDelay)
			}
			b.clock.Advance(time.Millisecond)
			if d := delay(url); d != 0 {
				t.Errorf("once the cancelled receive's wait is over: delay = %v; want 0", d)
			}
		})
	}
}

// TestReceiveStartsNoPollOnceHalted: once halt is closed, the queues not
// yet asked are not polled; the poll under way was let finish.
func TestReceiveStartsNoPollOnceHalted(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	urls := []string{queueURL("high"), queueURL("low")}
	halt := make(chan struct{})
	b.client.receive = func(ctx context.Context, in *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
		close(halt) // the stop comes while the first poll is under way
		return &sqs.ReceiveMessageOutput{}, ctx.Err()
	}
	if _, err := b.q.Receive(b.ctx, urls, 1, halt); err != nil {
		t.Fatal(err)
	}
	if ins := inputsOf[*sqs.ReceiveMessageInput](b.client); len(ins) != 1 || aws.ToString(ins[0].QueueUrl) != urls[0] {
		t.Fatalf("%d polls; want the first queue's alone", len(ins))
	}
}
