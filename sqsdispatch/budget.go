package sqsdispatch

import (
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/busy"
)

// Bounds on the waits a stop can meet. Every one of them is enforced in
// code, so that StopBudget is a bound, not an estimate.
const (
	// minCallTime is the least time an SQS call made for an outcome gets,
	// even when the lease's deadline is closer.
	minCallTime = 5 * time.Second
	// maxCallTime bounds one SQS call made for an outcome (the SDK's own
	// retries included), and the visibility extension before a cleanup
	// (both of its tries), however far off the lease's deadline is.
	maxCallTime = 10 * time.Second
	// settleBudget bounds, once the dispatcher is stopping, all the SQS
	// calls that settle one message after its job (and its cleanups):
	// the delete, the give-back, the dead-letter move or the continuation
	// with the delete's retries.
	settleBudget = 20 * time.Second
	// reapTime is what killing and reaping a job's process group after a
	// cleanup attempt is counted at.
	reapTime = time.Second
)

// StopBudget returns the longest a stop can take with this configuration,
// from the first stop signal (or the end of Run's context) until Run
// returns: the drain (ShutdownGrace), then, for the jobs still running,
// all at once, the lookup of the queue's attributes, two cleanup
// attempts (each with the visibility extension before it, the fetch of
// the message's payload when Config.Payloads is set, the Cleanup itself
// and the kill of the job), the SQS calls that settle the message, and,
// with a Config.BusyHook, its last call, which says the dispatcher is
// idle (5 s). A
// receive in flight when the stop comes, and the give-back of what it
// returned, run beside those and take less.
//
// Give the supervisor at least this long between its stop signal and its
// SIGKILL: ECS's stopTimeout, Kubernetes' terminationGracePeriodSeconds
// (which also counts preStop hooks), systemd's TimeoutStopSec,
// supervisord's stopwaitsecs. With the defaults it is 1m52s; with
// Config.Payloads set, 2m12s.
func (c Config) StopBudget() time.Duration {
	c = c.withDefaults()
	attempt := maxCallTime + c.CleanupTimeout + reapTime
	if c.Payloads != nil {
		attempt += payloadCleanupOpen
	}
	budget := c.ShutdownGrace + maxCallTime + 2*attempt + settleBudget
	if c.BusyHook != nil {
		budget += busy.FinalTimeout // the hook told the dispatcher is idle, as Run returns
	}
	return budget
}
