package sqsdispatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// ErrQueueConfig is wrapped by the error Run returns when a queue's
// attributes and the Config together would lose or duplicate work.
var ErrQueueConfig = errors.New("sqsdispatch: queue configuration would lose or duplicate work")

// startupChecks reads every queue's attributes before the first receive:
// a missing queue, denied access or bad credentials fail at once, transient
// errors are retried like receives, and configurations that would lose or
// duplicate work are refused (or, where harmless enough, logged).
func (d *Dispatcher) startupChecks(ctx context.Context, st *stopper) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-st.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	bo := backoff{giveUp: d.cfg.GiveUpAfter}
	for {
		err := d.checkQueues(ctx)
		switch {
		case err == nil:
			return nil
		case isClosed(st.stopping):
			_, serr := st.why()
			return serr
		case errors.Is(err, ErrQueueConfig), isFatal(err):
			return err
		}
		delay, ok := bo.next(time.Now())
		if !ok {
			return fmt.Errorf("sqsdispatch: giving up after %s of failing start-up checks: %w", d.cfg.GiveUpAfter, err)
		}
		d.log.Warn("start-up check failed; backing off", zap.Error(err), zap.Duration("delay", delay))
		sleepCtx(ctx, delay)
	}
}

func (d *Dispatcher) checkQueues(ctx context.Context) error {
	for i, url := range d.queueURLs {
		qi, err := d.queues.info(ctx, d.cfg.Client, url)
		if err != nil {
			return err
		}
		log := d.log.With(zap.String("queue", url))
		if i < len(d.queueURLs)-1 && qi.waitSeconds > 0 {
			log.Warn("a higher-priority queue long-polls (ReceiveMessageWaitTimeSeconds > 0), which delays the queues below it; set it to 0",
				zap.Int("wait_seconds", qi.waitSeconds))
		}
		if qi.redrive == nil {
			if d.cfg.RequireDLQ {
				return fmt.Errorf("%w: %s has no RedrivePolicy but Config.RequireDLQ is set; give it a dead-letter queue", ErrQueueConfig, url)
			}
			log.Warn("queue has no redrive policy: messages that must be dead-lettered will stay in the queue and be retried")
			continue
		}
		dlqURL, err := d.queues.urlForARN(ctx, d.cfg.Client, qi.redrive.TargetARN)
		if err != nil {
			if isFatal(err) {
				return fmt.Errorf("%w: the RedrivePolicy of %s names dead-letter queue %s, which cannot be used: %w",
					ErrQueueConfig, url, qi.redrive.TargetARN, err)
			}
			return err
		}
		dlq, err := d.queues.info(ctx, d.cfg.Client, dlqURL)
		if err != nil {
			return err
		}
		if dlq.fifo != qi.fifo {
			return fmt.Errorf("%w: %s (FIFO %t) has dead-letter queue %s (FIFO %t); both must be FIFO or neither",
				ErrQueueConfig, url, qi.fifo, dlqURL, dlq.fifo)
		}
	}
	for _, name := range d.cfg.Registry.Names() {
		if job, _ := d.cfg.Registry.Lookup(name); job.Timeout > maxVisibility {
			d.log.Warn("job timeout exceeds SQS's 12-hour visibility limit; its lease will run out first",
				zap.String("job", name), zap.Duration("timeout", job.Timeout))
		}
	}
	return nil
}
