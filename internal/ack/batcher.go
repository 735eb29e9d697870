// Package ack gathers the acknowledgements that settle messages — deletes
// and visibility changes — into SQS's batch calls of up to ten entries,
// which SQS bills as one request.
//
// Each caller blocks until its own entry has its answer, as with a call of
// its own. An entry waits at most the Batcher's window for others to share
// its call, and not at all once every message its caller's side holds has
// an entry waiting (no other can come), nor on a FIFO queue, where a
// group's next message is delivered only once the previous one is gone.
// Nothing waits without a caller blocked on it, so whoever waits for the
// callers waits for every acknowledgement, and none is ever dropped.
package ack

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
)

// maxEntries is the most entries one batch call takes.
const maxEntries = 10

// noDeadline bounds the calls made for entries whose contexts have no
// deadline.
const noDeadline = time.Minute

// Config configures a Batcher.
type Config struct {
	// Window is the longest an entry waits for others to share its call.
	// Defaults to 0: each entry is sent at once.
	Window time.Duration
	// Held, when set, returns how many messages of a queue the caller
	// holds (those with an entry waiting here included): once every one
	// of them has its entry waiting, the entries are sent without waiting
	// out the window. Defaults to nil: the window is always waited out.
	Held func(queue string) int
	// Logger receives the failed calls, with the message IDs they
	// concerned. Defaults to zap.NewNop().
	Logger *zap.Logger
	// Clock tells the time and runs the window's timers. Defaults to
	// clock.Real{}.
	Clock clock.Clock
}

// Batcher gathers acknowledgements into batch calls. It is safe for
// concurrent use; it has no goroutine of its own but those that send
// entries, each with a caller waiting for it.
type Batcher struct {
	c   Client
	cfg Config
	log *zap.Logger

	mu   sync.Mutex
	open map[batchKey]*batch // filling, not sent yet
}

// New returns a Batcher that makes its calls through c.
func New(c Client, cfg Config) *Batcher {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	return &Batcher{c: c, cfg: cfg, log: cmp.Or(cfg.Logger, zap.NewNop()), open: make(map[batchKey]*batch)}
}

// Delete deletes the message with the receipt handle from the queue at
// url, msgID naming it in errors and logs; fifo says the queue is FIFO.
// It returns once SQS has answered for this message, with an
// *queue.OpError for which queue.LeaseGone or queue.IsFatal say what
// failed, or once ctx ends while the entry still waits to be sent. A
// failure SQS may get past is retried with back-off within ctx's
// deadline.
func (b *Batcher) Delete(ctx context.Context, url, receipt, msgID string, fifo bool) error {
	return b.submit(ctx, &entry{kind: deleteKind, queue: url, receipt: receipt, msgID: msgID}, fifo)
}

// SetVisibility sets the visibility timeout of the message to d, rounded
// up to whole seconds and kept within 0 and queue.MaxVisibility; otherwise
// as Delete.
func (b *Batcher) SetVisibility(ctx context.Context, url, receipt, msgID string, d time.Duration, fifo bool) error {
	return b.submit(ctx, &entry{kind: visibilityKind, queue: url, receipt: receipt, msgID: msgID, secs: queue.VisibilitySeconds(d)}, fifo)
}

// submit puts e in its queue's open batch, sends the batches that are
// ready, and waits for e's answer.
func (b *Batcher) submit(ctx context.Context, e *entry, fifo bool) error {
	e.done = make(chan error, 1)
	e.deadline, _ = ctx.Deadline()
	b.mu.Lock()
	k := batchKey{e.queue, e.kind}
	bt := b.open[k]
	if bt == nil {
		bt = &batch{key: k}
		b.open[k] = bt
		if b.cfg.Window > 0 && !fifo {
			bt.stop = make(chan struct{})
			t := b.cfg.Clock.NewTimer(b.cfg.Window)
			go func() { // lives while bt's callers wait
				select {
				case <-t.C():
					b.expire(bt)
				case <-bt.stop:
					t.Stop()
				}
			}()
		}
	}
	bt.entries = append(bt.entries, e)
	var ready []*batch
	switch {
	case fifo, b.cfg.Window <= 0, len(bt.entries) == maxEntries:
		ready = append(ready, b.take(k))
	case b.cfg.Held != nil && b.waiting(e.queue) >= b.cfg.Held(e.queue):
		for _, kind := range []kind{deleteKind, visibilityKind} {
			if o := b.take(batchKey{e.queue, kind}); o != nil {
				ready = append(ready, o)
			}
		}
	}
	b.mu.Unlock()
	for _, r := range ready {
		go b.send(r)
	}
	select {
	case err := <-e.done:
		return err
	case <-ctx.Done():
		if b.withdraw(e) {
			return e.fail(ctx.Err())
		}
		return <-e.done // sent: its call ends by e's deadline
	}
}

// waiting counts the entries of the queue at url waiting in open batches.
// b.mu must be held.
func (b *Batcher) waiting(url string) int {
	n := 0
	for _, kind := range []kind{deleteKind, visibilityKind} {
		if bt := b.open[batchKey{url, kind}]; bt != nil {
			n += len(bt.entries)
		}
	}
	return n
}

// take removes the open batch k, stopping its window, and returns it (nil
// when there is none). b.mu must be held.
func (b *Batcher) take(k batchKey) *batch {
	bt := b.open[k]
	if bt == nil {
		return nil
	}
	delete(b.open, k)
	if bt.stop != nil {
		close(bt.stop)
	}
	for _, e := range bt.entries {
		e.sent = true
	}
	return bt
}

// expire sends bt when its window ends, unless it was sent already.
func (b *Batcher) expire(bt *batch) {
	b.mu.Lock()
	if b.open[bt.key] != bt {
		b.mu.Unlock()
		return
	}
	b.take(bt.key)
	b.mu.Unlock()
	b.send(bt)
}

// withdraw takes e out of its batch if it has not been sent, and reports
// whether it did.
func (b *Batcher) withdraw(e *entry) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e.sent {
		return false
	}
	k := batchKey{e.queue, e.kind}
	bt := b.open[k]
	bt.entries = slices.DeleteFunc(bt.entries, func(x *entry) bool { return x == e })
	if len(bt.entries) == 0 {
		b.take(k)
	}
	return true
}

// earliest is the earliest deadline of es, or noDeadline from now when
// none has one.
func earliest(es []*entry, now time.Time) time.Time {
	var d time.Time
	for _, e := range es {
		if !e.deadline.IsZero() && (d.IsZero() || e.deadline.Before(d)) {
			d = e.deadline
		}
	}
	if d.IsZero() {
		d = now.Add(noDeadline)
	}
	return d
}
