package sqsdispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
)

// State is what the dispatcher's receive loop is doing.
type State string

// States reported by Status.
const (
	StateStarting   State = "starting"    // reading the queues' attributes before the first receive
	StateReceiving  State = "receiving"   // receiving and running messages
	StateBackingOff State = "backing_off" // receives (or start-up checks) are failing; retrying
	StateStopping   State = "stopping"    // a stop was requested: no more receives
	StateRetired    State = "retired"     // MaxJobs or MaxLifetime reached: finishing running jobs
	StateDraining   State = "draining"    // Drain was called: no more receives; running jobs go on, then idle until stopped
)

// Status is a snapshot of a dispatcher, for health checks and operators.
// It marshals to readable JSON.
type Status struct {
	// State is what the receive loop is doing, since Since.
	State State     `json:"state"`
	Since time.Time `json:"since"`
	// LastReceive is when a receive last succeeded (with or without
	// messages); zero before the first.
	LastReceive time.Time `json:"last_receive,omitzero"`
	// LastError is the last receive or start-up error, and when it came;
	// empty once a receive has succeeded since.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// Slots lists the running jobs, oldest first.
	Slots []SlotStatus `json:"slots"`
}

// Healthy returns an error when receives have been failing for longer than
// maxFailing at now — the dispatcher cannot reach its queue — and nil
// otherwise. A /healthz handler:
//
//	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
//		st := d.Status()
//		if err := st.Healthy(time.Minute, time.Now()); err != nil {
//			w.WriteHeader(http.StatusServiceUnavailable)
//		}
//		_ = json.NewEncoder(w).Encode(st)
//	})
func (s Status) Healthy(maxFailing time.Duration, now time.Time) error {
	if s.State == StateBackingOff && now.Sub(s.Since) > maxFailing {
		return fmt.Errorf("sqsdispatch: receives failing for %s (since %s): %s",
			now.Sub(s.Since).Round(time.Second), s.Since.Format(time.RFC3339), s.LastError)
	}
	return nil
}

// SlotStatus describes one running job.
type SlotStatus struct {
	Job          string `json:"job"`
	MessageID    string `json:"message_id"`
	Queue        string `json:"queue"`
	PID          int    `json:"pid"`
	ReceiveCount int    `json:"receive_count"`
	// Age is how long the job has been running; in JSON, a string such as
	// "1m30s".
	Age time.Duration `json:"-"`
	// RSS is the current resident memory of the job's process tree, in
	// bytes.
	RSS int64 `json:"rss_bytes"`
}

// MarshalJSON writes Age as a duration string.
func (s SlotStatus) MarshalJSON() ([]byte, error) {
	type plain SlotStatus
	return json.Marshal(struct {
		plain
		Age string `json:"age"`
	}{plain(s), s.Age.String()})
}

// health tracks the receive loop's state for Status.
type health struct {
	mu       sync.Mutex
	draining bool // once Drain was called, receiving (or failing to) reads as draining
	state    State
	since    time.Time
	last     time.Time
	err      string
	errAt    time.Time
}

func (h *health) set(s State) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.setLocked(s)
}

// setLocked is set, with h.mu held.
func (h *health) setLocked(s State) {
	if h.draining && (s == StateReceiving || s == StateBackingOff) {
		s = StateDraining
	}
	if h.state != s {
		h.state, h.since = s, time.Now()
	}
}

// drain records a Drain: the state reads draining from now on, where it
// would read receiving or backing off.
func (h *health) drain() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.draining = true
	h.setLocked(h.state)
}

// received records a successful receive.
func (h *health) received() {
	h.mu.Lock()
	h.last, h.err, h.errAt = time.Now(), "", time.Time{}
	h.mu.Unlock()
	h.set(StateReceiving)
}

// failed records a failed receive or start-up check.
func (h *health) failed(err error) {
	h.mu.Lock()
	h.err, h.errAt = err.Error(), time.Now()
	h.mu.Unlock()
	h.set(StateBackingOff)
}

// slotTable tracks the running jobs for Status, and reports each change
// of their number, in order, to busy.
type slotTable struct {
	mu   sync.Mutex
	runs map[*inflight]*child.Child
	busy func(n int)
}

func (t *slotTable) add(m *inflight, c *child.Child) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.runs == nil {
		t.runs = make(map[*inflight]*child.Child)
	}
	t.runs[m] = c
	t.busy(len(t.runs))
}

func (t *slotTable) remove(m *inflight) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.runs[m]; !ok {
		return // removed already: a deleted message's slot is freed early
	}
	delete(t.runs, m)
	t.busy(len(t.runs))
}

// Status returns a snapshot of the dispatcher: the receive state and the
// running jobs. It is safe to call while Run runs; measuring RSS reads
// /proc, so it costs a few milliseconds.
func (d *Dispatcher) Status() Status {
	d.health.mu.Lock()
	st := Status{State: d.health.state, Since: d.health.since, LastReceive: d.health.last,
		LastError: d.health.err, LastErrorAt: d.health.errAt}
	d.health.mu.Unlock()
	d.slots.mu.Lock()
	st.Slots = make([]SlotStatus, 0, len(d.slots.runs))
	for m, c := range d.slots.runs {
		st.Slots = append(st.Slots, SlotStatus{Job: m.job, MessageID: m.msg.ID, Queue: m.msg.Queue, PID: c.PID(),
			ReceiveCount: m.msg.ReceiveCount, Age: time.Since(c.Started())})
	}
	d.slots.mu.Unlock()
	pids := make([]int, len(st.Slots))
	for i, s := range st.Slots {
		pids[i] = s.PID
	}
	for i, rss := range child.TreesRSS(pids) {
		st.Slots[i].RSS = rss
	}
	sort.Slice(st.Slots, func(i, j int) bool { return st.Slots[i].Age > st.Slots[j].Age })
	return st
}

// logStatus logs the state and one line per running job.
func (d *Dispatcher) logStatus() {
	st := d.Status()
	d.log.Info("status", zap.String("state", string(st.State)), zap.Int("busy_slots", len(st.Slots)),
		zap.Int("slots", d.cfg.Concurrency), zap.Time("last_receive", st.LastReceive), zap.String("last_error", st.LastError))
	for _, s := range st.Slots {
		d.log.Info("status slot", zap.String("job", s.Job), zap.String("message_id", s.MessageID),
			zap.String("queue", s.Queue), zap.Int("pid", s.PID), zap.Int("receive_count", s.ReceiveCount),
			zap.Duration("age", s.Age), zap.Int64("rss_bytes", s.RSS))
	}
}

// watchSIGUSR1 registers for SIGUSR1 at once and logs the status at each
// one until ctx ends.
func (d *Dispatcher) watchSIGUSR1(ctx context.Context, wg *sync.WaitGroup) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	wg.Go(func() {
		defer signal.Stop(ch)
		for {
			select {
			case <-ch:
				d.logStatus()
			case <-ctx.Done():
				return
			}
		}
	})
}
