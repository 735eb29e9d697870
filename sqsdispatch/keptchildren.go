package sqsdispatch

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
)

// keptChild is a child that ran a job and waits for the next one.
type keptChild struct {
	p     *child.Process
	limit int       // its own number of jobs, drawn once (Reuse.Jitter)
	since time.Time // it has waited since
}

// keptChildren holds the children of one Run that wait for their next
// job, most recently used last. It retires those that waited longer than
// maxIdle, and all of them when it closes.
type keptChildren struct {
	maxIdle time.Duration

	mu     sync.Mutex
	idle   []keptChild
	closed bool
}

func newKeptChildren(maxIdle time.Duration) *keptChildren { return &keptChildren{maxIdle: maxIdle} }

// take returns the most recently used child that is alive, younger than
// the policy's MaxLifetime and has run fewer than its MaxJobs, with its
// limit lowered to that MaxJobs: a job's own Reuse holds in whichever
// job's child it runs. It retires the dead it meets, and leaves those
// that do not suit this policy to others (or to the idle timeout).
func (k *keptChildren) take(p Reuse) (keptChild, bool) {
	var gone []keptChild
	defer func() { retire(gone) }() // once the lock is let go
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := len(k.idle) - 1; i >= 0; i-- {
		c := k.idle[i]
		dead := c.p.Exited() // died while it waited: an OOM kill, a kill from outside
		if !dead && (time.Since(c.p.Started()) >= p.MaxLifetime || c.p.Jobs() >= p.MaxJobs) {
			continue
		}
		k.idle = slices.Delete(k.idle, i, i+1)
		if dead {
			gone = append(gone, c)
			continue
		}
		c.limit = min(c.limit, p.MaxJobs)
		return c, true
	}
	return keptChild{}, false
}

// put keeps c for a next job; once closed it retires c instead.
func (k *keptChildren) put(c keptChild) {
	k.mu.Lock()
	closed := k.closed
	if !closed {
		c.since = time.Now()
		k.idle = append(k.idle, c)
	}
	k.mu.Unlock()
	if closed {
		c.p.Retire()
	}
}

// retire ends the children cs, each once it is reaped.
func retire(cs []keptChild) {
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(c.p.Retire)
	}
	wg.Wait()
}

// run retires the children that wait longer than maxIdle, or have died,
// until ctx ends.
func (k *keptChildren) run(ctx context.Context) {
	t := time.NewTicker(k.maxIdle / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			k.mu.Lock()
			var keep, gone []keptChild
			for _, c := range k.idle {
				if now.Sub(c.since) > k.maxIdle || isClosed(c.p.Done()) {
					gone = append(gone, c)
				} else {
					keep = append(keep, c)
				}
			}
			k.idle = keep
			k.mu.Unlock()
			retire(gone)
		}
	}
}

// close retires every waiting child, and every child put later, and
// returns once those waiting are gone.
func (k *keptChildren) close() {
	k.mu.Lock()
	idle := k.idle
	k.idle, k.closed = nil, true
	k.mu.Unlock()
	retire(idle)
}
