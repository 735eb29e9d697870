package sqsdispatch

import "time"

// Metrics receives the dispatcher's measurements. Implementations must be
// safe for concurrent use and return quickly; the dispatcher calls them
// from its slots. Embed NopMetrics to implement only some methods.
type Metrics interface {
	// MessageReceived is called for each received message with its age
	// (now minus its SentTimestamp).
	MessageReceived(queue string, age time.Duration)
	// ChildSpawned is called for each child that starts a job with the
	// time from the decision to run the message to the child holding it.
	ChildSpawned(job string, latency time.Duration)
	// JobFinished is called exactly once per message whose job was routed,
	// with its outcome (see the Outcome constants) and the job's duration.
	JobFinished(job, outcome string, d time.Duration)
	// HeartbeatFailed is called for each failed lease extension.
	HeartbeatFailed(queue string)
	// DeadLettered is called for each message moved to a dead-letter queue.
	DeadLettered(queue, job string)
	// ChildUsage reports a finished child's peak RSS and CPU time.
	ChildUsage(job string, peakRSS int64, user, sys time.Duration)
}

// Outcomes passed to Metrics.JobFinished and logged as "outcome".
const (
	OutcomeSuccess      = "success"       // job succeeded, message deleted
	OutcomeFailed       = "failed"        // job failed; retried after its visibility timeout or the retry policy
	OutcomeRetry        = "retry"         // job asked for RetryAfter
	OutcomeDeadLettered = "dead_lettered" // message moved to the dead-letter queue
	OutcomeCrashed      = "crashed"       // child ended without a result; left for its visibility timeout
	OutcomeInterrupted  = "interrupted"   // stop signal or outside kill: cleaned up and given back or dead-lettered
	OutcomeLeaseLost    = "lease_lost"    // lease lost; child killed
	OutcomeContinued    = "continued"     // interrupted after a checkpoint; replaced by a copy that resumes from it
	OutcomeAgeLimit     = "age_limit"     // neared SQS's 12-hour limit without a checkpoint; stopped, left to the redrive policy
	OutcomeError        = "error"         // the dispatcher could not apply the outcome
)

// NopMetrics is a Metrics that does nothing; it is the default.
type NopMetrics struct{}

// MessageReceived implements Metrics.
func (NopMetrics) MessageReceived(string, time.Duration) {}

// ChildSpawned implements Metrics.
func (NopMetrics) ChildSpawned(string, time.Duration) {}

// JobFinished implements Metrics.
func (NopMetrics) JobFinished(string, string, time.Duration) {}

// HeartbeatFailed implements Metrics.
func (NopMetrics) HeartbeatFailed(string) {}

// DeadLettered implements Metrics.
func (NopMetrics) DeadLettered(string, string) {}

// ChildUsage implements Metrics.
func (NopMetrics) ChildUsage(string, int64, time.Duration, time.Duration) {}
