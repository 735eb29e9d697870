package queue

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func TestParseInfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		attrs     map[string]string
		want      Info
		wantRetry bool
		wantErr   bool
	}{
		{name: "defaults", attrs: map[string]string{"QueueArn": "arn:q"},
			want: Info{URL: "u", ARN: "arn:q", MaxSize: defaultMaxSize}, wantRetry: true},
		{name: "FIFO with wait and size", attrs: map[string]string{"FifoQueue": "true", "ReceiveMessageWaitTimeSeconds": "20", "MaximumMessageSize": "1024"},
			want: Info{URL: "u", FIFO: true, WaitSeconds: 20, MaxSize: 1024}, wantRetry: true},
		{name: "redrive with a number", attrs: map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:d","maxReceiveCount":3}`},
			want: Info{URL: "u", MaxSize: defaultMaxSize, Redrive: &Redrive{TargetARN: "arn:d", MaxReceiveCount: 3}}, wantRetry: true},
		{name: "redrive with a string, one receive", attrs: map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:d","maxReceiveCount":"1"}`},
			want: Info{URL: "u", MaxSize: defaultMaxSize, Redrive: &Redrive{TargetARN: "arn:d", MaxReceiveCount: 1}}},
		{name: "redrive not JSON", attrs: map[string]string{"RedrivePolicy": `{`}, wantErr: true},
		{name: "redrive without a target", attrs: map[string]string{"RedrivePolicy": `{"maxReceiveCount":3}`}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseInfo("u", tt.attrs)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseInfo: err = %v; want error %t", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.URL != tt.want.URL || got.ARN != tt.want.ARN || got.FIFO != tt.want.FIFO ||
				got.WaitSeconds != tt.want.WaitSeconds || got.MaxSize != tt.want.MaxSize ||
				(got.Redrive == nil) != (tt.want.Redrive == nil) || (got.Redrive != nil && *got.Redrive != *tt.want.Redrive) {
				t.Errorf("parseInfo = %+v (redrive %+v); want %+v (redrive %+v)", got, got.Redrive, tt.want, tt.want.Redrive)
			}
			if got.AllowsRetries() != tt.wantRetry {
				t.Errorf("AllowsRetries = %t; want %t", got.AllowsRetries(), tt.wantRetry)
			}
		})
	}
}

func TestInfoCacheExpires(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{InfoTTL: time.Minute})
	url := b.client.addQueue("q", map[string]string{"ReceiveMessageWaitTimeSeconds": "5"})
	info := func() *Info {
		t.Helper()
		i, err := b.q.Info(b.ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	steps := []struct {
		name      string
		advance   time.Duration
		wantCalls int
	}{
		{name: "first call fetches", wantCalls: 1},
		{name: "cached", wantCalls: 1},
		{name: "cached just before the TTL", advance: time.Minute - time.Nanosecond, wantCalls: 1},
		{name: "expired at the TTL", advance: time.Nanosecond, wantCalls: 2},
		{name: "cached again", advance: 30 * time.Second, wantCalls: 2},
	}
	for _, s := range steps {
		b.clock.Advance(s.advance)
		i := info()
		if i.WaitSeconds != 5 {
			t.Errorf("%s: WaitSeconds = %d; want 5", s.name, i.WaitSeconds)
		}
		if n := len(b.client.callsTo("GetQueueAttributes")); n != s.wantCalls {
			t.Errorf("%s: %d GetQueueAttributes calls; want %d", s.name, n, s.wantCalls)
		}
	}
	i := info()
	i.WaitSeconds = 99
	if info().WaitSeconds != 5 {
		t.Error("changing a returned Info changed the cache")
	}
}

func TestInfoErrorNotCached(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	url := queueURL("q")
	_, err := b.q.Info(b.ctx, url)
	var oe *OpError
	if !errors.As(err, &oe) || oe.Op != "GetQueueAttributes" || !IsFatal(err) {
		t.Fatalf("Info of a missing queue: err = %v; want a fatal *OpError of GetQueueAttributes", err)
	}
	b.client.addQueue("q", nil)
	if _, err := b.q.Info(b.ctx, url); err != nil {
		t.Fatalf("Info once the queue exists: %v", err)
	}
	if n := len(b.client.callsTo("GetQueueAttributes")); n != 2 {
		t.Errorf("%d GetQueueAttributes calls; want 2", n)
	}
}

// hangAttributes makes GetQueueAttributes of url wait until its context
// ends or release is closed; started receives a value as each call begins.
func hangAttributes(b *bundle, url string) (started, release chan struct{}) {
	started, release = make(chan struct{}, 10), make(chan struct{})
	b.client.attributes = func(ctx context.Context, u string) error {
		if u != url {
			return nil
		}
		started <- struct{}{}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return &smithyCanceled{ctx.Err()}
		}
	}
	return started, release
}

type infoResult struct {
	info *Info
	err  error
}

func (b *bundle) infoAsync(ctx context.Context, url string) <-chan infoResult {
	ch := make(chan infoResult, 1)
	go func() {
		i, err := b.q.Info(ctx, url)
		ch <- infoResult{i, err}
	}()
	return ch
}

func TestInfoHungQueueBlocksOnlyItself(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	a := b.client.addQueue("a", nil)
	other := b.client.addQueue("b", nil)
	started, release := hangAttributes(b, a)
	hung := b.infoAsync(b.ctx, a)
	<-started

	// Another queue's attributes come while a's call hangs.
	if i, err := b.q.Info(b.ctx, other); err != nil || i.URL != other {
		t.Fatalf("Info(b) while Info(a) hangs = %+v, %v", i, err)
	}

	// A second caller for a waits on the same call and gives up with its
	// own context.
	ctx, cancel := context.WithCancel(b.ctx)
	waiter := b.infoAsync(ctx, a)
	cancel()
	r := <-waiter
	var oe *OpError
	if !errors.Is(r.err, context.Canceled) || !errors.As(r.err, &oe) || oe.Queue != a {
		t.Fatalf("waiter whose context ended: err = %v; want an *OpError on %s wrapping context.Canceled", r.err, a)
	}

	close(release)
	if r := <-hung; r.err != nil || r.info.URL != a {
		t.Fatalf("hung Info(a) once released = %+v, %v", r.info, r.err)
	}
	if _, err := b.q.Info(b.ctx, a); err != nil {
		t.Fatal(err)
	}
	if n := b.client.count("GetQueueAttributes " + a); n != 1 {
		t.Errorf("%d GetQueueAttributes calls for a; want 1 (shared, then cached)", n)
	}
}

func TestInfoConcurrentMissesShareOneCall(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	a := b.client.addQueue("a", nil)
	started, release := hangAttributes(b, a)
	first := b.infoAsync(b.ctx, a)
	<-started
	var waiters []<-chan infoResult
	for range 3 {
		waiters = append(waiters, b.infoAsync(b.ctx, a))
	}
	// The waiters cannot be observed waiting; whether they share the call
	// or, arriving late, hit the cache, only one call is made.
	close(release)
	for _, ch := range append(waiters, first) {
		if r := <-ch; r.err != nil || r.info.URL != a {
			t.Fatalf("Info(a) = %+v, %v", r.info, r.err)
		}
	}
	if n := len(b.client.callsTo("GetQueueAttributes")); n != 1 {
		t.Errorf("%d GetQueueAttributes calls; want 1", n)
	}
}

func TestInfoWaiterOutlivesTheCaller(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	a := b.client.addQueue("a", nil)
	started, release := hangAttributes(b, a)
	ctx, cancel := context.WithCancel(b.ctx)
	first := b.infoAsync(ctx, a)
	<-started
	waiter := b.infoAsync(b.ctx, a)
	cancel()
	if r := <-first; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Info with a cancelled context: err = %v; want context.Canceled", r.err)
	}
	// The waiter, if it was waiting, makes a call of its own; if it came
	// after the first call ended, it makes one anyway.
	<-started
	close(release)
	if r := <-waiter; r.err != nil || r.info.URL != a {
		t.Fatalf("waiter after the caller gave up: Info = %+v, %v; want a's attributes", r.info, r.err)
	}
	if n := len(b.client.callsTo("GetQueueAttributes")); n != 2 {
		t.Errorf("%d GetQueueAttributes calls; want 2", n)
	}
}

func TestURLForARN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		arn        string
		wantURL    string
		wantConfig bool
		wantFatal  bool
	}{
		{name: "resolved", arn: queueARN("dlq"), wantURL: queueURL("dlq")},
		{name: "not an ARN", arn: "dlq", wantConfig: true},
		{name: "not SQS", arn: "arn:aws:sns:us-east-1:000000000000:dlq", wantConfig: true},
		{name: "missing queue", arn: queueARN("gone"), wantFatal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Config{})
			b.client.addQueue("dlq", nil)
			got, err := b.q.urlForARN(b.ctx, tt.arn)
			if got != tt.wantURL || errors.Is(err, ErrConfig) != tt.wantConfig || IsFatal(err) != tt.wantFatal ||
				(err == nil) != (tt.wantURL != "") {
				t.Fatalf("urlForARN(%q) = %q, %v; want %q (config error %t, fatal %t)",
					tt.arn, got, err, tt.wantURL, tt.wantConfig, tt.wantFatal)
			}
			if tt.wantURL != "" {
				in := inputsOf[*sqs.GetQueueUrlInput](b.client)[0]
				if *in.QueueName != "dlq" || *in.QueueOwnerAWSAccountId != testAccount {
					t.Errorf("GetQueueUrl input = %+v; want name dlq, owner %s", in, testAccount)
				}
			}
		})
	}
}
