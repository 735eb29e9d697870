package sqsdispatch

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"
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
	out, err := d.cfg.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, types.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		return Backlog{}, err
	}
	count := func(name types.QueueAttributeName) int {
		n, _ := strconv.Atoi(out.Attributes[string(name)])
		return n
	}
	b := Backlog{Visible: count(types.QueueAttributeNameApproximateNumberOfMessages),
		InFlight: count(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible),
		Delayed:  count(types.QueueAttributeNameApproximateNumberOfMessagesDelayed)}
	fleet := 1
	if d.cfg.FleetSize != nil {
		fleet = max(1, d.cfg.FleetSize())
	}
	b.PerDispatcher = float64(b.Visible) / float64(fleet)
	return b, nil
}
