package queue

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// errLookupPanicked is what the callers waiting on a lookup get when the
// lookup panicked.
var errLookupPanicked = errors.New("sqsdispatch: queue lookup panicked")

// cache memoizes the result of a lookup by key for ttl. Concurrent misses
// for one key share a single lookup; a caller waiting on another's lookup
// gives up when its own context ends. A failed lookup is not cached. The
// mutex guards only the maps, never a lookup.
type cache[V any] struct {
	op    string // names the lookup in errors
	ttl   time.Duration
	clock clock.Clock

	mu      sync.Mutex
	entries map[string]cacheEntry[V]
	calls   map[string]*cacheCall[V]
}

type cacheEntry[V any] struct {
	v  V
	at time.Time // when the lookup started
}

// cacheCall is a lookup in progress; done is closed once v and err are set.
type cacheCall[V any] struct {
	done chan struct{}
	v    V
	err  error
	// ownerEnded: the lookup failed because the context of the caller who
	// made it ended, which says nothing about the waiters' chances.
	ownerEnded bool
}

func newCache[V any](op string, ttl time.Duration, c clock.Clock) *cache[V] {
	return &cache[V]{op: op, ttl: ttl, clock: c,
		entries: make(map[string]cacheEntry[V]), calls: make(map[string]*cacheCall[V])}
}

// get returns the cached value for key, or looks it up with fetch.
func (c *cache[V]) get(ctx context.Context, key string, fetch func(context.Context) (V, error)) (V, error) {
	for {
		c.mu.Lock()
		now := c.clock.Now()
		if e, ok := c.entries[key]; ok && now.Sub(e.at) < c.ttl {
			c.mu.Unlock()
			return e.v, nil
		}
		if call, ok := c.calls[key]; ok {
			c.mu.Unlock()
			select {
			case <-call.done:
				if call.err != nil && call.ownerEnded && ctx.Err() == nil {
					continue // its owner gave up; try again with this context
				}
				return call.v, call.err
			case <-ctx.Done():
				var zero V
				return zero, &OpError{Op: c.op, Queue: key, Err: ctx.Err()}
			}
		}
		call := &cacheCall[V]{done: make(chan struct{})}
		c.calls[key] = call
		c.mu.Unlock()
		return c.run(ctx, key, now, call, fetch)
	}
}

// run performs call's lookup and publishes its result.
func (c *cache[V]) run(ctx context.Context, key string, start time.Time, call *cacheCall[V], fetch func(context.Context) (V, error)) (V, error) {
	defer func() {
		c.mu.Lock()
		delete(c.calls, key)
		if call.err == nil {
			c.prune(start)
			c.entries[key] = cacheEntry[V]{v: call.v, at: start}
		}
		c.mu.Unlock()
		close(call.done)
	}()
	call.err = errLookupPanicked // stays set if fetch panics
	call.v, call.err = fetch(ctx)
	call.ownerEnded = call.err != nil && ctx.Err() != nil
	return call.v, call.err
}

// prune drops the expired entries, so that the map holds at most the keys
// looked up within the last ttl. c.mu must be held.
func (c *cache[V]) prune(now time.Time) {
	for k, e := range c.entries {
		if now.Sub(e.at) >= c.ttl {
			delete(c.entries, k)
		}
	}
}
