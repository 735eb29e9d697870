package sqsdispatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// process runs one received message to its outcome, and reports the
// outcome exactly once. SQS calls made on the message's behalf outlive
// ctx's cancellation: a stop must still be able to give the message back.
func (d *Dispatcher) process(ctx context.Context, m *inflight, st *stopper) error {
	ctx = context.WithoutCancel(ctx)
	start := time.Now()
	log := d.log.With(zap.String("queue", m.msg.Queue), zap.String("message_id", m.msg.ID),
		zap.Int("receive_count", m.msg.ReceiveCount))
	outcome, err := d.runMessage(ctx, m, st, log)
	d.cfg.Metrics.JobFinished(m.job, outcome, time.Since(start))
	return err
}

func (d *Dispatcher) runMessage(ctx context.Context, m *inflight, st *stopper, log *zap.Logger) (string, error) {
	name, err := d.route(m.msg)
	m.job = name
	if err != nil {
		return d.permanent(ctx, m, log, &JobError{Job: name, MessageID: m.msg.ID, Message: err.Error(), Permanent: true, Err: err})
	}
	job, _ := d.cfg.Registry.Lookup(name)
	log = log.With(zap.String("job", name))

	spawnStart := time.Now()
	c, err := d.childFor(wire.Request{Magic: wire.Magic, Version: wire.Version, Mode: wire.ModeRun, Job: name, Message: m.msg.toWire()}, log)
	if err != nil {
		werr := &WorkerProcessError{Job: name, MessageID: m.msg.ID, ExitCode: -1, Reason: "could not be started",
			Err: fmt.Errorf("%w: %w", ErrChildStart, err)}
		if gerr := d.setVisibility(ctx, m, 0); gerr != nil {
			return OutcomeError, errors.Join(werr, gerr)
		}
		log.Error("child could not be started; message given back", zap.Error(err), zap.String("outcome", OutcomeInterrupted))
		return OutcomeInterrupted, werr
	}
	defer c.release()
	latency := time.Since(spawnStart)
	d.cfg.Metrics.ChildSpawned(name, latency)
	log = log.With(zap.Int("pid", c.pid))
	log.Info("child started", zap.Duration("spawn_latency", latency))
	d.slots.add(m, c)
	defer d.slots.remove(m)

	lost := d.hb.add(m)
	defer d.hb.remove(m)
	w := watch{d: d, c: c, job: job, limit: cmp.Or(job.MaxRSS, d.cfg.MaxRSS)}
	defer w.stop()
	for {
		select {
		case <-c.done:
			d.hb.remove(m)
			return d.finish(ctx, m, c, job, &w, log)
		case err := <-lost:
			c.signalGroup(syscall.SIGKILL)
			<-c.done
			log.Error("lease lost; job stopped", zap.Error(err), zap.String("outcome", OutcomeLeaseLost))
			return OutcomeLeaseLost, err
		case <-w.timeoutC():
			log.Warn("job ran past its timeout; stopping it", zap.Duration("timeout", job.Timeout))
			w.onTimeout()
		case <-w.killC():
			w.onKill()
		case <-w.sampleC():
			if rss := w.sample(); rss > w.limit {
				log.Warn("job exceeded its memory limit; killing it", zap.Int64("rss_bytes", rss), zap.Int64("max_rss", w.limit))
				w.memExceeded = true
				c.signalGroup(syscall.SIGKILL)
			}
		case <-st.interrupt:
			d.hb.remove(m)
			sig, stopErr := st.why()
			cause := Cause{Signal: sig, Reason: "the dispatcher is stopping", ChildRunning: !isClosed(c.done)}
			if err := d.interrupt(ctx, m, c, job, cause, st.isHard(), log); err != nil {
				return OutcomeError, errors.Join(stopErr, err)
			}
			return OutcomeInterrupted, stopErr
		}
	}
}

// finish applies the outcome of a child that ended (SPEC §4).
func (d *Dispatcher) finish(ctx context.Context, m *inflight, c *child, job Job, w *watch, log *zap.Logger) (string, error) {
	res, state := c.res, c.state
	usage := usageOf(state)
	d.cfg.Metrics.ChildUsage(job.Name, max(usage.peakRSS, w.peak), usage.user, usage.sys)
	log = log.With(zap.Duration("duration", time.Since(c.started)), zap.Int64("rss_bytes", max(usage.peakRSS, w.peak)),
		zap.Duration("cpu_user", usage.user), zap.Duration("cpu_sys", usage.sys))
	wpe := func(reason string) *WorkerProcessError {
		e := &WorkerProcessError{Job: job.Name, MessageID: m.msg.ID, PID: c.pid, ExitCode: state.ExitCode(),
			Reason: reason, Stderr: c.stderr.bytes()}
		if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			e.Signal = ws.Signal()
		}
		return e
	}
	extSignal := externalSignal(c)
	switch {
	case res != nil && res.Kind == wire.KindOK && state.Success():
		c.release()
		if m.childGone != nil {
			m.childGone() // its slot can take the next message while this one is deleted
		}
		if err := d.deleteMessage(ctx, m); err != nil {
			log.Error("job succeeded but its message could not be deleted", zap.Error(err), zap.String("outcome", OutcomeError))
			return OutcomeError, err
		}
		log.Info("job succeeded", zap.String("outcome", OutcomeSuccess))
		return OutcomeSuccess, nil
	case w.memExceeded:
		return d.failed(ctx, m, log, wpe(fmt.Sprintf("exceeded its memory limit MaxRSS of %d bytes (peak %d bytes)", w.limit, w.peak)))
	case w.timedOut:
		return d.failed(ctx, m, log, wpe(fmt.Sprintf("ran past its timeout of %s", job.Timeout)))
	case extSignal != 0:
		e := wpe("was stopped by a signal the dispatcher did not send")
		e.Signal = extSignal
		log.Warn("child killed from outside; cleaning up", zap.Stringer("signal", extSignal))
		cause := Cause{Signal: extSignal, Reason: fmt.Sprintf("the job's process was stopped by %s", extSignal)}
		if err := d.interrupt(ctx, m, c, job, cause, false, log); err != nil {
			return OutcomeError, errors.Join(e, err)
		}
		return OutcomeInterrupted, e
	case res == nil:
		reason := "exited without reporting a result"
		if state.Success() {
			reason = "exited with code 0 without reporting a result (os.Exit in the job?)"
		}
		e := wpe(reason)
		log.Error("child failed", zap.Error(e), zap.String("outcome", OutcomeCrashed))
		return OutcomeCrashed, e // left for its visibility to expire; the redrive policy decides
	case res.Kind == wire.KindPanic:
		e := wpe(res.Error)
		e.Reason, e.Stack = "panicked: "+res.Error, res.Stack
		return d.failed(ctx, m, log, e)
	case res.Kind == wire.KindPermanent:
		return d.permanent(ctx, m, log, &JobError{Job: job.Name, MessageID: m.msg.ID, Message: res.Error, Permanent: true})
	case res.Kind == wire.KindRetry:
		delay := time.Duration(res.RetryAfterNS)
		e := &JobError{Job: job.Name, MessageID: m.msg.ID, Message: res.Error, RetryAfter: delay}
		if err := d.setVisibility(ctx, m, capVisibility(delay, m.received)); err != nil {
			return OutcomeError, errors.Join(e, err)
		}
		log.Info("job asked for a retry", zap.Duration("retry_after", delay), zap.String("outcome", OutcomeRetry))
		return OutcomeRetry, e
	default:
		return d.failed(ctx, m, log, &JobError{Job: job.Name, MessageID: m.msg.ID, Message: res.Error})
	}
}

// childFor starts the child for req, or hands req to a spare child.
func (d *Dispatcher) childFor(req wire.Request, log *zap.Logger) (*child, error) {
	if sp := d.spares.Load(); sp != nil {
		if c := sp.take(); c != nil {
			c.send(req, log)
			return c, nil
		}
	}
	return spawn(req, log)
}

// externalSignal returns the signal that stopped the child when the
// dispatcher did not send one, else 0.
func externalSignal(c *child) syscall.Signal {
	if c.stoppedByUs() {
		return 0
	}
	if ws, ok := c.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal()
	}
	if c.res != nil {
		return syscall.Signal(c.res.Signal)
	}
	return 0
}

// failed applies a retryable failure: the retry policy's delay, or else
// the message is left to its visibility timeout.
func (d *Dispatcher) failed(ctx context.Context, m *inflight, log *zap.Logger, err error) (string, error) {
	if d.cfg.Retry == nil {
		log.Warn("job failed; message left for a retry", zap.Error(err), zap.String("outcome", OutcomeFailed))
		return OutcomeFailed, err
	}
	delay := capVisibility(d.cfg.Retry.Delay(m.msg.ReceiveCount), m.received)
	if verr := d.setVisibility(ctx, m, delay); verr != nil {
		return OutcomeError, errors.Join(err, verr)
	}
	log.Warn("job failed; message retried after a delay", zap.Error(err), zap.Duration("retry_after", delay), zap.String("outcome", OutcomeFailed))
	return OutcomeFailed, err
}

// permanent moves the message to the dead-letter queue with jerr as the
// reason.
func (d *Dispatcher) permanent(ctx context.Context, m *inflight, log *zap.Logger, jerr *JobError) (string, error) {
	if err := d.deadLetter(ctx, m, jerr.Message); err != nil {
		log.Error("permanent failure but the message could not be dead-lettered", zap.Error(err), zap.String("outcome", OutcomeError))
		return OutcomeError, errors.Join(jerr, err)
	}
	log.Warn("job failed permanently", zap.String("reason", jerr.Message), zap.String("outcome", OutcomeDeadLettered))
	return OutcomeDeadLettered, jerr
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
