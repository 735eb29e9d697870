package sqsdispatch

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
)

// spares keeps up to want children started and waiting at the handshake
// (Config.Prespawn). Each is used for exactly one message; one that has
// waited longer than maxIdle is killed and replaced.
type spares struct {
	want    int
	maxIdle time.Duration
	log     *zap.Logger
	kick    chan struct{}

	mu   sync.Mutex
	idle []*child // oldest first
}

func newSpares(want int, maxIdle time.Duration, log *zap.Logger) *spares {
	return &spares{want: want, maxIdle: maxIdle, log: log, kick: make(chan struct{}, 1)}
}

// take returns a ready spare, or nil when none is.
func (s *spares) take() *child {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.refill()
	for len(s.idle) > 0 {
		c := s.idle[0]
		s.idle = s.idle[1:]
		if !isClosed(c.done) && time.Since(c.started) < s.maxIdle {
			return c
		}
		go c.release()
	}
	return nil
}

func (s *spares) refill() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// run keeps the pool full until ctx ends, then kills the spares.
func (s *spares) run(ctx context.Context) {
	t := time.NewTicker(s.maxIdle / 4)
	defer t.Stop()
	for {
		s.retireStale()
		for s.count() < s.want && ctx.Err() == nil {
			c, err := startChild(s.log.With(zap.Bool("spare", true)))
			if err != nil {
				s.log.Warn("cannot start a spare child", zap.Error(err))
				break
			}
			s.mu.Lock()
			s.idle = append(s.idle, c)
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			s.mu.Lock()
			idle := s.idle
			s.idle = nil
			s.mu.Unlock()
			for _, c := range idle {
				c.release()
			}
			return
		case <-s.kick:
		case <-t.C:
		}
	}
}

func (s *spares) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.idle)
}

func (s *spares) retireStale() {
	s.mu.Lock()
	var keep, stale []*child
	for _, c := range s.idle {
		if isClosed(c.done) || time.Since(c.started) >= s.maxIdle {
			stale = append(stale, c)
		} else {
			keep = append(keep, c)
		}
	}
	s.idle = keep
	s.mu.Unlock()
	for _, c := range stale {
		c.release()
	}
}
