package sqsdispatch

import (
	"context"
	"fmt"
	"os"
	"syscall"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// interrupt runs the interruption protocol for a message whose job is
// still running (a stop, the 12-hour limit) or was ended by a signal from
// outside (a kill, a supervisor's SIGTERM), in this order:
//
//  1. keep: the checkpoint kept is chosen, and the job's checkpoints are
//     no longer kept from then on;
//  2. clean up: the job's Cleanup runs in a child of its own, which
//     suspends the job first and guards it; if it fails or hangs, the
//     job is killed and the Cleanup tried once more;
//  3. kill: nothing of the job is left when its message becomes visible;
//  4. settle: the message is continued from the checkpoint kept, given
//     back, dead-lettered (a cleanup that failed twice, a queue that
//     allows no retries) or left to its visibility (no visibility to run
//     a cleanup in; the 12-hour limit reached without a checkpoint).
//
// A job that turns out to have ended on its own, not because a signal
// reached it, is not interrupted: its own result is applied instead.
func (t *turn) interrupt(ctx context.Context, a action) (action, error) {
	running := !isClosed(t.c.Done())
	if !running { // it ended before anything was cleaned up
		if a = t.ownResult(a); a.verb != doInterrupt {
			return t.apply(ctx, a)
		}
	}
	qi, qerr := t.queueInfo(ctx)
	t.kept = t.keep(qi)
	cause := Cause{Signal: t.stopSignal(a), Reason: a.reason, ChildRunning: running, Checkpoint: t.kept.data}
	done, cerr := t.cleanup(ctx, cause)
	if done == jobFinished {
		// It returned before the suspension took hold: its result stands,
		// unless a signal made it return.
		if a = t.ownResult(a); a.verb != doInterrupt {
			return t.apply(ctx, a)
		}
		cause.ChildRunning, cause.Reason = false, a.reason
		done, cerr = t.cleanup(ctx, cause)
	}
	untouched := !t.cleaning
	t.kill()
	if untouched && t.c.Result() != nil { // no cleanup ran, and it had reported before the kill
		if a = t.ownResult(a); a.verb != doInterrupt {
			return t.apply(ctx, a)
		}
	}
	a, err := t.fate(a, qi, qerr, done, cerr)
	if err != nil {
		return a, err
	}
	return t.apply(ctx, a)
}

// ownResult is the fate the job's own result decides, for a job that has
// ended. A result it reported before anything cleaned it up stands as
// reported, whatever killed its process afterwards. A job that a signal
// ended is still interrupted; the 12-hour limit then stays part of the
// interruption.
func (t *turn) ownResult(a action) action {
	<-t.c.Done()
	t.x = exitOf(t.c, nil)
	if t.x.res != nil && !t.cleaning && t.x.signal != 0 {
		t.x.signal, t.x.exitCode, t.x.killedByUs = 0, reportedExitCode(t.x.res), false
	}
	own := t.decide(endExited)
	if own.verb == doInterrupt {
		own.ageLimit = a.ageLimit
	} else {
		t.kept = kept{} // nothing of the interruption applies
	}
	return own
}

// reportedExitCode is the exit code a child exits with after reporting res.
func reportedExitCode(res *wire.Result) int {
	if res.Kind == wire.KindOK {
		return 0
	}
	return 1
}

// stopSignal is the signal a Cleanup is told of: the stop signal that
// interrupted the job (nil for a context), or the signal that ended it.
func (t *turn) stopSignal(a action) os.Signal {
	if a.byStop {
		sig, _ := t.r.why()
		return sig
	}
	if t.x.signal != 0 {
		return t.x.signal
	}
	if t.x.res != nil && t.x.res.Signal != 0 {
		return syscall.Signal(t.x.res.Signal)
	}
	return nil
}

// queueInfo reads the queue's attributes for an interruption: whether it
// allows retries, whether it is FIFO, how large a message may be.
func (t *turn) queueInfo(ctx context.Context) (*queue.Info, error) {
	ctx, cancel := t.callCtx(ctx)
	defer cancel()
	qi, err := t.d.q.Info(ctx, t.m.msg.Queue)
	if err != nil {
		t.log.Warn("reading the queue's attributes for an interruption", zap.Error(err))
	}
	return qi, err
}

// fate is where an interrupted message goes once its job is gone.
func (t *turn) fate(a action, qi *queue.Info, qerr error, done cleaned, cerr error) (action, error) {
	switch {
	case done == cleanupImpossible:
		// The lease may be gone, or the cleanup could not be given its
		// message: leave the message to its visibility, and to the
		// redrive policy.
		a.verb = doLeave
		return a, cerr
	case done == cleanupFailed:
		a.verb, a.outcome = doDeadLetter, OutcomeDeadLettered
		a.reason = fmt.Sprintf("cleanup failed after %s: %v", a.reason, cerr)
	case a.ageLimit && t.kept.next == nil:
		// No checkpoint to continue from: stopped for good, and the
		// message is left to the redrive policy.
		a.verb, a.outcome, a.failure = doLeave, OutcomeAgeLimit, failDispatcher
		t.op, t.cause = "age limit", ErrAgeLimit
	case qerr != nil:
		a.verb = doLeave
		return a, qerr
	case !qi.AllowsRetries():
		a.verb, a.outcome = doDeadLetter, OutcomeDeadLettered
		a.reason += "; the queue allows no retries (maxReceiveCount 1)"
	case t.kept.next != nil:
		a.verb, a.outcome = doContinue, OutcomeContinued
	default:
		a.verb = doGiveBack
	}
	return a, nil
}
