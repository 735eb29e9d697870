package lease

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// A call that hangs is cut off by its bound and retried while the lease
// still holds, instead of using up the whole visibility timeout.
func TestStalledCallRetriedWithinLease(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{Visibility: 4 * time.Second, Interval: 1300 * time.Millisecond}, nil)
	var n atomic.Int32
	hang := e.sqs.hang(make(chan struct{}), nil)
	e.setRespond(func(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
		if n.Add(1) == 1 {
			return hang(ctx, in)
		}
		return answer(in, nil), nil
	})
	l := e.m.Hold("qa", "secret-receipt", t0)

	e.advance(1300 * time.Millisecond)
	if c := e.nextCall(); !c.at.Equal(t0.Add(1300 * time.Millisecond)) {
		t.Fatalf("first call at t0+%v, want t0+1.3s", c.at.Sub(t0))
	}
	e.advance(1300 * time.Millisecond) // the bound cuts the call off
	if isClosed(l.Lost()) {
		t.Fatalf("lease lost after one stalled call: %v", l.Err())
	}
	e.advance(325 * time.Millisecond) // min(Interval/4, 1s) later: the retry
	c := e.nextCall()
	if want := t0.Add(2925 * time.Millisecond); !c.at.Equal(want) {
		t.Fatalf("retry at t0+%v, want t0+2.925s", c.at.Sub(t0))
	}
	e.idle()
	if isClosed(l.Lost()) {
		t.Fatalf("lease lost: %v", l.Err())
	}
	if want := c.at.Add(4 * time.Second); !l.Deadline().Equal(want) {
		t.Errorf("Deadline() = t0+%v, want t0+%v", l.Deadline().Sub(t0), want.Sub(t0))
	}
	if got := e.failuresOf("qa"); got != 1 {
		t.Errorf("OnFailure called %d times, want 1", got)
	}
	warns := e.logs.FilterMessage("heartbeat failed; retrying").All()
	if len(warns) != 1 {
		t.Fatalf("%d warnings logged, want 1: %v", len(warns), e.logs.All())
	}
	fields := warns[0].ContextMap()
	if fields["queue"] != "qa" {
		t.Errorf("logged queue = %v, want qa", fields["queue"])
	}
	if got := fmt.Sprint(fields["error"]); !strings.Contains(got, "no answer within 1.3s") {
		t.Errorf("logged error = %q, want it to say the call was cut off", got)
	}
	for k, v := range fields {
		if strings.Contains(fmt.Sprint(v), "secret-receipt") {
			t.Errorf("log field %s holds the receipt handle", k)
		}
	}
}

func TestTransientFailuresLoseLeaseAtDeadline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		respond respondFunc
		want    string // in Err
	}{
		{
			name: "call fails",
			respond: func(context.Context, *sqs.ChangeMessageVisibilityBatchInput) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
				return nil, errors.New("connection reset")
			},
			want: "connection reset",
		},
		{
			name:    "entry fails with a transient code",
			respond: failEntries(map[string]failure{"r": {"InternalError", "try again"}}),
			want:    "InternalError: try again",
		},
		{
			name: "entry missing from the answer",
			respond: func(context.Context, *sqs.ChangeMessageVisibilityBatchInput) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
				return &sqs.ChangeMessageVisibilityBatchOutput{}, nil
			},
			want: "answered nothing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, Config{Visibility: 4 * time.Second, Interval: 1300 * time.Millisecond}, tt.respond)
			l := e.m.Hold("qa", "r", t0)
			deadline := t0.Add(4 * time.Second)
			for e.clk.Now().Before(deadline) {
				if isClosed(l.Lost()) {
					t.Fatalf("lost at t0+%v, before its deadline: %v", e.clk.Now().Sub(t0), l.Err())
				}
				e.advance(100 * time.Millisecond)
			}
			mustBeLost(t, l, "ran out", tt.want)

			calls := e.sqs.callsMade()
			if len(calls) < 5 {
				t.Errorf("%d calls before the lease ran out, want retries", len(calls))
			}
			for _, c := range calls {
				if !c.at.Before(deadline) {
					t.Errorf("call at t0+%v, after the deadline", c.at.Sub(t0))
				}
			}
			if got := e.failuresOf("qa"); got != len(calls) {
				t.Errorf("OnFailure called %d times, want %d", got, len(calls))
			}
			if e.logs.FilterMessage("heartbeat failed; retrying").Len() == 0 {
				t.Error("no warning logged")
			}
			if n := e.held(); n != 0 {
				t.Errorf("manager still holds %d leases", n)
			}
		})
	}
}

func TestGoneLosesAtOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fail failure
	}{
		{name: "ReceiptHandleIsInvalid", fail: failure{"ReceiptHandleIsInvalid", "The input receipt handle is not a valid receipt handle."}},
		{name: "MessageNotInflight", fail: failure{"MessageNotInflight", "The message is not in flight."}},
		{name: "AWS.SimpleQueueService.MessageNotInflight", fail: failure{"AWS.SimpleQueueService.MessageNotInflight", "not in flight"}},
		{name: "InvalidParameterValue about the receipt", fail: failure{"InvalidParameterValue",
			"Value x for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, Config{Visibility: 30 * time.Second, Interval: 10 * time.Second},
				failEntries(map[string]failure{"AQEBgone": {tt.fail.code, tt.fail.message + ` (handle "AQEBgone")`}}))
			gone := e.m.Hold("qa", "AQEBgone", t0)
			fine := e.m.Hold("qa", "fine", t0)

			e.advance(10 * time.Second)
			e.nextCall()
			e.idle()
			mustBeLost(t, gone, tt.fail.code, tt.fail.message, `(handle "<receipt handle>")`)
			if strings.Contains(gone.Err().Error(), "AQEBgone") {
				t.Errorf("Err() = %q holds the receipt handle", gone.Err())
			}
			if isClosed(fine.Lost()) {
				t.Fatalf("the other lease in the call was lost too: %v", fine.Err())
			}
			if want := t0.Add(40 * time.Second); !fine.Deadline().Equal(want) {
				t.Errorf("fine.Deadline() = t0+%v, want t0+40s", fine.Deadline().Sub(t0))
			}
			if got := e.failuresOf("qa"); got != 1 {
				t.Errorf("OnFailure called %d times, want 1", got)
			}
			if n := e.logs.FilterMessage("heartbeat failed; retrying").Len(); n != 0 {
				t.Errorf("%d retry warnings for a receipt that is gone", n)
			}

			e.advance(10 * time.Second)
			if c := e.nextCall(); !slices.Equal(c.receipts, []string{"fine"}) {
				t.Errorf("next call extended %v, want only fine", c.receipts)
			}
			gone.Release()
			if n := e.held(); n != 1 {
				t.Errorf("manager holds %d leases, want 1", n)
			}
		})
	}
}
