package ack

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
)

// waitLimit bounds every wait for something that must happen.
const waitLimit = 30 * time.Second

// sent is one batch call the fake client received.
type sent struct {
	op       string
	queue    string
	receipts []string
	secs     []int32
}

// fakeClient records its batch calls. answer, when set, decides each
// call's outcome from its number (1 for the first) and the receipt
// handles: per-entry failures, or an error for the whole call.
type fakeClient struct {
	mu     sync.Mutex
	calls  []sent
	answer func(n int, receipts []string) (failed map[string]types.BatchResultErrorEntry, err error)
}

func newFakeClient() *fakeClient { return &fakeClient{} }

func (f *fakeClient) record(s sent) (map[string]types.BatchResultErrorEntry, error) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	n, answer := len(f.calls), f.answer
	f.mu.Unlock()
	if answer == nil {
		return nil, nil
	}
	return answer(n, s.receipts)
}

func (f *fakeClient) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	s := sent{op: "delete", queue: aws.ToString(in.QueueUrl)}
	for _, e := range in.Entries {
		s.receipts = append(s.receipts, aws.ToString(e.ReceiptHandle))
	}
	failed, err := f.record(s)
	if err != nil {
		return nil, err
	}
	out := &sqs.DeleteMessageBatchOutput{}
	for _, e := range in.Entries {
		if fe, bad := failed[aws.ToString(e.ReceiptHandle)]; bad {
			fe.Id = e.Id
			out.Failed = append(out.Failed, fe)
		} else {
			out.Successful = append(out.Successful, types.DeleteMessageBatchResultEntry{Id: e.Id})
		}
	}
	return out, nil
}

func (f *fakeClient) ChangeMessageVisibilityBatch(_ context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	s := sent{op: "visibility", queue: aws.ToString(in.QueueUrl)}
	for _, e := range in.Entries {
		s.receipts = append(s.receipts, aws.ToString(e.ReceiptHandle))
		s.secs = append(s.secs, e.VisibilityTimeout)
	}
	failed, err := f.record(s)
	if err != nil {
		return nil, err
	}
	out := &sqs.ChangeMessageVisibilityBatchOutput{}
	for _, e := range in.Entries {
		if fe, bad := failed[aws.ToString(e.ReceiptHandle)]; bad {
			fe.Id = e.Id
			out.Failed = append(out.Failed, fe)
		} else {
			out.Successful = append(out.Successful, types.ChangeMessageVisibilityBatchResultEntry{Id: e.Id})
		}
	}
	return out, nil
}

func (f *fakeClient) sent() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.calls...)
}

// result is one caller's answer.
type result struct {
	receipt string
	err     error
}

// deleteAsync deletes receipt in a goroutine and delivers its answer.
func deleteAsync(ctx context.Context, b *Batcher, url, receipt string, fifo bool, out chan<- result) {
	go func() { out <- result{receipt, b.Delete(ctx, url, receipt, "id-"+receipt, fifo)} }()
}

// collect waits for n answers.
func collect(t *testing.T, out <-chan result, n int) map[string]error {
	t.Helper()
	got := map[string]error{}
	deadline := time.After(waitLimit)
	for len(got) < n {
		select {
		case r := <-out:
			got[r.receipt] = r.err
		case <-deadline:
			t.Fatalf("%d answers after %s; want %d", len(got), waitLimit, n)
		}
	}
	return got
}

// ctxFor returns a context with a deadline a minute off, for one test.
func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func receipts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("r%d", i)
	}
	return out
}

// TestBatchesFillAndFlush: entries for one queue share a call; a full
// batch of ten goes at once, a partial one when its window ends or once
// every message held has its entry, and a FIFO queue's entries go at
// once, alone.
func TestBatchesFillAndFlush(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		n         int
		held      int // 0: no Held
		fifo      bool
		advance   time.Duration // how far the clock goes before the calls are expected
		wantCalls []int         // entries per call
	}{
		{name: "ten fill a call, sent without waiting", n: 10, wantCalls: []int{10}},
		{name: "twelve: a full call, and the rest when the window ends", n: 12, advance: 20 * time.Millisecond, wantCalls: []int{10, 2}},
		{name: "three wait out the window", n: 3, advance: 20 * time.Millisecond, wantCalls: []int{3}},
		{name: "every message held has its entry: sent at once", n: 3, held: 3, wantCalls: []int{3}},
		{name: "a lone message held: sent at once", n: 1, held: 1, wantCalls: []int{1}},
		{name: "FIFO: each at once, alone", n: 3, fifo: true, wantCalls: []int{1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fc, clk := newFakeClient(), clock.NewFake(time.Now())
			cfg := Config{Window: 20 * time.Millisecond, Clock: clk}
			if tt.held > 0 {
				cfg.Held = func(string) int { return tt.held }
			}
			b := New(fc, cfg)
			out := make(chan result, tt.n)
			ctx := ctxFor(t)
			for i, r := range receipts(tt.n) {
				deleteAsync(ctx, b, "q", r, tt.fifo, out)
				if !tt.fifo && tt.held == 0 { // each joins before the next comes
					want := (i + 1) % maxEntries
					eventually(t, fmt.Sprintf("%d entries waiting", want), nil, func() bool { return waiting(b, "q") == want })
				}
			}
			if tt.advance > 0 {
				clk.Advance(tt.advance)
			}
			got := collect(t, out, tt.n)
			for r, err := range got {
				if err != nil {
					t.Errorf("%s: %v", r, err)
				}
			}
			var sizes []int
			for _, s := range fc.sent() {
				sizes = append(sizes, len(s.receipts))
			}
			if fmt.Sprint(sizes) != fmt.Sprint(tt.wantCalls) {
				t.Errorf("calls of %v entries; want %v", sizes, tt.wantCalls)
			}
		})
	}
}

// eventually polls cond until it holds, failing the test after waitLimit;
// each poll first runs step (nil: nothing), which may move a fake clock.
func eventually(t *testing.T, what string, step func(), cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitLimit)
	for {
		if step != nil {
			step()
		}
		if cond() {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out after %s waiting for %s", waitLimit, what)
		}
	}
}

// waiting returns how many entries of url wait in an open batch.
func waiting(b *Batcher, url string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiting(url)
}

func serverFault(code string) types.BatchResultErrorEntry {
	return types.BatchResultErrorEntry{Code: aws.String(code), Message: aws.String("injected"), SenderFault: false}
}

// TestOneFailedEntryIsRetriedAlone: of ten entries, one fails with an
// error SQS may get past: the nine others are answered by the first call,
// before the failed one is retried, alone, and answered in turn.
func TestOneFailedEntryIsRetriedAlone(t *testing.T) {
	t.Parallel()
	fc, clk := newFakeClient(), clock.NewFake(time.Now())
	fc.answer = func(n int, _ []string) (map[string]types.BatchResultErrorEntry, error) {
		if n == 1 {
			return map[string]types.BatchResultErrorEntry{"r4": serverFault("InternalError")}, nil
		}
		return nil, nil
	}
	b := New(fc, Config{Window: time.Hour, Clock: clk})
	out := make(chan result, 10)
	for _, r := range receipts(10) {
		deleteAsync(ctxFor(t), b, "q", r, false, out)
	}
	nine := collect(t, out, 9)
	if _, early := nine["r4"]; early || len(fc.sent()) != 1 {
		t.Fatal("the failed entry was answered, or retried, before the clock moved")
	}
	for r, err := range nine {
		if err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
	eventually(t, "the retry", func() { clk.Advance(queue.BackoffBase) }, func() bool { return len(fc.sent()) == 2 })
	if got := collect(t, out, 1); got["r4"] != nil {
		t.Fatalf("r4 after its retry: %v", got["r4"])
	}
	calls := fc.sent()
	if len(calls) != 2 || len(calls[1].receipts) != 1 || calls[1].receipts[0] != "r4" {
		t.Fatalf("calls %+v; want the ten, then r4 alone", calls)
	}
}

// TestWholeCallFailureRetriesEveryEntry: a call that fails as a whole is
// made again for every entry; a fatal one is not, and fails them all.
func TestWholeCallFailureRetriesEveryEntry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		err       error
		wantCalls int
		wantFatal bool
	}{
		{"unavailable: tried again", &smithy.GenericAPIError{Code: "ServiceUnavailable", Fault: smithy.FaultServer}, 2, false},
		{"the queue is gone: not tried again", &types.QueueDoesNotExist{Message: aws.String("gone")}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fc, clk := newFakeClient(), clock.NewFake(time.Now())
			fc.answer = func(n int, _ []string) (map[string]types.BatchResultErrorEntry, error) {
				if n == 1 {
					return nil, tt.err
				}
				return nil, nil
			}
			b := New(fc, Config{Held: func(string) int { return 3 }, Clock: clk, Window: time.Hour})
			out := make(chan result, 3)
			for _, r := range receipts(3) {
				deleteAsync(ctxFor(t), b, "q", r, false, out)
			}
			if !tt.wantFatal {
				eventually(t, "the second call", func() { clk.Advance(queue.BackoffBase) }, func() bool { return len(fc.sent()) == 2 })
			}
			for r, err := range collect(t, out, 3) {
				if fatal := queue.IsFatal(err); (err != nil) != tt.wantFatal || fatal != tt.wantFatal {
					t.Errorf("%s: %v; want fatal %t", r, err, tt.wantFatal)
				}
			}
			if calls := fc.sent(); len(calls) != tt.wantCalls || len(calls[len(calls)-1].receipts) != 3 {
				t.Errorf("calls %+v; want %d of all three", calls, tt.wantCalls)
			}
		})
	}
}

// TestInvalidReceiptIsNotRetried: an entry whose receipt handle no longer
// holds the message is answered with an error LeaseGone recognises, at
// once; the others succeed.
func TestInvalidReceiptIsNotRetried(t *testing.T) {
	t.Parallel()
	fc := newFakeClient()
	fc.answer = func(int, []string) (map[string]types.BatchResultErrorEntry, error) {
		return map[string]types.BatchResultErrorEntry{"r1": {Code: aws.String("ReceiptHandleIsInvalid"), Message: aws.String("gone"), SenderFault: true}}, nil
	}
	b := New(fc, Config{Held: func(string) int { return 3 }, Window: time.Hour})
	out := make(chan result, 3)
	for _, r := range receipts(3) {
		deleteAsync(ctxFor(t), b, "q", r, false, out)
	}
	got := collect(t, out, 3)
	var oe *queue.OpError
	if err := got["r1"]; !queue.LeaseGone(err) || !errors.As(err, &oe) || oe.MessageID != "id-r1" || oe.Op != "DeleteMessage" {
		t.Errorf("r1: %v; want a DeleteMessage *OpError naming id-r1 that LeaseGone recognises", err)
	}
	if got["r0"] != nil || got["r2"] != nil {
		t.Errorf("the others: %v, %v; want success", got["r0"], got["r2"])
	}
	if n := len(fc.sent()); n != 1 {
		t.Errorf("%d calls; want 1", n)
	}
}

// TestEntryWithdrawnWhenItsContextEnds: an entry whose context ends while
// it waits for others is taken out and answered with the context's error;
// the others are sent without it.
func TestEntryWithdrawnWhenItsContextEnds(t *testing.T) {
	t.Parallel()
	fc, clk := newFakeClient(), clock.NewFake(time.Now())
	b := New(fc, Config{Window: time.Hour, Clock: clk})
	out := make(chan result, 2)
	short, cancel := context.WithCancel(context.Background())
	deleteAsync(short, b, "q", "r0", false, out)
	eventually(t, "r0 waiting", nil, func() bool { return waiting(b, "q") == 1 })
	deleteAsync(ctxFor(t), b, "q", "r1", false, out)
	eventually(t, "r1 waiting", nil, func() bool { return waiting(b, "q") == 2 })
	cancel()
	if got := collect(t, out, 1); !errors.Is(got["r0"], context.Canceled) {
		t.Fatalf("r0: %v; want its context's error", got["r0"])
	}
	clk.Advance(time.Hour)
	if got := collect(t, out, 1); got["r1"] != nil {
		t.Fatalf("r1: %v", got["r1"])
	}
	if calls := fc.sent(); len(calls) != 1 || fmt.Sprint(calls[0].receipts) != "[r1]" {
		t.Fatalf("calls %+v; want r1 alone", calls)
	}
}

// TestVisibilityAndDeleteGoInCallsOfTheirOwn: the visibility timeouts are
// rounded up to whole seconds within SQS's bounds, and deletes and
// visibility changes of one queue never share a call.
func TestVisibilityAndDeleteGoInCallsOfTheirOwn(t *testing.T) {
	t.Parallel()
	fc := newFakeClient()
	b := New(fc, Config{Held: func(string) int { return 4 }, Window: time.Hour})
	ctx := ctxFor(t)
	out := make(chan result, 4)
	for r, d := range map[string]time.Duration{"v0": 1500 * time.Millisecond, "v1": -time.Second, "v2": 13 * time.Hour} {
		go func() { out <- result{r, b.SetVisibility(ctx, "q", r, "id-"+r, d, false)} }()
	}
	deleteAsync(ctx, b, "q", "d0", false, out)
	for r, err := range collect(t, out, 4) {
		if err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
	secs := map[string]int32{}
	kinds := map[string]int{}
	for _, s := range fc.sent() {
		kinds[s.op]++
		for i, r := range s.receipts {
			if s.op == "visibility" {
				secs[r] = s.secs[i]
			}
		}
	}
	if kinds["delete"] != 1 || kinds["visibility"] != 1 {
		t.Errorf("calls by kind %v; want one of each", kinds)
	}
	if want := map[string]int32{"v0": 2, "v1": 0, "v2": 43200}; fmt.Sprint(secs) != fmt.Sprint(want) {
		t.Errorf("visibility timeouts %v; want %v", secs, want)
	}
}

// TestEveryEntryAnsweredOnce: many callers on several queues, with random
// entry failures: every caller gets exactly one answer, every message is
// settled, and no call has more than ten entries.
func TestEveryEntryAnsweredOnce(t *testing.T) {
	t.Parallel()
	fc := newFakeClient()
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(7, 7))
	fc.answer = func(_ int, rs []string) (map[string]types.BatchResultErrorEntry, error) {
		mu.Lock()
		defer mu.Unlock()
		failed := map[string]types.BatchResultErrorEntry{}
		for _, r := range rs {
			if rng.IntN(10) == 0 {
				failed[r] = serverFault("InternalError")
			}
		}
		return failed, nil
	}
	b := New(fc, Config{Window: time.Millisecond})
	const n = 300
	out := make(chan result, n)
	ctx := ctxFor(t)
	for i := range n {
		deleteAsync(ctx, b, fmt.Sprintf("q%d", i%3), fmt.Sprintf("r%d", i), false, out)
	}
	got := collect(t, out, n)
	for r, err := range got {
		if err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
	settled := map[string]bool{}
	for _, s := range fc.sent() {
		if len(s.receipts) > maxEntries {
			t.Fatalf("a call of %d entries", len(s.receipts))
		}
		for _, r := range s.receipts {
			settled[r] = true
		}
	}
	if len(settled) != n {
		t.Errorf("%d messages reached SQS; want %d", len(settled), n)
	}
	select {
	case r := <-out:
		t.Fatalf("a second answer for %s", r.receipt)
	default:
	}
}

// TestReceiptHandleStaysOutOfErrors: SQS names the receipt handle in the
// message of a failed entry; the error the caller gets does not.
func TestReceiptHandleStaysOutOfErrors(t *testing.T) {
	t.Parallel()
	fc := newFakeClient()
	const receipt = "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a"
	fc.answer = func(int, []string) (map[string]types.BatchResultErrorEntry, error) {
		return map[string]types.BatchResultErrorEntry{receipt: {Code: aws.String("ReceiptHandleIsInvalid"),
			Message: aws.String("The input receipt handle \"" + receipt + "\" is not a valid receipt handle."), SenderFault: true}}, nil
	}
	err := New(fc, Config{}).Delete(ctxFor(t), "q", receipt, "m-1", false)
	if err == nil || strings.Contains(err.Error(), receipt) || !strings.Contains(err.Error(), "<receipt handle>") {
		t.Fatalf("err = %v; want the failure without the receipt handle", err)
	}
}
