package queue

import (
	"context"
	"fmt"

	"go.uber.org/zap"
)

// Check reads the attributes of every queue at urls (in priority order)
// and of their dead-letter queues, before the first receive. It refuses,
// with an error wrapping ErrConfig, a configuration that would lose or
// duplicate work: a RedrivePolicy naming a dead-letter queue that cannot
// be used, a FIFO queue with a standard dead-letter queue or the reverse,
// or (with requireDLQ) a queue without a RedrivePolicy. It logs the
// harmless ones. Other errors, such as an SQS call that failed, are
// returned as they are: Check does not retry, and IsFatal tells whether
// trying again can help.
func (q *Queues) Check(ctx context.Context, urls []string, requireDLQ bool) error {
	for i, url := range urls {
		info, err := q.Info(ctx, url)
		if err != nil {
			return err
		}
		log := q.log.With(zap.String("queue", url))
		if i < len(urls)-1 && info.WaitSeconds > 0 {
			log.Warn("a higher-priority queue long-polls (ReceiveMessageWaitTimeSeconds > 0), which delays the queues below it; set it to 0",
				zap.Int("wait_seconds", info.WaitSeconds))
		}
		if info.Redrive == nil {
			if requireDLQ {
				return fmt.Errorf("%w: %s has no RedrivePolicy but Config.RequireDLQ is set; give it a dead-letter queue", ErrConfig, url)
			}
			log.Warn("queue has no redrive policy: messages that must be dead-lettered will stay in the queue and be retried")
			continue
		}
		dlqURL, err := q.urlForARN(ctx, info.Redrive.TargetARN)
		if err != nil {
			if IsFatal(err) {
				return fmt.Errorf("%w: the RedrivePolicy of %s names dead-letter queue %s, which cannot be used: %w",
					ErrConfig, url, info.Redrive.TargetARN, err)
			}
			return err
		}
		dlq, err := q.Info(ctx, dlqURL)
		if err != nil {
			if IsFatal(err) {
				return fmt.Errorf("%w: the RedrivePolicy of %s names dead-letter queue %s, which cannot be used: %w",
					ErrConfig, url, dlqURL, err)
			}
			return err
		}
		if dlq.FIFO != info.FIFO {
			return fmt.Errorf("%w: %s (FIFO %t) has dead-letter queue %s (FIFO %t); both must be FIFO or neither",
				ErrConfig, url, info.FIFO, dlqURL, dlq.FIFO)
		}
	}
	return nil
}
