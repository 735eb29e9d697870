package child

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// Spares keeps up to a number of children started and waiting at the
// handshake, so that a message does not wait for a child's start-up. Each
// spare is used for exactly one request; one that has waited longer than
// its maximum idle time is killed and replaced. Everything the pool
// started is released before Run returns.
type Spares struct {
	want    int
	maxIdle time.Duration
	opts    Options
	clk     clock.Clock
	kick    chan struct{}

	mu     sync.Mutex
	idle   []spare  // oldest first
	stale  []*Child // taken out of idle, to be released by Run
	closed bool     // Run returned: Take returns nil
}

// minSparesTick bounds how often Run looks for stale spares.
const minSparesTick = 10 * time.Millisecond

type spare struct {
	c     *Child
	since time.Time // on the pool's clock
}

// NewSpares returns a pool of want spares, each retired after waiting
// maxIdle (which must be shorter than HandshakeTimeout), started with
// opts. clk (nil: the real clock) measures idleness.
func NewSpares(want int, maxIdle time.Duration, opts Options, clk clock.Clock) *Spares {
	if clk == nil {
		clk = clock.Real{}
	}
	if opts.Log != nil {
		opts.Log = opts.Log.With(zap.Bool("spare", true))
	}
	return &Spares{want: want, maxIdle: maxIdle, opts: opts, clk: clk, kick: make(chan struct{}, 1)}
}

// Take returns a spare ready for Send, or nil when none is.
func (s *Spares) Take() *Child {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	defer s.refill()
	now := s.clk.Now()
	for len(s.idle) > 0 {
		sp := s.idle[0]
		s.idle = s.idle[1:]
		if s.fresh(sp, now) {
			return sp.c
		}
		s.stale = append(s.stale, sp.c)
	}
	return nil
}

// PIDs returns the pids of the waiting spares, oldest first.
func (s *Spares) PIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	pids := make([]int, len(s.idle))
	for i, sp := range s.idle {
		pids[i] = sp.c.PID()
	}
	return pids
}

func (s *Spares) fresh(sp spare, now time.Time) bool {
	return !isClosed(sp.c.Done()) && now.Sub(sp.since) < s.maxIdle
}

func (s *Spares) refill() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run keeps the pool full until ctx ends, then releases every child it
// started that was not taken.
func (s *Spares) Run(ctx context.Context) {
	defer s.close()
	tick := max(s.maxIdle/4, minSparesTick)
	t := s.clk.NewTimer(tick)
	defer t.Stop()
	for {
		s.retireStale()
		s.fill(ctx)
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-t.C():
			t.Reset(tick)
		}
	}
}

func (s *Spares) fill(ctx context.Context) {
	for s.count() < s.want && ctx.Err() == nil {
		c, err := Start(s.opts)
		if err != nil {
			if s.opts.Log != nil {
				s.opts.Log.Warn("cannot start a spare child", zap.Error(err))
			}
			return // tried again at the next tick
		}
		s.mu.Lock()
		s.idle = append(s.idle, spare{c: c, since: s.clk.Now()})
		s.mu.Unlock()
	}
}

func (s *Spares) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.idle)
}

// retireStale releases the spares that waited too long or died, and those
// Take set aside.
func (s *Spares) retireStale() {
	s.mu.Lock()
	now := s.clk.Now()
	stale := s.stale
	s.stale = nil
	var keep []spare
	for _, sp := range s.idle {
		if s.fresh(sp, now) {
			keep = append(keep, sp)
		} else {
			stale = append(stale, sp.c)
		}
	}
	s.idle = keep
	s.mu.Unlock()
	for _, c := range stale {
		c.Release()
	}
}

func (s *Spares) close() {
	s.mu.Lock()
	s.closed = true
	left := s.stale
	for _, sp := range s.idle {
		left = append(left, sp.c)
	}
	s.idle, s.stale = nil, nil
	s.mu.Unlock()
	for _, c := range left {
		c.Release()
	}
}
