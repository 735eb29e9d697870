package sqsdispatch

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
)

// inFlight counts the messages a dispatcher holds, by queue, and reports
// each change to Metrics.InFlight in the order the changes happen.
type inFlight struct {
	mu     sync.Mutex
	n      map[string]int
	report func(queue string, n int)
}

// add counts delta more messages of queue.
func (f *inFlight) add(queue string, delta int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = make(map[string]int)
	}
	f.n[queue] += delta
	f.report(queue, f.n[queue])
}

// count returns how many messages of queue are held.
func (f *inFlight) count(queue string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n[queue]
}

// sampleBacklog reports each queue's approximate backlog to
// Metrics.Backlog every Config.BacklogInterval until ctx ends.
func (d *Dispatcher) sampleBacklog(ctx context.Context) {
	t := time.NewTicker(d.cfg.BacklogInterval)
	defer t.Stop()
	for {
		for _, url := range d.queueURLs {
			b, err := d.backlog(ctx, url)
			if err != nil {
				if ctx.Err() == nil {
					d.log.Warn("reading the queue's backlog", zap.String("queue", url), zap.Error(err))
				}
				continue
			}
			d.cfg.Metrics.Backlog(url, b)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// backlog reads the queue's approximate counts.
func (d *Dispatcher) backlog(ctx context.Context, url string) (Backlog, error) {
	ctx, cancel := context.WithTimeout(ctx, maxCallTime)
	defer cancel()
	n, err := queue.ReadCounts(ctx, d.cfg.Client, url)
	if err != nil {
		return Backlog{}, err
	}
	b := Backlog{Visible: n.Visible, InFlight: n.InFlight, Delayed: n.Delayed}
	fleet := 1
	if d.cfg.FleetSize != nil {
		fleet = max(1, d.cfg.FleetSize())
	}
	b.PerDispatcher = float64(b.Visible) / float64(fleet)
	return b, nil
}
