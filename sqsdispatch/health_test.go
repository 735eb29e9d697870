package sqsdispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// TestHealthFollowsTheQueue: while receives fail, Status says so and
// Healthy turns unhealthy past its bound; once the queue answers again it is
// healthy again.
func TestHealthFollowsTheQueue(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memQueue(t, "health", nil)
	var down atomic.Bool
	mem.Intercept(func(_ context.Context, op string, _ any) error {
		if down.Load() && op == "ReceiveMessage" {
			return errors.New("connection refused")
		}
		return nil
	})
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: mem, QueueURL: url, Registry: testRegistry(),
		Job: "noop", WaitTime: time.Second, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := runAsync(runCtx, d)
	const bound = 300 * time.Millisecond
	waitFor(t, 30*time.Second, "the first receive", func() bool { return !d.Status().LastReceive.IsZero() })
	if err := d.Status().Healthy(bound, time.Now()); err != nil {
		t.Fatalf("healthy dispatcher reported %v", err)
	}

	down.Store(true)
	waitFor(t, 30*time.Second, "unhealthy", func() bool { return d.Status().Healthy(bound, time.Now()) != nil })
	st := d.Status()
	if st.State != sqsdispatch.StateBackingOff || !strings.Contains(st.LastError, "connection refused") {
		t.Fatalf("status while the queue is down: %+v", st)
	}
	b, err := json.Marshal(st)
	if err != nil || !strings.Contains(string(b), `"state":"backing_off"`) {
		t.Fatalf("status JSON %s (%v)", b, err)
	}

	down.Store(false)
	waitFor(t, 30*time.Second, "healthy again", func() bool {
		st := d.Status()
		return st.State == sqsdispatch.StateReceiving && st.Healthy(bound, time.Now()) == nil && st.LastError == ""
	})
	stop()
	wait(t, done, 30*time.Second, "Run")
}

// TestSlotStatusJSONIsReadable: durations marshal as strings.
func TestSlotStatusJSONIsReadable(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(sqsdispatch.SlotStatus{Job: "j", PID: 7, Age: 90 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"age":"1m30s"`) || !strings.Contains(string(b), `"pid":7`) {
		t.Fatalf("SlotStatus JSON %s", b)
	}
}
