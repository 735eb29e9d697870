package sqsdispatch

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// exitOf reads what a finished child left: its result, exit code or
// signal, and what the dispatcher did to it. w may be nil.
func exitOf(c *child.Child, w *child.Watch) exitInfo {
	x := exitInfo{res: c.Result(), killedByUs: c.StoppedByUs()}
	switch st := c.State(); {
	case st != nil:
		x.exitCode = st.ExitCode()
		if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			x.signal = ws.Signal()
		}
	case x.res != nil: // a reused child lives on after its job: its exit is its report
		x.exitCode = reportedExitCode(x.res)
	}
	if w != nil {
		x.timedOut, x.memExceeded = w.TimedOut(), w.MemExceeded()
	}
	return x
}

// failureError builds the error the caller sees for a, or nil.
func (t *turn) failureError(a action) error {
	m, res := t.m.msg, t.x.res
	switch a.failure {
	case failJob:
		e := &JobError{Job: t.m.job, MessageID: m.ID, Permanent: a.verb == doDeadLetter, Err: t.cause}
		switch {
		case res != nil:
			e.Message = res.Error
		case t.cause != nil:
			e.Message = t.cause.Error()
		}
		if a.outcome == OutcomeRetry {
			e.RetryAfter = a.delay
		}
		return e
	case failLease:
		return &DispatcherError{Op: "heartbeat", Queue: m.Queue, MessageID: m.ID, Err: t.m.lease.Err()}
	case failDispatcher:
		return &DispatcherError{Op: t.op, Queue: m.Queue, MessageID: m.ID, Err: t.cause}
	case failProcess:
		return t.processError(a)
	}
	if t.r.stopping() && (a.verb == doGiveBack || a.verb == doDeadLetter || a.verb == doContinue) {
		return t.r.stopErr() // interrupted by the stop: given back, or dead-lettered for want of retries
	}
	return nil
}

// processError describes a failure of the job's process itself.
func (t *turn) processError(a action) *WorkerProcessError {
	e := &WorkerProcessError{Job: t.m.job, MessageID: t.m.msg.ID, ExitCode: -1}
	if t.c == nil {
		e.Reason, e.Err = "could not be started", fmt.Errorf("%w: %w", ErrChildStart, t.cause)
		return e
	}
	x, res := t.x, t.x.res
	e.PID, e.ExitCode, e.Signal, e.Stderr = t.c.PID(), x.exitCode, x.signal, t.c.Stderr()
	switch {
	case x.memExceeded:
		e.Reason = fmt.Sprintf("exceeded its memory limit MaxRSS of %d bytes", t.d.memLimit(t.job))
	case x.timedOut:
		e.Reason = fmt.Sprintf("ran past its timeout of %s", t.job.Timeout)
	case x.signal != 0 && !x.killedByUs:
		e.Reason = "was stopped by a signal the dispatcher did not send"
	case res != nil && res.Signal != 0 && !x.killedByUs:
		e.Signal = syscall.Signal(res.Signal)
		e.Reason = "was stopped by a signal the dispatcher did not send and returned early"
	case res != nil && res.Kind == wire.KindPanic:
		e.Reason, e.Stack = "panicked: "+res.Error, res.Stack
	case res != nil && res.Kind == wire.KindOK:
		e.Reason = fmt.Sprintf("reported success but exited with code %d", x.exitCode)
	case x.exitCode == 0:
		e.Reason = "exited with code 0 without reporting a result (os.Exit in the job?)"
	default:
		e.Reason = "exited without reporting a result"
	}
	return e
}

// report logs the message's outcome in one line with every stable field
// and records it in the metrics, once per message.
func (t *turn) report(a action, err, applyErr error) {
	d := t.d
	dur := time.Since(t.start)
	fields := []zap.Field{zap.String("outcome", a.outcome), zap.Duration("duration", dur)}
	if t.c != nil && isClosed(t.c.Done()) {
		u := t.c.Usage()
		d.cfg.Metrics.ChildUsage(t.m.job, u.PeakRSS, u.User, u.System)
		fields = append(fields, zap.Int64("rss_bytes", u.PeakRSS), zap.Duration("cpu_user", u.User), zap.Duration("cpu_sys", u.System))
	}
	if a.delay > 0 && a.verb == doVisibility {
		fields = append(fields, zap.Duration("retry_after", a.delay))
	}
	switch { // where the message went, when it did not just stay or go
	case t.continued != "":
		fields = append(fields, zap.String("continued_as", t.continued), zap.Int("checkpoints", t.kept.n))
	case t.dlq != "":
		fields = append(fields, zap.String("dead_lettered", t.dlq), zap.String("reason", t.reason(a)))
	case a.verb == doGiveBack && applyErr == nil:
		fields = append(fields, zap.Bool("given_back", true))
	}
	if err != nil && !errors.Is(err, ErrStopped) {
		fields = append(fields, zap.NamedError("job_error", err))
	}
	if applyErr != nil {
		a.outcome = OutcomeError
		fields[0] = zap.String("outcome", a.outcome)
	}
	switch {
	case applyErr != nil:
		t.log.Error("message outcome could not be applied", append(fields, zap.Error(applyErr))...)
	case a.outcome == OutcomeSuccess:
		t.log.Info("job succeeded", fields...)
	default:
		t.log.Warn("job did not succeed", fields...)
	}
	if t.m.job != "" {
		d.cfg.Metrics.JobFinished(t.m.job, a.outcome, dur)
	}
}

// joinErr returns err alone, or both errors when the outcome could not be
// applied.
func joinErr(err, applyErr error) error {
	if applyErr == nil {
		return err
	}
	if err == nil {
		return applyErr
	}
	return errors.Join(err, applyErr)
}
