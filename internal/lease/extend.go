package lease

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
)

// extend makes b's call and applies its result to the leases not released
// meanwhile.
func (m *Manager) extend(ctx context.Context, b *batch) {
	in := &sqs.ChangeMessageVisibilityBatchInput{
		QueueUrl: aws.String(b.queue),
		Entries:  make([]types.ChangeMessageVisibilityBatchRequestEntry, len(b.leases)),
	}
	for i, l := range b.leases {
		in.Entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{
			Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(l.receipt), VisibilityTimeout: b.secs[i]}
	}
	start := m.clk.Now()
	out, err := m.call(ctx, in, b.cut.Sub(start))
	failed, retried, why := m.settle(ctx, b, start, out, err)
	close(b.done)
	if retried > 0 {
		m.log.Warn("heartbeat failed; retrying", zap.String("queue", b.queue), zap.Int("messages", retried), zap.Error(why))
	}
	if m.cfg.OnFailure != nil {
		for range failed {
			m.cfg.OnFailure(b.queue)
		}
	}
	m.poke()
	m.mu.Lock()
	delete(m.calls, b)
	m.mu.Unlock()
}

// call makes one ChangeMessageVisibilityBatch call, cut off after bound.
func (m *Manager) call(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, bound time.Duration) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	if bound <= 0 {
		return nil, fmt.Errorf("no time left to extend: %w", context.DeadlineExceeded)
	}
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := m.clk.NewTimer(bound)
	defer t.Stop()
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-t.C():
			cancel()
		case <-stop:
		}
	}()
	out, err := m.c.ChangeMessageVisibilityBatch(callCtx, in)
	close(stop)
	<-stopped
	if err != nil && ctx.Err() == nil && callCtx.Err() != nil {
		err = fmt.Errorf("no answer within %s: %w", bound, err)
	}
	return out, err
}

// settle applies the result of b's call made at start. It returns how many
// extensions failed, how many leases will be retried, and the first
// failure among those.
func (m *Manager) settle(ctx context.Context, b *batch, start time.Time, out *sqs.ChangeMessageVisibilityBatchOutput, err error) (failed, retried int, why error) {
	ok := map[string]bool{}
	bad := map[string]types.BatchResultErrorEntry{}
	if err == nil && out != nil {
		for _, e := range out.Successful {
			ok[aws.ToString(e.Id)] = true
		}
		for _, f := range out.Failed {
			bad[aws.ToString(f.Id)] = f
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	end := m.clk.Now()
	for i, l := range b.leases {
		l.call = nil
		if ctx.Err() != nil {
			continue // stopping: the call was cut short by us
		}
		id := strconv.Itoa(i)
		var cause error
		switch f, isBad := bad[id]; {
		case err != nil:
			cause = err
		case isBad:
			code := aws.ToString(f.Code)
			msg := queue.Redact(aws.ToString(f.Message), l.receipt)
			if Gone(code, msg) {
				failed++
				if !l.released {
					m.lose(l, fmt.Errorf("%w: %s: %s", ErrLost, code, msg))
				}
				continue
			}
			cause = fmt.Errorf("%s: %s", code, msg)
		case !ok[id]:
			cause = fmt.Errorf("ChangeMessageVisibilityBatch answered nothing for entry %s", id)
		}
		if cause != nil {
			failed++
			if !l.released && m.retryLater(l, end, cause) {
				retried++
				if why == nil {
					why = cause
				}
			}
			continue
		}
		if l.released {
			continue
		}
		if !end.Before(l.deadline) { // too late to trust: it may have run out first
			m.lose(l, l.expiry())
			continue
		}
		granted := time.Duration(b.secs[i]) * time.Second
		l.deadline = start.Add(granted)
		l.due = start.Add(m.cfg.Interval)
		l.failing, l.lastErr = false, nil
		l.limited = granted < m.cfg.Visibility // capped: nothing more to gain
	}
	return failed, retried, why
}

// retryLater schedules another try at extending l, which failed at now
// with cause, or loses l if its deadline has passed. It reports whether l
// will be retried. Called with m.mu held.
func (m *Manager) retryLater(l *Lease, now time.Time, cause error) bool {
	l.failing, l.lastErr = true, cause
	left := l.deadline.Sub(now)
	if left <= 0 {
		m.lose(l, l.expiry())
		return false
	}
	wait := min(m.retry, left/2)
	if wait < minRetry {
		wait = left
	}
	l.due = now.Add(wait)
	return true
}
