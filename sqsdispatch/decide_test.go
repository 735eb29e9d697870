package sqsdispatch

import (
	"syscall"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// TestDecide covers every row of the outcome table: what each way a
// child's wait can end does to the message and what the caller sees.
func TestDecide(t *testing.T) {
	t.Parallel()
	ok := &wire.Result{Kind: wire.KindOK}
	noPolicy, policy := retryDelay{}, retryDelay{d: 40 * time.Second, ok: true}
	tests := []struct {
		name     string
		end      ending
		x        exitInfo
		retry    retryDelay
		stopping bool
		want     action
	}{
		{"job returned nil, exit 0: deleted", endExited, exitInfo{res: ok}, noPolicy, false,
			action{verb: doDelete, outcome: OutcomeSuccess}},
		{"job returned an error, no policy: left to its visibility", endExited,
			exitInfo{res: &wire.Result{Kind: wire.KindError, Error: "boom"}, exitCode: 1}, noPolicy, false,
			action{verb: doLeave, outcome: OutcomeFailed, failure: failJob}},
		{"job returned an error, with a policy: the policy's delay", endExited,
			exitInfo{res: &wire.Result{Kind: wire.KindError, Error: "boom"}, exitCode: 1}, policy, false,
			action{verb: doVisibility, delay: 40 * time.Second, outcome: OutcomeFailed, failure: failJob}},
		{"RetryAfter: visibility set to its delay", endExited,
			exitInfo{res: &wire.Result{Kind: wire.KindRetry, RetryAfterNS: int64(time.Minute)}, exitCode: 1}, policy, false,
			action{verb: doVisibility, delay: time.Minute, outcome: OutcomeRetry, failure: failJob}},
		{"Permanent (or undecodable body, unknown job in the child): dead-lettered", endExited,
			exitInfo{res: &wire.Result{Kind: wire.KindPermanent, Error: "bad body"}, exitCode: 1}, policy, false,
			action{verb: doDeadLetter, reason: "bad body", outcome: OutcomeDeadLettered, failure: failJob}},
		{"cannot run (no job, unreadable resume state, runs used up, payload gone): dead-lettered", endRefused, exitInfo{}, policy, false,
			action{verb: doDeadLetter, outcome: OutcomeDeadLettered, failure: failJob}},
		{"payload store not answering: left to its visibility", endNoPayload, exitInfo{}, policy, false,
			action{verb: doLeave, outcome: OutcomeFailed, failure: failDispatcher}},
		{"12-hour limit near: the interruption protocol, marked as the limit", endAgeLimit, exitInfo{}, policy, false,
			action{verb: doInterrupt, reason: "the message neared SQS's 12-hour visibility limit", outcome: OutcomeInterrupted, ageLimit: true, byStop: true}},
		{"panic: treated as an error", endExited,
			exitInfo{res: &wire.Result{Kind: wire.KindPanic, Error: "panic: x", Stack: "..."}, exitCode: 1}, policy, false,
			action{verb: doVisibility, delay: 40 * time.Second, outcome: OutcomeFailed, failure: failProcess}},
		{"exit code > 0 without a result: left to its visibility", endExited,
			exitInfo{exitCode: 3}, policy, false,
			action{verb: doLeave, outcome: OutcomeCrashed, failure: failProcess}},
		{"exit 0 without a result (os.Exit(0) in the job): left to its visibility", endExited,
			exitInfo{exitCode: 0}, policy, false,
			action{verb: doLeave, outcome: OutcomeCrashed, failure: failProcess}},
		{"reported success but exited non-zero: the exit code wins", endExited,
			exitInfo{res: ok, exitCode: 2}, policy, false,
			action{verb: doLeave, outcome: OutcomeCrashed, failure: failProcess}},
		{"killed by a signal not sent by the dispatcher: interruption protocol", endExited,
			exitInfo{exitCode: -1, signal: syscall.SIGKILL}, policy, false,
			action{verb: doInterrupt, reason: "the job's process was stopped by killed", outcome: OutcomeInterrupted, failure: failProcess}},
		{"SIGTERM from outside made the job return: interruption protocol", endExited,
			exitInfo{res: &wire.Result{Kind: wire.KindError, Error: "ctx", Signal: int(syscall.SIGTERM)}, exitCode: 1}, policy, false,
			action{verb: doInterrupt, reason: "the job was stopped by terminated", outcome: OutcomeInterrupted, failure: failProcess}},
		{"succeeded although a SIGTERM from outside asked it to stop: deleted", endExited,
			exitInfo{res: &wire.Result{Kind: wire.KindOK, Signal: int(syscall.SIGTERM)}}, policy, false,
			action{verb: doDelete, outcome: OutcomeSuccess}},
		{"ran past its Timeout and returned nil within the grace: still a failure", endExited,
			exitInfo{res: ok, exitCode: 0, timedOut: true, killedByUs: true}, noPolicy, false,
			action{verb: doLeave, outcome: OutcomeFailed, failure: failProcess}},
		{"ran past its Timeout and was killed: an error, with the policy", endExited,
			exitInfo{exitCode: -1, signal: syscall.SIGKILL, timedOut: true, killedByUs: true}, policy, false,
			action{verb: doVisibility, delay: 40 * time.Second, outcome: OutcomeFailed, failure: failProcess}},
		{"exceeded MaxRSS: an error", endExited,
			exitInfo{exitCode: -1, signal: syscall.SIGKILL, memExceeded: true, killedByUs: true}, noPolicy, false,
			action{verb: doLeave, outcome: OutcomeFailed, failure: failProcess}},
		{"lease lost: child stopped, message left", endLeaseLost,
			exitInfo{exitCode: -1, signal: syscall.SIGKILL, killedByUs: true}, policy, false,
			action{verb: doLeave, outcome: OutcomeLeaseLost, failure: failLease}},
		{"stop while the child runs: interruption protocol", endInterrupt, exitInfo{}, policy, false,
			action{verb: doInterrupt, reason: "the dispatcher is stopping", outcome: OutcomeInterrupted, byStop: true}},
		{"stopping, and the supervisor's SIGTERM made the job return first: interrupted as the stop", endExited,
			exitInfo{res: &wire.Result{Kind: wire.KindError, Error: "context canceled", Signal: int(syscall.SIGTERM)}, exitCode: 1}, policy, true,
			action{verb: doInterrupt, reason: "the job was stopped by terminated", outcome: OutcomeInterrupted}},
		{"stopping, and a signal from outside killed the job first: interrupted as the stop", endExited,
			exitInfo{exitCode: -1, signal: syscall.SIGKILL}, policy, true,
			action{verb: doInterrupt, reason: "the job's process was stopped by killed", outcome: OutcomeInterrupted}},
		{"stopping, and the job returned nil after the supervisor's SIGTERM: deleted", endExited,
			exitInfo{res: &wire.Result{Kind: wire.KindOK, Signal: int(syscall.SIGTERM)}}, policy, true,
			action{verb: doDelete, outcome: OutcomeSuccess}},
		{"stopping, and the job failed on its own: its result stands", endExited,
			exitInfo{res: &wire.Result{Kind: wire.KindError, Error: "boom"}, exitCode: 1}, noPolicy, true,
			action{verb: doLeave, outcome: OutcomeFailed, failure: failJob}},
		{"stop before the job started: given back without a child", endNotStarted, exitInfo{}, policy, false,
			action{verb: doGiveBack, outcome: OutcomeInterrupted}},
		{"child could not be started: given back, error returned", endStartFailed, exitInfo{}, policy, false,
			action{verb: doGiveBack, outcome: OutcomeInterrupted, failure: failProcess}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := decide(tt.end, tt.x, tt.retry, tt.stopping); got != tt.want {
				t.Fatalf("decide = %+v\nwant     %+v", got, tt.want)
			}
		})
	}
}
