package sqsdispatch

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/lease"
	"github.com/sqsdispatch/go-sqsdispatch/internal/stop"
)

// noCalls is a Client for tests that make no SQS call; any call panics.
type noCalls struct{ Client }

// TestExitedChildWinsOverAStop: when the child has exited and a stop is
// pending at the same moment, the owner must apply the child's result, not
// interrupt it. Both are ready before await starts, so a select that picks
// at random would choose the stop about half the time; 20 tries.
func TestExitedChildWinsOverAStop(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	reg := NewRegistry()
	reg.Register("noop", func(context.Context, *Message) error { return nil })
	d, err := New(Config{Client: noCalls{}, QueueURL: "q", Registry: reg, Job: "noop"})
	if err != nil {
		t.Fatal(err)
	}
	leases := lease.New(noCalls{}, lease.Config{Visibility: time.Minute, Interval: time.Second})
	for i := range 20 {
		msg := &Message{ID: "m", Queue: "q"}
		c, err := child.Spawn(jobRequest(msg, "noop"), child.Options{Log: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		<-c.Done()
		r := newRunState(ctx, stop.Config{})
		r.stop.Request(errors.New("stop"))
		<-r.interrupt()
		m := &inflight{msg: msg, lease: leases.Hold("q", "r", time.Now())}
		tt := &turn{d: d, r: r, m: m, c: c, job: Job{Name: "noop"}, log: zap.NewNop()}
		if end := tt.await(); end != endExited {
			t.Fatalf("try %d: await chose %v over the exited child", i, end)
		}
		m.lease.Release()
		r.close()
		c.Release()
	}
}
