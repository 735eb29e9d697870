package sqsdispatch

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// interrupt runs the interruption protocol (SPEC §5, step 3) for one
// message whose job is running (suspended first) or was killed from
// outside: extend the lease, run the job's Cleanup in a child of its own,
// retry it once after killing the job, and then give the message back or
// dead-letter it. With hard set, a failed cleanup is not retried.
func (d *Dispatcher) interrupt(ctx context.Context, m *inflight, c *child, job Job, cause Cause, hard bool, log *zap.Logger) error {
	var cleanupErr error
	cleaned := false
	for attempt := 1; attempt <= 2 && !cleaned; attempt++ {
		cause.Attempt = attempt
		if err := d.setVisibility(ctx, m, capVisibility(d.cfg.CleanupTimeout+cleanupMargin, m.received)); err != nil {
			log.Warn("extending visibility for cleanup", zap.Error(err))
		}
		if attempt == 1 && cause.ChildRunning {
			c.signalGroup(syscall.SIGSTOP)
		}
		if job.Cleanup == nil {
			cleaned = true
			break
		}
		cleanupErr = d.runCleanup(ctx, m, job, cause, log)
		if cleanupErr == nil {
			cleaned = true
			log.Info("cleanup done", zap.Int("attempt", attempt))
			break
		}
		log.Warn("cleanup failed; killing the job", zap.Int("attempt", attempt), zap.Error(cleanupErr))
		c.signalGroup(syscall.SIGKILL)
		<-c.done
		cause.ChildRunning = false
		if hard {
			break
		}
	}
	// Nothing of the job may be left when the message becomes visible again.
	c.signalGroup(syscall.SIGKILL)
	<-c.done

	if !cleaned {
		reason := fmt.Sprintf("cleanup failed after %s: %v", cause.Reason, cleanupErr)
		if err := d.deadLetter(ctx, m, reason); err != nil {
			return errors.Join(cleanupErr, err)
		}
		log.Warn("interrupted job could not be cleaned up; message dead-lettered", zap.String("outcome", OutcomeDeadLettered))
		return nil
	}
	qi, err := d.queues.info(ctx, d.cfg.Client, m.msg.Queue)
	if err != nil {
		return err
	}
	if !qi.allowsRetries() {
		if err := d.deadLetter(ctx, m, cause.Reason+"; the queue allows no retries (maxReceiveCount 1)"); err != nil {
			return err
		}
		log.Info("interrupted message dead-lettered: queue allows no retries", zap.String("outcome", OutcomeDeadLettered))
		return nil
	}
	delay := d.giveBackDelay(qi)
	if err := d.setVisibility(ctx, m, delay); err != nil {
		return err
	}
	log.Info("interrupted message given back", zap.Duration("visible_in", delay), zap.String("outcome", OutcomeInterrupted))
	return nil
}

// runCleanup runs job.Cleanup in a child of its own, bounded by
// CleanupTimeout.
func (d *Dispatcher) runCleanup(ctx context.Context, m *inflight, job Job, cause Cause, log *zap.Logger) error {
	wc := &wire.Cause{Reason: cause.Reason, ChildRunning: cause.ChildRunning, Attempt: cause.Attempt}
	if s, ok := cause.Signal.(syscall.Signal); ok {
		wc.Signal = int(s)
	}
	req := wire.Request{Magic: wire.Magic, Version: wire.Version, Mode: wire.ModeCleanup, Job: job.Name,
		Message: m.msg.toWire(), Cause: wc, TimeoutNS: int64(d.cfg.CleanupTimeout)}
	c, err := spawn(req, log.With(zap.String("phase", "cleanup")))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrChildStart, err)
	}
	defer c.release()
	t := time.NewTimer(d.cfg.CleanupTimeout)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		return fmt.Errorf("sqsdispatch: cleanup timed out after %s", d.cfg.CleanupTimeout)
	}
	switch {
	case c.res != nil && c.res.Kind == wire.KindOK && c.state.Success():
		return nil
	case c.res != nil:
		return fmt.Errorf("sqsdispatch: cleanup failed: %s", c.res.Error)
	default:
		return fmt.Errorf("sqsdispatch: cleanup process exited without a result (%s): %s", c.state, lastLine(c.stderr.bytes()))
	}
}

// giveBackDelay is the visibility a message given back gets: 0, or the
// long-poll wait plus a second when a receive of this process may still be
// in flight (a cancelled long poll can still take the message on the
// server's side and hide it).
func (d *Dispatcher) giveBackDelay(qi *queueInfo) time.Duration {
	wait := d.cfg.WaitTime
	if wait == 0 {
		wait = time.Duration(qi.waitSeconds) * time.Second
	}
	if d.receiving.Load() > 0 || time.Since(time.Unix(0, d.lastRecvCancel.Load())) < wait {
		return wait + time.Second
	}
	return 0
}
