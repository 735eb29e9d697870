package lease

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func TestBatching(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		held map[string]int   // queue → leases held
		want map[string][]int // queue → entries per call, sorted
	}{
		{name: "23 leases on one queue", held: map[string]int{"qa": 23}, want: map[string][]int{"qa": {3, 10, 10}}},
		{name: "10 leases make one call", held: map[string]int{"qa": 10}, want: map[string][]int{"qa": {10}}},
		{name: "two queues", held: map[string]int{"qa": 3, "qb": 2}, want: map[string][]int{"qa": {3}, "qb": {2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			e := setup(t, Config{Visibility: 30 * time.Second, Interval: 10 * time.Second}, nil)
			e.setRespond(e.sqs.hang(release, nil))
			var leases []*Lease
			total := 0
			for queue, n := range tt.held {
				for i := range n {
					leases = append(leases, e.m.Hold(queue, fmt.Sprintf("%s-%d", queue, i), t0))
				}
				total += len(tt.want[queue])
			}

			e.advance(10 * time.Second)
			for range total {
				e.nextCall()
			}
			// Every call is in flight at once: none waits for another.
			e.idle()
			if got := e.sqs.blockedNow(); got != total {
				t.Fatalf("%d calls in flight together, want %d", got, total)
			}
			e.sqs.letGo(release)
			e.idle()

			got := map[string][]int{}
			seen := map[string]bool{}
			for _, c := range e.sqs.callsMade() {
				got[c.queue] = append(got[c.queue], len(c.receipts))
				for i, r := range c.receipts {
					if seen[r] {
						t.Errorf("receipt %s extended twice", r)
					}
					seen[r] = true
					if c.secs[i] != 30 {
						t.Errorf("receipt %s asked for %d s, want 30", r, c.secs[i])
					}
				}
			}
			for q := range got {
				slices.Sort(got[q])
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("calls per queue = %v, want %v", got, tt.want)
			}
			for _, l := range leases {
				if want := t0.Add(40 * time.Second); !l.Deadline().Equal(want) {
					t.Errorf("Deadline() = %v, want %v", l.Deadline(), want)
				}
			}
		})
	}
}

func TestHungQueueDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	e := setup(t, Config{Visibility: 30 * time.Second, Interval: 10 * time.Second}, nil)
	hang := e.sqs.hang(release, nil)
	e.setRespond(func(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
		if aws.ToString(in.QueueUrl) == "qa" {
			return hang(ctx, in)
		}
		return answer(in, nil), nil
	})
	a := e.m.Hold("qa", "a", t0)
	b := e.m.Hold("qb", "b", t0.Add(2*time.Second))

	e.advance(10 * time.Second)
	if c := e.nextCall(); c.queue != "qa" {
		t.Fatalf("first call on %s, want qa", c.queue)
	}
	e.advance(2 * time.Second)
	c := e.nextCall()
	if c.queue != "qb" || !c.at.Equal(t0.Add(12*time.Second)) {
		t.Fatalf("second call on %s at %v, want qb at t0+12s", c.queue, c.at.Sub(t0))
	}
	if e.sqs.blockedNow() != 1 {
		t.Fatal("the call on qa should still be in flight")
	}
	if want := t0.Add(42 * time.Second); !b.Deadline().Equal(want) {
		t.Errorf("b.Deadline() = t0+%v, want t0+42s while qa's call hangs", b.Deadline().Sub(t0))
	}
	if want := t0.Add(30 * time.Second); !a.Deadline().Equal(want) {
		t.Errorf("a.Deadline() = t0+%v before its call returned, want t0+30s", a.Deadline().Sub(t0))
	}
	e.sqs.letGo(release)
	e.idle()
	if want := t0.Add(40 * time.Second); !a.Deadline().Equal(want) {
		t.Errorf("a.Deadline() = t0+%v, want t0+40s", a.Deadline().Sub(t0))
	}
}

func TestLeasesDueSoonRideAlong(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{Visibility: 30 * time.Second, Interval: 10 * time.Second}, nil)
	e.m.Hold("qa", "a", t0)
	e.m.Hold("qa", "b", t0.Add(3*time.Second))
	e.m.Hold("qa", "c", t0.Add(7*time.Second))

	e.advance(10 * time.Second)
	first := e.nextCall()
	e.advance(7 * time.Second)
	second := e.nextCall()

	tests := []struct {
		name string
		call fakeCall
		at   time.Duration
		want []string
	}{
		{name: "a is due, b rides along, c is too far off", call: first, at: 10 * time.Second, want: []string{"a", "b"}},
		{name: "c is due, a and b ride along", call: second, at: 17 * time.Second, want: []string{"c", "a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.call.at.Sub(t0); got != tt.at {
				t.Errorf("call at t0+%v, want t0+%v", got, tt.at)
			}
			if !slices.Equal(tt.call.receipts, tt.want) {
				t.Errorf("call extended %v, want %v", tt.call.receipts, tt.want)
			}
		})
	}
	if n := len(e.sqs.callsMade()); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}

func TestDeadlineAdvances(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{Visibility: 30 * time.Second, Interval: 10 * time.Second}, nil)
	l := e.m.Hold("qa", "a", t0)
	if want := t0.Add(30 * time.Second); !l.Deadline().Equal(want) {
		t.Fatalf("Deadline() after Hold = t0+%v, want t0+30s", l.Deadline().Sub(t0))
	}
	for i, want := range []time.Duration{40 * time.Second, 50 * time.Second, 60 * time.Second} {
		e.advance(10 * time.Second)
		e.nextCall()
		e.idle()
		if got := l.Deadline().Sub(t0); got != want {
			t.Errorf("Deadline() after extension %d = t0+%v, want t0+%v", i+1, got, want)
		}
	}
	if isClosed(l.Lost()) {
		t.Errorf("lease lost: %v", l.Err())
	}
}
