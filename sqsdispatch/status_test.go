package sqsdispatch_test

// Status: the receive state and the running jobs.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

func TestStatusListsTheRunningJobsPID(t *testing.T) {
	t.Parallel()
	h := holdJob(t)
	st := h.d.Status()
	if len(st.Slots) != 1 {
		t.Fatalf("Status().Slots = %+v; want the one running job", st.Slots)
	}
	if s := st.Slots[0]; s.PID != h.pid || s.MessageID != h.id || s.Job != "sleep" || s.RSS <= 0 || s.ReceiveCount != 1 || s.Queue == "" || s.Age <= 0 {
		t.Errorf("slot = %+v; want the sleep job in pid %d with its RSS and age", s, h.pid)
	}
	if err := h.finish(t); err != nil {
		t.Fatal(err)
	}
	if st := h.d.Status(); len(st.Slots) != 0 {
		t.Fatalf("Status().Slots after the job = %+v; want none", st.Slots)
	}
}

// TestStatusFollowsRun: starting before Run, receiving while it runs,
// stopping once it was stopped.
func TestStatusFollowsRun(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	d := b.dispatcher(b.config("noop"))
	if st := d.Status(); st.State != sqsdispatch.StateStarting || st.Since.IsZero() || !st.LastReceive.IsZero() || st.Slots == nil {
		t.Fatalf("Status before Run = %+v; want %q since New, no receive yet, an empty slot list", st, sqsdispatch.StateStarting)
	}
	ctx, cancel := context.WithCancel(b.ctx)
	done := runAsync(ctx, d)
	waitFor(t, time.Minute, "a successful receive", func() bool {
		st := d.Status()
		return st.State == sqsdispatch.StateReceiving && !st.LastReceive.IsZero()
	})
	cancel()
	if err := wait(t, done, time.Minute, "Run to stop"); !errors.Is(err, sqsdispatch.ErrStopped) {
		t.Fatalf("Run = %v; want ErrStopped", err)
	}
	if st := d.Status(); st.State != sqsdispatch.StateStopping || st.LastError != "" {
		t.Fatalf("Status after Run = %+v; want %q without an error", st, sqsdispatch.StateStopping)
	}
}
