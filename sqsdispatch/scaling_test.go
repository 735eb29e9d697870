package sqsdispatch_test

import (
	"slices"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
)

// TestScalingMetrics: what an autoscaler or a dashboard reads. Three
// jobs on two slots: the busy slots rise to both and fall back to none,
// the messages in flight are counted up and down to none, and the
// sampled backlog reports the queue's counts, divided by the fleet.
func TestScalingMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	for range 3 {
		b.send(`{"sleep": 500000000}`, nil)
	}
	rm := newRecordingMetrics()
	cfg := b.config("sleep")
	cfg.Metrics, cfg.Concurrency = rm, 2
	cfg.BacklogInterval, cfg.FleetSize = 100*time.Millisecond, func() int { return 4 }
	var samples int
	runUntil(t, b.dispatcher(cfg), "three jobs and a backlog sample", func() bool {
		rm.mu.Lock()
		defer rm.mu.Unlock()
		samples = len(rm.backlog)
		return samples > 0 && drained(t, b.ctx, b.q.URL)
	})
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if rm.slots != 2 || slices.Max(rm.busy) != 2 || rm.busy[len(rm.busy)-1] != 0 {
		t.Errorf("busy slots %v of %d; want up to 2 of 2, and 0 at the end", rm.busy, rm.slots)
	}
	if in := rm.inFlight[b.q.URL]; len(in) != 6 || slices.Max(in) < 1 || in[len(in)-1] != 0 {
		t.Errorf("in flight %v; want three up and three down, ending at 0", in)
	}
	first := rm.backlog[0]
	if first.Visible+first.InFlight == 0 || first.PerDispatcher != float64(first.Visible)/4 {
		t.Errorf("first backlog sample %+v; want the queue's messages, and per dispatcher a quarter of the visible", first)
	}
}
