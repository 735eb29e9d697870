package sqsdispatch

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// receive asks the queues in priority order for at most n messages (n is
// the number of idle slots, so nothing waits in memory while its
// visibility runs out) and returns the first non-empty answer. Only the
// last queue long-polls.
func (d *Dispatcher) receive(ctx context.Context, n int) ([]*inflight, error) {
	for i, q := range d.queueURLs {
		longPoll := i == len(d.queueURLs)-1
		msgs, err := d.receiveFrom(ctx, q, n, longPoll)
		if err != nil || len(msgs) > 0 {
			return msgs, err
		}
	}
	return nil, nil
}

func (d *Dispatcher) receiveFrom(ctx context.Context, queue string, n int, longPoll bool) ([]*inflight, error) {
	in := &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(queue),
		MaxNumberOfMessages:         int32(min(n, 10)),
		VisibilityTimeout:           int32(d.cfg.VisibilityTimeout / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	}
	// The SDK leaves a zero WaitTimeSeconds out of the request, so a
	// higher-priority queue polls with its own ReceiveMessageWaitTimeSeconds
	// (Run warns unless that is 0).
	if longPoll && d.cfg.WaitTime > 0 {
		in.WaitTimeSeconds = int32(d.cfg.WaitTime / time.Second)
	}
	start := time.Now()
	d.receiving.Add(1)
	out, err := d.cfg.Client.ReceiveMessage(ctx, in)
	d.receiving.Add(-1)
	if err != nil {
		if ctx.Err() != nil {
			d.lastRecvCancel.Store(time.Now().UnixNano())
			return nil, ctx.Err()
		}
		return nil, sqsError("ReceiveMessage", queue, "", err)
	}
	msgs := make([]*inflight, 0, len(out.Messages))
	for _, sm := range out.Messages {
		m := &inflight{msg: fromSQS(queue, sm), receipt: aws.ToString(sm.ReceiptHandle), received: start}
		m.leaseUntil = start.Add(d.cfg.VisibilityTimeout)
		msgs = append(msgs, m)
		d.received(m)
	}
	return msgs, nil
}

// received logs and counts a received message. Its body is logged only
// with Config.LogBodies.
func (d *Dispatcher) received(m *inflight) {
	var age time.Duration
	if ms, err := strconv.ParseInt(m.msg.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		age = max(0, time.Since(time.UnixMilli(ms)))
	}
	d.cfg.Metrics.MessageReceived(m.msg.Queue, age)
	fields := []zap.Field{zap.String("queue", m.msg.Queue), zap.String("message_id", m.msg.ID),
		zap.Int("receive_count", m.msg.ReceiveCount), zap.Duration("age", age)}
	if d.cfg.LogBodies {
		fields = append(fields, zap.String("body", m.msg.Body))
	}
	d.log.Info("message received", fields...)
}

// backoff spaces out retries of a failing call: exponential from 100 ms to
// 5 s with jitter (so service resumes within seconds of an outage's end),
// giving up once failures have lasted giveUp.
type backoff struct {
	giveUp   time.Duration
	failures int
	since    time.Time
}

const (
	backoffBase = 100 * time.Millisecond
	backoffMax  = 5 * time.Second
)

// next records a failure and returns how long to wait before the next try,
// or false once failures have lasted longer than giveUp.
func (b *backoff) next(now time.Time) (time.Duration, bool) {
	if b.failures == 0 {
		b.since = now
	}
	b.failures++
	if now.Sub(b.since) >= b.giveUp {
		return 0, false
	}
	d := backoffMax
	if b.failures < 20 {
		d = min(backoffMax, backoffBase<<(b.failures-1))
	}
	d = d/2 + rand.N(d/2+1) // jitter in [d/2, d]
	if left := b.giveUp - now.Sub(b.since); d > left {
		d = left
	}
	return d, true
}

func (b *backoff) reset() { b.failures = 0 }

// sleepCtx waits for d or until ctx ends, and reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
