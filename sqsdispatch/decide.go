package sqsdispatch

import (
	"fmt"
	"syscall"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// ending is what ended the owner's wait for a message's child.
type ending int

const (
	endExited      ending = iota // the child exited; it always wins a race
	endLeaseLost                 // the lease was lost; the child was killed
	endInterrupt                 // the dispatcher is stopping; the child still runs
	endRefused                   // the message cannot run: no job for it, an unreadable resume state, its runs used up, its payload gone
	endNoPayload                 // the message's payload could not be fetched for now
	endNotStarted                // the dispatcher was stopping before a child started
	endStartFailed               // the child could not be started
	endAgeLimit                  // the message neared SQS's 12-hour limit; the child still runs
)

// exitInfo is what the owner knows of a child that has ended.
type exitInfo struct {
	res         *wire.Result // nil when the child reported nothing
	exitCode    int          // -1 when a signal ended it
	signal      syscall.Signal
	killedByUs  bool // the dispatcher sent the child's group a signal that ends it (a timeout, MaxRSS, a lost lease)
	timedOut    bool
	memExceeded bool
}

// verb is what happens to a message.
type verb int

const (
	doDelete     verb = iota // the job succeeded
	doVisibility             // visible again after delay
	doDeadLetter             // move to the dead-letter queue with reason
	doLeave                  // left for its visibility timeout (and the redrive policy)
	doInterrupt              // the interruption protocol: cleanup, then give back or dead-letter
	doGiveBack               // visible again at once (or after a receive in flight ends)
	doContinue               // replaced by a copy carrying the job's checkpoint (set by interrupt)
)

// action is the fate decide picks for one message, with what the caller
// is told.
type action struct {
	verb     verb
	delay    time.Duration // doVisibility
	reason   string        // doDeadLetter, doInterrupt
	outcome  string        // the Outcome... constant logged and counted
	failure  failure       // how the error the caller sees is built; failNone on success
	ageLimit bool          // doInterrupt at the 12-hour limit: without a checkpoint, stop the job for good
	byStop   bool          // doInterrupt of a job still running: the dispatcher stops, or the 12-hour limit nears
}

// failure names the error type the caller sees.
type failure int

const (
	failNone       failure = iota
	failJob                // *JobError
	failProcess            // *WorkerProcessError
	failLease              // *DispatcherError wrapping ErrLeaseLost
	failDispatcher         // *DispatcherError wrapping the turn's cause
)

// retryDelay is the failure delay of the retry policy: ok is false when
// there is no policy (the message is left to its visibility timeout).
type retryDelay struct {
	d  time.Duration
	ok bool
}

// decide maps how a child's wait ended to the message's fate. It is pure:
// no I/O, no clock. A job that a signal from outside ended (killed it, or
// made it return early) is interrupted: its Cleanup runs and the message
// goes back or is continued from its checkpoint. While the dispatcher is
// stopping that is its stop, whoever's signal reached the job first (a
// supervisor signals every process of the service at once); otherwise it
// is the job's process failing (*WorkerProcessError).
func decide(end ending, x exitInfo, retry retryDelay, stopping bool) action {
	switch end {
	case endLeaseLost:
		return action{verb: doLeave, outcome: OutcomeLeaseLost, failure: failLease}
	case endInterrupt:
		return action{verb: doInterrupt, reason: "the dispatcher is stopping", outcome: OutcomeInterrupted, byStop: true}
	case endRefused:
		return action{verb: doDeadLetter, outcome: OutcomeDeadLettered, failure: failJob}
	case endNoPayload:
		return action{verb: doLeave, outcome: OutcomeFailed, failure: failDispatcher}
	case endAgeLimit:
		return action{verb: doInterrupt, reason: "the message neared SQS's 12-hour visibility limit",
			outcome: OutcomeInterrupted, ageLimit: true, byStop: true}
	case endNotStarted:
		return action{verb: doGiveBack, outcome: OutcomeInterrupted}
	case endStartFailed:
		return action{verb: doGiveBack, outcome: OutcomeInterrupted, failure: failProcess}
	}
	failed := func(f failure) action {
		if retry.ok {
			return action{verb: doVisibility, delay: retry.d, outcome: OutcomeFailed, failure: f}
		}
		return action{verb: doLeave, outcome: OutcomeFailed, failure: f}
	}
	signalled := failProcess
	if stopping {
		signalled = failNone // the stop: the caller sees a *StoppedError
	}
	res := x.res
	switch {
	case x.memExceeded, x.timedOut:
		// Whatever the job reported after the dispatcher stopped it.
		return failed(failProcess)
	case res != nil && res.Kind == wire.KindOK && x.exitCode == 0:
		// Succeeded, even if a signal from outside asked it to stop.
		return action{verb: doDelete, outcome: OutcomeSuccess}
	case x.signal != 0 && !x.killedByUs:
		return action{verb: doInterrupt, reason: fmt.Sprintf("the job's process was stopped by %s", x.signal),
			outcome: OutcomeInterrupted, failure: signalled}
	case res != nil && res.Signal != 0 && !x.killedByUs:
		// SIGTERM or SIGHUP from outside made the job return early.
		return action{verb: doInterrupt, reason: fmt.Sprintf("the job was stopped by %s", syscall.Signal(res.Signal)),
			outcome: OutcomeInterrupted, failure: signalled}
	case res == nil, x.signal != 0:
		return action{verb: doLeave, outcome: OutcomeCrashed, failure: failProcess}
	case res.Kind == wire.KindOK:
		// Reported success, then exited non-zero: the exit code is honest.
		return action{verb: doLeave, outcome: OutcomeCrashed, failure: failProcess}
	case res.Kind == wire.KindPermanent:
		return action{verb: doDeadLetter, reason: res.Error, outcome: OutcomeDeadLettered, failure: failJob}
	case res.Kind == wire.KindRetry:
		return action{verb: doVisibility, delay: time.Duration(res.RetryAfterNS), outcome: OutcomeRetry, failure: failJob}
	case res.Kind == wire.KindPanic:
		return failed(failProcess)
	default:
		return failed(failJob)
	}
}
