package sqsdispatch

import (
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// SlotStatus describes one running job.
type SlotStatus struct {
	Job          string
	MessageID    string
	Queue        string
	PID          int
	ReceiveCount int
	// Age is how long the job has been running.
	Age time.Duration
	// RSS is the current resident memory of the job's process tree, in
	// bytes.
	RSS int64
}

// slotTable tracks the running jobs for Status.
type slotTable struct {
	mu   sync.Mutex
	runs map[*inflight]*child
}

func (t *slotTable) add(m *inflight, c *child) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.runs == nil {
		t.runs = make(map[*inflight]*child)
	}
	t.runs[m] = c
}

func (t *slotTable) remove(m *inflight) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.runs, m)
}

// Status returns a snapshot of the running jobs, oldest first. It is safe
// to call while Run runs; measuring RSS reads /proc, so it costs a few
// milliseconds.
func (d *Dispatcher) Status() []SlotStatus {
	d.slots.mu.Lock()
	out := make([]SlotStatus, 0, len(d.slots.runs))
	for m, c := range d.slots.runs {
		out = append(out, SlotStatus{Job: m.job, MessageID: m.msg.ID, Queue: m.msg.Queue, PID: c.pid,
			ReceiveCount: m.msg.ReceiveCount, Age: time.Since(c.started)})
	}
	d.slots.mu.Unlock()
	pids := make([]int, len(out))
	for i, s := range out {
		pids[i] = s.PID
	}
	for i, rss := range treesRSS(pids) {
		out[i].RSS = rss
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Age > out[j].Age })
	return out
}

// logStatus logs one line per running job.
func (d *Dispatcher) logStatus() {
	st := d.Status()
	d.log.Info("status", zap.Int("busy_slots", len(st)), zap.Int("slots", d.cfg.Concurrency))
	for _, s := range st {
		d.log.Info("status slot", zap.String("job", s.Job), zap.String("message_id", s.MessageID),
			zap.String("queue", s.Queue), zap.Int("pid", s.PID), zap.Int("receive_count", s.ReceiveCount),
			zap.Duration("age", s.Age), zap.Int64("rss_bytes", s.RSS))
	}
}

// dumpStatusOnSIGUSR1 logs the status at each SIGUSR1 until done closes.
func (d *Dispatcher) dumpStatusOnSIGUSR1(done <-chan struct{}) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	defer signal.Stop(ch)
	for {
		select {
		case <-ch:
			d.logStatus()
		case <-done:
			return
		}
	}
}
