package sqsdispatch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.uber.org/zap"
)

// inflight is a received message the dispatcher holds a lease on.
type inflight struct {
	msg      *Message
	receipt  string
	received time.Time
	job      string

	mu         sync.Mutex
	leaseUntil time.Time
}

func (m *inflight) lease() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.leaseUntil
}

func (m *inflight) extended(from time.Time, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.leaseUntil = from.Add(d)
}

// visibilityLimitMargin keeps every extension safely inside SQS's 12-hour
// limit, counted from the receive.
const visibilityLimitMargin = 10 * time.Second

// capVisibility caps a visibility timeout so that it ends before SQS's
// 12-hour limit for a message received at received.
func capVisibility(d time.Duration, received time.Time) time.Duration {
	left := maxVisibility - time.Since(received) - visibilityLimitMargin
	return max(0, min(d, left))
}

// setVisibility changes the message's visibility timeout, rounded up to
// whole seconds.
func (d *Dispatcher) setVisibility(ctx context.Context, m *inflight, vis time.Duration) error {
	secs := int32((vis + time.Second - 1) / time.Second)
	start := time.Now()
	_, err := d.cfg.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(m.msg.Queue),
		ReceiptHandle:     aws.String(m.receipt),
		VisibilityTimeout: secs,
	})
	if err != nil {
		return &DispatcherError{Op: "ChangeMessageVisibility", Queue: m.msg.Queue, MessageID: m.msg.ID, Err: err}
	}
	m.extended(start, time.Duration(secs)*time.Second)
	return nil
}

// heartbeat keeps m invisible until ctx ends. It sends the reason on lost
// and returns when the lease is gone: the receipt handle was rejected, or
// transient failures lasted until the lease ran out.
func (d *Dispatcher) heartbeat(ctx context.Context, m *inflight, lost chan<- error) {
	log := d.log.With(zap.String("message_id", m.msg.ID), zap.String("job", m.job))
	interval := d.cfg.HeartbeatInterval
	retry := min(interval, time.Second)
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next := interval
		if vis := capVisibility(d.cfg.VisibilityTimeout, m.received); vis >= time.Second {
			callCtx, cancel := context.WithDeadline(ctx, m.lease())
			err := d.setVisibility(callCtx, m, vis)
			cancel()
			switch {
			case err == nil:
			case ctx.Err() != nil:
				return
			case isLeaseGone(err):
				lost <- fmt.Errorf("%w: %w", ErrLeaseLost, err)
				return
			default:
				log.Warn("heartbeat failed; retrying", zap.Error(err), zap.Time("lease_until", m.lease()))
				next = retry
			}
		}
		if left := time.Until(m.lease()); left <= 0 {
			lost <- &DispatcherError{Op: "heartbeat", Queue: m.msg.Queue, MessageID: m.msg.ID,
				Err: fmt.Errorf("%w: the visibility timeout ran out", ErrLeaseLost)}
			return
		} else if left < next {
			next = left
		}
		t.Reset(next)
	}
}

// leaseLost reports whether err says the lease is gone.
func leaseLost(err error) bool { return errors.Is(err, ErrLeaseLost) }
