package sqsdispatch

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/lease"
	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// errJobFinished is what a cleanup attempt returns when its guard found
// that the job had already returned: nothing was cleaned up.
var errJobFinished = errors.New("sqsdispatch: the job had finished before it was suspended")

// interrupt runs the interruption protocol for a message whose job is
// running or was killed from outside: extend the lease, suspend the job and
// run its Cleanup in a child of its own (which guards the suspended job),
// retry it once after killing the job, then give the message back or
// dead-letter it. A job that turns out to have returned before it was
// suspended is not interrupted: its result is applied instead.
func (t *turn) interrupt(ctx context.Context, a action) (action, error) {
	c := t.c
	running := !isClosed(c.Done())
	if !running && a.failure == failNone { // it exited since the stop was seen: its result wins
		t.x = exitOf(c, nil)
		return t.apply(ctx, decide(endExited, t.x, t.d.retryDelay(t.m)))
	}
	sig, _ := t.r.why()
	if a.failure != failNone { // stopped from outside: that signal is the cause
		sig = t.x.signal
		if t.x.signal == 0 && t.x.res != nil {
			sig = syscall.Signal(t.x.res.Signal)
		}
	}
	// The checkpoint kept is the one the Cleanup is told of: it undoes
	// what the job did after it, and the next run resumes from it.
	next := t.keep(ctx)
	cleaned, cerr := t.cleanup(ctx, Cause{Signal: sig, Reason: a.reason, ChildRunning: running, Checkpoint: t.kept})
	if errors.Is(cerr, errJobFinished) {
		<-c.Done()
		t.x, t.keptSet = exitOf(c, nil), false
		return t.apply(ctx, decide(endExited, t.x, t.d.retryDelay(t.m)))
	}
	if running && isClosed(c.Done()) && c.Result() != nil && !c.StoppedByUs() {
		// No cleanup came to suspend it, and meanwhile the job ended on
		// its own: its result wins.
		t.x, t.keptSet = exitOf(c, nil), false
		return t.apply(ctx, decide(endExited, t.x, t.d.retryDelay(t.m)))
	}
	// Nothing of the job may be left when the message becomes visible again.
	c.Signal(syscall.SIGKILL)
	<-c.Done()
	if errors.Is(cerr, errNoCleanupLease) || errors.Is(cerr, errNoCleanupPayload) {
		// The lease may be gone, or the cleanup could not be given its
		// message: leave the message to its visibility, and to the
		// redrive policy.
		a.verb = doLeave
		return a, cerr
	}
	if running && t.job.Cleanup == nil && c.Result() != nil {
		// Killed without a cleanup after it had reported: the job ended.
		t.x, t.keptSet = exitOf(c, nil), false
		t.x.signal, t.x.exitCode = 0, reportedExitCode(c.Result())
		return t.apply(ctx, decide(endExited, t.x, t.d.retryDelay(t.m)))
	}
	if !cleaned {
		a.verb, a.outcome = doDeadLetter, OutcomeDeadLettered
		a.reason = fmt.Sprintf("cleanup failed after %s: %v", a.reason, cerr)
		return a, t.deadLetter(ctx, a.reason)
	}
	if a.ageLimit && next == nil {
		// No checkpoint to continue from: stopped for good, and the
		// message is left to the redrive policy.
		a.verb, a.outcome, a.failure = doLeave, OutcomeAgeLimit, failDispatcher
		t.op, t.cause = "age limit", ErrAgeLimit
		return a, nil
	}
	cctx, cancel := t.callCtx(ctx)
	defer cancel()
	qi, err := t.d.q.Info(cctx, t.m.msg.Queue)
	if err != nil {
		return a, err
	}
	if !qi.AllowsRetries() {
		a.verb, a.outcome = doDeadLetter, OutcomeDeadLettered
		a.reason += "; the queue allows no retries (maxReceiveCount 1)"
		return a, t.deadLetter(ctx, a.reason)
	}
	if next != nil {
		a.verb, a.outcome = doContinue, OutcomeContinued
		return a, t.continueMessage(ctx, next)
	}
	a.verb = doGiveBack
	return a, t.giveBack(ctx)
}

// keep takes the job's last checkpoint and, when the job recorded one
// and a copy of the message can carry it, returns the copy that continues
// the message. It sets the checkpoint kept (t.kept): the job's, or else
// the message's own (from an earlier run, or nil).
func (t *turn) keep(ctx context.Context) *queue.ContinueInput {
	t.cp, t.cpN = t.c.FreezeCheckpoints()
	t.kept, t.keptSeq, t.keptSet = t.m.msg.Checkpoint, t.m.msg.resume.Seq, true
	if t.cpN == 0 {
		return nil
	}
	next, err := t.continuation(ctx)
	if err != nil {
		t.log.Warn("the job's checkpoint cannot be kept", zap.Int("checkpoints", t.cpN), zap.Error(err))
		return nil
	}
	t.kept, t.keptSeq = t.cp, t.keptSeq+uint64(t.cpN)
	return next
}

// reportedExitCode is the exit code a child exits with after reporting res.
func reportedExitCode(res *wire.Result) int {
	if res.Kind == wire.KindOK {
		return 0
	}
	return 1
}

// cleanup runs the job's Cleanup, and once more after killing the job if
// it failed or hung, unless a second stop signal has come. It reports
// whether a cleanup succeeded (a job without Cleanup needs none).
func (t *turn) cleanup(ctx context.Context, cause Cause) (bool, error) {
	if t.job.Cleanup == nil {
		return true, nil
	}
	var err error
	for attempt := 1; attempt <= 2; attempt++ {
		cause.Attempt = attempt
		if verr := t.extendForCleanup(ctx); verr != nil {
			return false, verr
		}
		err = t.runCleanup(ctx, cause)
		switch {
		case errors.Is(err, errJobFinished), attempt == 1 && errors.Is(err, errNoCleanupPayload):
			return false, err
		case errors.Is(err, errNoCleanupPayload):
			// A second cleanup that cannot run is a second failure.
			err = errors.New(err.Error())
		}
		if err == nil {
			t.log.Info("cleanup done", zap.Int("attempt", attempt))
			return true, nil
		}
		t.log.Warn("cleanup failed; killing the job", zap.Int("attempt", attempt), zap.Error(err))
		t.c.Signal(syscall.SIGKILL)
		<-t.c.Done()
		cause.ChildRunning = false
		if t.r.hard() {
			break
		}
	}
	return false, err
}

// errNoCleanupLease is what a cleanup attempt returns when the message's
// visibility could not be extended to cover it: another consumer may then
// run the message while the cleanup would, so the cleanup does not run.
var errNoCleanupLease = errors.New("sqsdispatch: the message's visibility could not be extended for the cleanup")

// errNoCleanupPayload is what a cleanup attempt returns when the
// message's payload could not be fetched for the cleanup in time.
var errNoCleanupPayload = errors.New("sqsdispatch: the message's payload could not be fetched for the cleanup")

// extendForCleanup extends the message's visibility by CleanupTimeout plus
// a margin (and, for a message with a payload, the time to fetch it),
// trying twice. Visibility that SQS's 12-hour limit would cut short is no
// extension: the message would come back while the cleanup runs.
func (t *turn) extendForCleanup(ctx context.Context) error {
	want := t.d.cfg.cleanupVisibility(t.pointer != nil)
	short := func(got time.Duration) error {
		return fmt.Errorf("%w: SQS's 12-hour limit leaves %s of the %s needed", errNoCleanupLease, got, want)
	}
	var err error
	for range 2 {
		if got := lease.Cap(want, time.Since(t.m.received), t.d.maxAge); got < want {
			return short(got) // asking would make the message visible before the job is gone
		}
		var got time.Duration
		if got, err = t.hide(ctx, want); err == nil && got < want {
			return short(got)
		}
		if err == nil {
			return nil
		}
		t.log.Warn("extending visibility for cleanup", zap.Error(err))
	}
	return fmt.Errorf("%w: %w", errNoCleanupLease, err)
}

// runCleanup runs the job's Cleanup in a child of its own, bounded by
// CleanupTimeout. While the job is suspended, that child guards it: if the
// dispatcher dies, the guard kills the job's process group. A Cleanup gets
// the message as its job did: with its payload.
func (t *turn) runCleanup(ctx context.Context, cause Cause) error {
	req := wire.Request{Magic: wire.Magic, Version: wire.Version, Mode: wire.ModeCleanup, Job: t.job.Name,
		Message: t.m.msg.toWire(), Cause: cause.toWire(), TimeoutNS: int64(t.d.cfg.CleanupTimeout)}
	body, err := t.reopenPayload(ctx, payloadCleanupOpen)
	if err != nil {
		return fmt.Errorf("%w: %w", errNoCleanupPayload, err)
	}
	if cause.ChildRunning {
		// The cleanup child suspends the job once it is armed to kill it
		// should this process die, and kills it when the cleanup is done.
		req.GuardPGID = t.c.PID()
		t.c.MarkStoppedByUs()
	}
	opts := t.d.childOptions(t.log.With(zap.String("phase", "cleanup")))
	cc, err := child.Start(opts)
	if err != nil {
		body.Close()
		return fmt.Errorf("%w: %w", ErrChildStart, err)
	}
	if body != nil {
		cc.SendBody(req, body.r, body.size, opts.Log)
	} else {
		cc.Send(req, opts.Log)
	}
	defer cc.Release()
	defer body.Close() // before the release: a read of the store that stalls must not hold it
	timer := time.NewTimer(t.d.cfg.CleanupTimeout)
	defer timer.Stop()
	select {
	case <-cc.Done():
		if res := cc.Result(); res == nil || res.Kind != wire.KindOK && res.Kind != wire.KindJobFinished {
			t.c.Signal(syscall.SIGKILL) // its guard is gone
		}
	case <-timer.C:
		t.c.Signal(syscall.SIGKILL) // before its guard goes
		return fmt.Errorf("sqsdispatch: cleanup timed out after %s", t.d.cfg.CleanupTimeout)
	}
	res, state := cc.Result(), cc.State()
	switch {
	case res != nil && res.Kind == wire.KindJobFinished:
		return errJobFinished
	case res != nil && res.Kind == wire.KindOK && state.Success():
		return nil
	case res != nil:
		return errors.New("sqsdispatch: cleanup failed: " + res.Error)
	default:
		return fmt.Errorf("sqsdispatch: cleanup process exited without a result (%s): %s", state, lastLine(cc.Stderr()))
	}
}
