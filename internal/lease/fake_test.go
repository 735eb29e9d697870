package lease

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// *sqs.Client is what the dispatcher passes as a Client.
var _ Client = (*sqs.Client)(nil)

// t0 is when every test's fake clock starts.
var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// waitLimit bounds every wait for something that must happen; it is long
// so that a busy machine cannot fail a test.
const waitLimit = 30 * time.Second

// fakeCall is one ChangeMessageVisibilityBatch call the fake received.
type fakeCall struct {
	queue    string
	receipts []string
	secs     []int32
	at       time.Time // fake time when the call was made
}

// respondFunc answers one call.
type respondFunc func(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput) (*sqs.ChangeMessageVisibilityBatchOutput, error)

// failure is how the fake fails one entry.
type failure struct{ code, message string }

// fakeSQS records the calls it gets and answers them as told: every entry
// succeeds unless respond says otherwise.
type fakeSQS struct {
	clk  *clock.Fake
	seen chan fakeCall

	mu      sync.Mutex
	calls   []fakeCall
	blocked int                   // calls waiting in hang
	held    map[chan struct{}]int // of those, how many wait for each channel
	respond respondFunc
}

func (f *fakeSQS) ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	c := fakeCall{queue: aws.ToString(in.QueueUrl), at: f.clk.Now()}
	for _, e := range in.Entries {
		c.receipts = append(c.receipts, aws.ToString(e.ReceiptHandle))
		c.secs = append(c.secs, e.VisibilityTimeout)
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	respond := f.respond
	f.mu.Unlock()
	f.seen <- c
	if respond == nil {
		return answer(in, nil), nil
	}
	return respond(ctx, in)
}

// callsMade returns a copy of the calls received so far.
func (f *fakeSQS) callsMade() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// hang returns an answer that waits until letGo(release) and then
// answers with then (nil: every entry succeeds), or fails when the call's
// context ends.
func (f *fakeSQS) hang(release chan struct{}, then respondFunc) respondFunc {
	return func(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
		f.mu.Lock()
		f.blocked++
		f.held[release]++
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			f.mu.Lock()
			if f.held[release] > 0 {
				f.held[release]--
				f.blocked--
			}
			f.mu.Unlock()
			return nil, ctx.Err()
		case <-release:
		}
		if then == nil {
			return answer(in, nil), nil
		}
		return then(ctx, in)
	}
}

// letGo ends the wait of every call hanging on release; they no longer
// count as blocked from the moment it returns.
func (f *fakeSQS) letGo(release chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(release)
	f.blocked -= f.held[release]
	delete(f.held, release)
}

func (f *fakeSQS) blockedNow() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.blocked
}

// answer lets every entry of in succeed except those whose receipt handle
// fails names.
func answer(in *sqs.ChangeMessageVisibilityBatchInput, fails map[string]failure) *sqs.ChangeMessageVisibilityBatchOutput {
	out := &sqs.ChangeMessageVisibilityBatchOutput{}
	for _, e := range in.Entries {
		if f, ok := fails[aws.ToString(e.ReceiptHandle)]; ok {
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{
				Id: e.Id, Code: aws.String(f.code), Message: aws.String(f.message), SenderFault: true})
			continue
		}
		out.Successful = append(out.Successful, types.ChangeMessageVisibilityBatchResultEntry{Id: e.Id})
	}
	return out
}

// failEntries answers with the given entries failed.
func failEntries(fails map[string]failure) respondFunc {
	return func(_ context.Context, in *sqs.ChangeMessageVisibilityBatchInput) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
		return answer(in, fails), nil
	}
}

// env is a running Manager on a fake clock and a fake client.
type env struct {
	t      *testing.T
	m      *Manager
	clk    *clock.Fake
	sqs    *fakeSQS
	logs   *observer.ObservedLogs
	cancel context.CancelFunc
	ran    chan struct{} // closed when Run returned

	mu       sync.Mutex
	failures map[string]int // OnFailure calls per queue
}

// setup starts a Manager with cfg (clock, logger and OnFailure filled in)
// whose calls respond answers (nil: every entry succeeds).
func setup(t *testing.T, cfg Config, respond respondFunc) *env {
	t.Helper()
	clk := clock.NewFake(t0)
	core, logs := observer.New(zap.DebugLevel)
	e := &env{
		t:        t,
		clk:      clk,
		sqs:      &fakeSQS{clk: clk, seen: make(chan fakeCall, 1000), held: map[chan struct{}]int{}, respond: respond},
		logs:     logs,
		ran:      make(chan struct{}),
		failures: map[string]int{},
	}
	cfg.Clock = clk
	cfg.Logger = zap.New(core)
	cfg.OnFailure = func(queue string) {
		e.mu.Lock()
		e.failures[queue]++
		e.mu.Unlock()
	}
	e.m = New(e.sqs, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go func() {
		defer close(e.ran)
		e.m.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-e.ran:
		case <-time.After(waitLimit):
			t.Error("Run did not return after its context ended")
		}
	})
	return e
}

// setRespond changes how the fake answers from now on.
func (e *env) setRespond(r respondFunc) {
	e.sqs.mu.Lock()
	e.sqs.respond = r
	e.sqs.mu.Unlock()
}

// idle waits until the manager has nothing left to do before the clock
// moves: Run waits for a timer that has not fired, its last sweep came
// after every wake-up, and every call under way hangs in the fake and has
// not reached its cut-off.
func (e *env) idle() {
	e.t.Helper()
	waitFor(e.t, "the manager to settle", func() bool {
		blocked := e.sqs.blockedNow()
		now := e.clk.Now()
		m := e.m
		m.mu.Lock()
		defer m.mu.Unlock()
		if !m.parked || m.swept != m.pokes || !(m.parkedFor.IsZero() || now.Before(m.parkedFor)) || len(m.calls) != blocked {
			return false
		}
		for b := range m.calls {
			if !now.Before(b.cut) {
				return false
			}
		}
		return true
	})
}

// advance moves the fake clock by d once the manager is idle, and waits
// until it is idle again.
func (e *env) advance(d time.Duration) {
	e.t.Helper()
	e.idle()
	e.clk.Advance(d)
	e.idle()
}

// nextCall waits for the fake to receive a call.
func (e *env) nextCall() fakeCall {
	e.t.Helper()
	select {
	case c := <-e.sqs.seen:
		return c
	case <-time.After(waitLimit):
		e.t.Fatal("no ChangeMessageVisibilityBatch call came")
		return fakeCall{}
	}
}

// failuresOf returns how often OnFailure was called for queue.
func (e *env) failuresOf(queue string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failures[queue]
}

// held returns how many leases the manager keeps.
func (e *env) held() int {
	e.m.mu.Lock()
	defer e.m.mu.Unlock()
	return len(e.m.leases)
}

// waitFor waits until cond holds, failing the test after waitLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	limit := time.After(waitLimit)
	for !cond() {
		select {
		case <-tick.C:
		case <-limit:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitClosed waits until c is closed.
func waitClosed(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(waitLimit):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// mustBeLost checks that l is lost with an error wrapping ErrLost whose
// text holds each of want.
func mustBeLost(t *testing.T, l *Lease, want ...string) {
	t.Helper()
	if !isClosed(l.Lost()) {
		t.Fatalf("lease not lost; Err() = %v", l.Err())
	}
	err := l.Err()
	if !errors.Is(err, ErrLost) {
		t.Fatalf("Err() = %v, want it to wrap ErrLost", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Err() = %q, want it to mention %q", err, w)
		}
	}
}
