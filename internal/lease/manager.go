package lease

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// Manager extends the visibility of the messages it holds until they are
// released. Run does the work; Hold and Release may be called from any
// goroutine.
type Manager struct {
	c       Client
	cfg     Config
	clk     clock.Clock
	log     *zap.Logger
	retry   time.Duration // wait before a failed extension is retried
	started atomic.Bool
	wake    chan struct{} // tells Run to look at the leases again

	mu     sync.Mutex
	leases map[*Lease]struct{} // held, neither released nor lost
	seq    uint64
	// What Run and the calls are doing, for tests to wait on.
	parked    bool                // Run waits for its timer or a wake-up
	parkedFor time.Time           // when Run's timer fires; zero if it is off
	pokes     uint64              // wake-ups asked for
	swept     uint64              // wake-ups seen by the last sweep
	calls     map[*batch]struct{} // extension calls under way
}

// New returns a manager that extends leases through c. It panics if
// cfg.Visibility is under a second or cfg.Interval is not shorter than it.
func New(c Client, cfg Config) *Manager {
	cfg.Visibility = cfg.Visibility.Truncate(time.Second)
	if cfg.Interval == 0 {
		cfg.Interval = cfg.Visibility / 3
	}
	cfg.MaxAge = cmp.Or(cfg.MaxAge, MaxAgeDefault)
	if cfg.Visibility < time.Second || cfg.Interval <= 0 || cfg.Interval >= cfg.Visibility {
		panic(fmt.Sprintf("lease: invalid Config: Interval %s, Visibility %s", cfg.Interval, cfg.Visibility))
	}
	m := &Manager{
		c:      c,
		cfg:    cfg,
		clk:    cfg.Clock,
		log:    cmp.Or(cfg.Logger, zap.NewNop()),
		retry:  min(cfg.Interval/4, time.Second),
		wake:   make(chan struct{}, 1),
		leases: make(map[*Lease]struct{}),
		calls:  make(map[*batch]struct{}),
	}
	if m.clk == nil {
		m.clk = clock.Real{}
	}
	return m
}

// Run extends the leases as they fall due until ctx ends, and returns once
// every call it started has returned. Call it once per Manager.
func (m *Manager) Run(ctx context.Context) {
	if m.started.Swap(true) {
		panic("lease: Manager.Run called twice")
	}
	var calls sync.WaitGroup
	defer calls.Wait()
	timer := m.clk.NewTimer(time.Hour)
	defer timer.Stop()
	for ctx.Err() == nil {
		batches, next := m.sweep(m.clk.Now())
		for _, b := range batches {
			calls.Go(func() { m.extend(ctx, b) })
		}
		if !timer.Stop() {
			select { // drop a tick that fired meanwhile
			case <-timer.C():
			default:
			}
		}
		if !next.IsZero() {
			d := next.Sub(m.clk.Now())
			if d <= 0 {
				continue
			}
			timer.Reset(d)
		}
		m.park(true, next)
		select {
		case <-ctx.Done():
		case <-timer.C():
		case <-m.wake:
		}
		m.park(false, time.Time{})
	}
}

func (m *Manager) park(parked bool, until time.Time) {
	m.mu.Lock()
	m.parked, m.parkedFor = parked, until
	m.mu.Unlock()
}

// poke makes Run look at the leases again.
func (m *Manager) poke() {
	m.mu.Lock()
	m.pokes++
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// batch is one ChangeMessageVisibilityBatch call's worth of leases.
type batch struct {
	queue  string
	leases []*Lease
	secs   []int32       // visibility asked for each lease
	cut    time.Time     // when the call is cut off
	done   chan struct{} // closed when the call returned
}

// sweep loses the leases whose deadline passed, starts the extensions due
// at now, and returns them with when it next has something to do (zero if
// nothing). Leases due soon ride along in a batch that has room.
func (m *Manager) sweep(now time.Time) (batches []*batch, next time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.swept = m.pokes
	due := map[string][]*Lease{}
	early := map[string][]*Lease{}
	for l := range m.leases {
		switch {
		case l.call != nil:
		case !now.Before(l.deadline):
			m.lose(l, l.expiry())
		case l.limited:
		case !now.Before(l.due):
			due[l.queue] = append(due[l.queue], l)
		case !l.failing && l.due.Sub(now) <= m.cfg.Interval/2:
			early[l.queue] = append(early[l.queue], l)
		}
	}
	for queue, ls := range due {
		slices.SortFunc(ls, bySeq)
		if room := (maxBatch - len(ls)%maxBatch) % maxBatch; room > 0 {
			ride := early[queue]
			slices.SortFunc(ride, byDue)
			ls = append(ls, ride[:min(room, len(ride))]...)
		}
		for chunk := range slices.Chunk(ls, maxBatch) {
			if b := m.newBatch(queue, chunk, now); b != nil {
				batches = append(batches, b)
			}
		}
	}
	for l := range m.leases {
		if l.call != nil {
			continue
		}
		at := l.deadline
		if !l.limited && l.due.Before(at) {
			at = l.due
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	for _, b := range batches {
		m.calls[b] = struct{}{}
	}
	return batches, next
}

// newBatch puts in flight the leases of ls that SQS's limit still lets
// be extended, or returns nil if none. Called with m.mu held.
func (m *Manager) newBatch(queue string, ls []*Lease, now time.Time) *batch {
	b := &batch{queue: queue, done: make(chan struct{})}
	var earliest time.Time // deadline
	for _, l := range ls {
		vis := Cap(m.cfg.Visibility, now.Sub(l.received), m.cfg.MaxAge).Truncate(time.Second)
		if vis < time.Second {
			l.limited = true // it keeps what it holds until its deadline
			continue
		}
		l.call = b.done
		b.leases = append(b.leases, l)
		b.secs = append(b.secs, int32(vis/time.Second))
		if earliest.IsZero() || l.deadline.Before(earliest) {
			earliest = l.deadline
		}
	}
	if len(b.leases) == 0 {
		return nil
	}
	// A call may take neither the time between extensions nor more than
	// its leases have left, so that a failure can be retried in time.
	b.cut = now.Add(min(m.cfg.Interval, earliest.Sub(now)))
	return b
}

func bySeq(a, b *Lease) int { return cmp.Compare(a.seq, b.seq) }

func byDue(a, b *Lease) int {
	if c := a.due.Compare(b.due); c != 0 {
		return c
	}
	return bySeq(a, b)
}
