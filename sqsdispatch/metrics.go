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
	// SlotsBusy is called whenever the number of running jobs changes,
	// with it and the number of slots (Config.Concurrency).
	SlotsBusy(busy, slots int)
	// InFlight is called whenever the number of messages the dispatcher
	// holds from queue changes: received and not yet settled (running, or
	// being deleted, given back, continued or dead-lettered). An
	// autoscaler that counts the messages in flight (KEDA's
	// scaleOnInFlight) sees these in SQS's own counts too.
	InFlight(queue string, n int)
	// Backlog is called every Config.BacklogInterval, when it is set, with
	// the queue's approximate counts as SQS reports them.
	Backlog(queue string, b Backlog)
}

// Backlog is a queue's approximate backlog as SQS reports it.
type Backlog struct {
	// Visible, InFlight and Delayed are ApproximateNumberOfMessages,
	// ApproximateNumberOfMessagesNotVisible and
	// ApproximateNumberOfMessagesDelayed.
	Visible, InFlight, Delayed int
	// PerDispatcher is Visible divided by the number of dispatchers
	// consuming the queue (Config.FleetSize; this one alone without it):
	// the backlog per task that ECS's target tracking on an SQS queue
	// scales on.
	PerDispatcher float64
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

// SlotsBusy implements Metrics.
func (NopMetrics) SlotsBusy(int, int) {}

// InFlight implements Metrics.
func (NopMetrics) InFlight(string, int) {}

// Backlog implements Metrics.
func (NopMetrics) Backlog(string, Backlog) {}
