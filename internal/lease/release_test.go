package lease

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// Release waits out an extension in flight and ignores its result; no
// extension is sent afterwards and the lease is never lost.
func TestReleaseDuringCall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		then   respondFunc // the answer once the call is let go
		cutOff bool        // the call is let go by its bound, not by an answer
	}{
		{name: "call succeeds after release"},
		{name: "receipt gone after release", then: failEntries(map[string]failure{"r": {"ReceiptHandleIsInvalid", "invalid"}})},
		{name: "call cut off by its bound after release", cutOff: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, Config{Visibility: 30 * time.Second, Interval: 10 * time.Second}, nil)
			letGo := make(chan struct{})
			e.setRespond(e.sqs.hang(letGo, tt.then))
			l := e.m.Hold("qa", "r", t0)
			e.advance(10 * time.Second)
			e.nextCall()
			e.idle()

			released := make(chan struct{})
			go func() {
				l.Release()
				close(released)
			}()
			waitFor(t, "Release to begin", func() bool {
				e.m.mu.Lock()
				defer e.m.mu.Unlock()
				return l.released
			})
			if isClosed(released) {
				t.Fatal("Release returned while the extension was in flight")
			}
			if tt.cutOff {
				e.advance(10 * time.Second)
			} else {
				e.sqs.letGo(letGo)
			}
			waitClosed(t, released, "Release to return")
			e.setRespond(nil)

			if want := t0.Add(30 * time.Second); !l.Deadline().Equal(want) {
				t.Errorf("Deadline() = t0+%v after Release, want the call's result ignored (t0+30s)", l.Deadline().Sub(t0))
			}
			// Another lease on the queue shows extensions still go out.
			other := e.m.Hold("qa", "other", e.clk.Now())
			t.Cleanup(other.Release)
			for e.clk.Now().Before(t0.Add(70 * time.Second)) {
				e.advance(time.Second)
			}
			calls := e.sqs.callsMade()
			if len(calls) < 3 {
				t.Fatalf("%d calls, want the other lease extended: %+v; held %d; lost %v", len(calls), calls, e.held(), other.Err())
			}
			for _, c := range calls[1:] {
				if slices.Contains(c.receipts, "r") {
					t.Errorf("released lease extended at t0+%v", c.at.Sub(t0))
				}
			}
			if isClosed(l.Lost()) {
				t.Errorf("released lease lost: %v", l.Err())
			}
			if n := e.held(); n != 1 {
				t.Errorf("manager holds %d leases, want 1", n)
			}
		})
	}
}

func TestReleaseBeforeExtension(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{Visibility: 30 * time.Second, Interval: 10 * time.Second}, nil)
	l := e.m.Hold("qa", "r", t0)
	e.idle()
	l.Release()
	l.Release()
	for range 8 {
		e.advance(10 * time.Second)
	}
	if n := len(e.sqs.callsMade()); n != 0 {
		t.Errorf("%d calls for a released lease", n)
	}
	if isClosed(l.Lost()) {
		t.Errorf("released lease lost: %v", l.Err())
	}
	if n := e.held(); n != 0 {
		t.Errorf("manager holds %d leases, want 0", n)
	}
}

func TestReleaseAfterLost(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{Visibility: 30 * time.Second, Interval: 10 * time.Second},
		failEntries(map[string]failure{"r": {"MessageNotInflight", "gone"}}))
	l := e.m.Hold("qa", "r", t0)
	e.advance(10 * time.Second)
	e.nextCall()
	e.idle()
	mustBeLost(t, l, "MessageNotInflight")
	l.Release()
	l.Release()
	mustBeLost(t, l, "MessageNotInflight")
	if n := e.held(); n != 0 {
		t.Errorf("manager holds %d leases, want 0", n)
	}
}

func TestRunStopsWithCallInFlight(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{Visibility: 30 * time.Second, Interval: 10 * time.Second}, nil)
	e.setRespond(e.sqs.hang(make(chan struct{}), nil))
	l := e.m.Hold("qa", "r", t0)
	e.advance(10 * time.Second)
	e.nextCall()
	e.idle()
	e.cancel()
	waitClosed(t, e.ran, "Run to return")
	l.Release()
	if isClosed(l.Lost()) {
		t.Errorf("lease lost because Run stopped: %v", l.Err())
	}
	if got := e.failuresOf("qa"); got != 0 {
		t.Errorf("OnFailure called %d times for a call cut short by stopping", got)
	}
}

// Leases held and released over many rounds leave nothing behind.
func TestReleasedLeasesLeaveNothing(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{Visibility: 30 * time.Second, Interval: 10 * time.Second}, nil)
	for round := range 20 {
		var ls []*Lease
		for i := range 7 {
			ls = append(ls, e.m.Hold("qa", fmt.Sprintf("r%d-%d", round, i), e.clk.Now()))
		}
		e.advance(10 * time.Second)
		e.nextCall()
		e.idle()
		for _, l := range ls {
			l.Release()
		}
	}
	if n := e.held(); n != 0 {
		t.Errorf("manager holds %d leases after all were released", n)
	}
	if n := len(e.sqs.callsMade()); n != 20 {
		t.Errorf("%d calls, want one per round", n)
	}
}
