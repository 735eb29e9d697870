package sqsdispatch

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"
)

// inflight is a received message the dispatcher holds a lease on.
type inflight struct {
	msg      *Message
	receipt  string
	received time.Time
	job      string
	// childGone, when set, is called once the message's child process is
	// gone and no more will run for it, before the message is deleted.
	childGone func()

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
		return sqsError("ChangeMessageVisibility", m.msg.Queue, m.msg.ID, err)
	}
	m.extended(start, time.Duration(secs)*time.Second)
	return nil
}

// heartbeats renews the leases of every message the dispatcher holds, in
// ChangeMessageVisibilityBatch calls of up to ten. A failed entry affects
// only its own message: a rejected receipt handle, or transient failures
// that last until its lease runs out, report the message lost.
type heartbeats struct {
	d  *Dispatcher
	mu sync.Mutex
	hs map[*inflight]*hbState
}

type hbState struct {
	due  time.Time  // next extension
	lost chan error // receives at most one error
	gone bool       // the lease is lost: no more extensions
}

func newHeartbeats(d *Dispatcher) *heartbeats {
	return &heartbeats{d: d, hs: make(map[*inflight]*hbState)}
}

// add starts renewing m's lease, or keeps renewing it if it already is (a
// FIFO message waiting for its group). The channel reports a lost lease.
func (h *heartbeats) add(m *inflight) <-chan error {
	h.mu.Lock()
	defer h.mu.Unlock()
	st, ok := h.hs[m]
	if !ok {
		st = &hbState{due: time.Now().Add(h.d.cfg.HeartbeatInterval), lost: make(chan error, 1)}
		h.hs[m] = st
	}
	return st.lost
}

// remove stops renewing m's lease; it takes effect before the next batch.
func (h *heartbeats) remove(m *inflight) {
	h.mu.Lock()
	delete(h.hs, m)
	h.mu.Unlock()
}

// tick is how often the manager looks for leases due.
func (h *heartbeats) tick() time.Duration {
	return max(10*time.Millisecond, min(h.d.cfg.HeartbeatInterval/5, time.Second))
}

// run renews due leases until ctx ends.
func (h *heartbeats) run(ctx context.Context) {
	t := time.NewTicker(h.tick())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		byQueue := map[string][]*inflight{}
		now := time.Now()
		h.mu.Lock()
		for m, st := range h.hs {
			if !st.gone && !now.Before(st.due) {
				byQueue[m.msg.Queue] = append(byQueue[m.msg.Queue], m)
			}
		}
		h.mu.Unlock()
		for queue, ms := range byQueue {
			for len(ms) > 0 {
				n := min(len(ms), 10)
				h.extend(ctx, queue, ms[:n])
				ms = ms[n:]
			}
		}
	}
}

// extend renews up to ten leases of one queue in one call.
func (h *heartbeats) extend(ctx context.Context, queue string, ms []*inflight) {
	cfg := h.d.cfg
	in := &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(queue)}
	var sent []*inflight
	for _, m := range ms {
		vis := capVisibility(cfg.VisibilityTimeout, m.received)
		if vis < time.Second { // SQS's 12-hour limit: nothing left to extend
			h.checkExpiry(m, cfg.HeartbeatInterval)
			continue
		}
		in.Entries = append(in.Entries, types.ChangeMessageVisibilityBatchRequestEntry{
			Id: aws.String(strconv.Itoa(len(sent))), ReceiptHandle: aws.String(m.receipt),
			VisibilityTimeout: int32(vis / time.Second)})
		sent = append(sent, m)
	}
	if len(sent) == 0 {
		return
	}
	start := time.Now()
	callCtx, cancel := context.WithTimeout(ctx, cfg.VisibilityTimeout)
	out, err := cfg.Client.ChangeMessageVisibilityBatch(callCtx, in)
	cancel()
	if ctx.Err() != nil {
		return
	}
	retry := min(cfg.HeartbeatInterval, time.Second)
	if err != nil {
		h.d.log.Warn("heartbeat failed; retrying", zap.String("queue", queue), zap.Int("messages", len(sent)), zap.Error(err))
		for _, m := range sent {
			cfg.Metrics.HeartbeatFailed(queue)
			h.checkExpiry(m, retry)
		}
		return
	}
	failed := make(map[int]types.BatchResultErrorEntry, len(out.Failed))
	for _, f := range out.Failed {
		i, _ := strconv.Atoi(aws.ToString(f.Id))
		failed[i] = f
	}
	for i, m := range sent {
		f, bad := failed[i]
		switch {
		case !bad:
			m.extended(start, time.Duration(in.Entries[i].VisibilityTimeout)*time.Second)
			h.reschedule(m, cfg.HeartbeatInterval)
		case leaseGoneCode(aws.ToString(f.Code), aws.ToString(f.Message)):
			cfg.Metrics.HeartbeatFailed(queue)
			h.lose(m, fmt.Errorf("%w: %s: %s", ErrLeaseLost, aws.ToString(f.Code), aws.ToString(f.Message)))
		default:
			cfg.Metrics.HeartbeatFailed(queue)
			h.d.log.Warn("heartbeat failed; retrying", zap.String("message_id", m.msg.ID),
				zap.String("code", aws.ToString(f.Code)), zap.String("error", aws.ToString(f.Message)))
			h.checkExpiry(m, retry)
		}
	}
}

// checkExpiry reports m lost if its lease ran out, else tries again after
// retry (or when the lease ends, if sooner).
func (h *heartbeats) checkExpiry(m *inflight, retry time.Duration) {
	left := time.Until(m.lease())
	if left <= 0 {
		h.lose(m, fmt.Errorf("%w: the visibility timeout ran out", ErrLeaseLost))
		return
	}
	h.reschedule(m, min(retry, left))
}

func (h *heartbeats) reschedule(m *inflight, after time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st, ok := h.hs[m]; ok {
		st.due = time.Now().Add(after)
	}
}

// lose reports m's lease lost. The entry stays (without extensions) until
// remove, so an add in between returns the channel holding the loss.
func (h *heartbeats) lose(m *inflight, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st, ok := h.hs[m]; ok && !st.gone {
		st.gone = true
		st.lost <- &DispatcherError{Op: "heartbeat", Queue: m.msg.Queue, MessageID: m.msg.ID, Err: err}
	}
}
