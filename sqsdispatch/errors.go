package sqsdispatch

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/lease"
	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
)

// Sentinel errors. Compare with errors.Is.
var (
	// ErrLeaseLost means the message's receipt handle stopped being valid
	// while its job ran (the visibility timeout expired, the message was
	// deleted or received elsewhere, or SQS's 12-hour limit was reached).
	// The job is stopped because another consumer may already be running
	// it.
	ErrLeaseLost = lease.ErrLost
	// ErrNoRedrivePolicy means a message had to go to the dead-letter queue
	// but its queue has no RedrivePolicy. The message is left where it is.
	ErrNoRedrivePolicy = queue.ErrNoRedrivePolicy
	// ErrQueueConfig is wrapped by the error Run returns when a queue's
	// attributes and the Config together would lose or duplicate work.
	ErrQueueConfig = queue.ErrConfig
	// ErrUnknownJob means a message named a job that is not registered.
	ErrUnknownJob = errors.New("sqsdispatch: unknown job")
	// ErrStopped is wrapped by the error Run returns when a stop signal or
	// the caller's context ended it.
	ErrStopped = errors.New("sqsdispatch: dispatcher stopped")
	// ErrRetired is returned by Run when the dispatcher retired after
	// Config.MaxJobs jobs or Config.MaxLifetime: it stopped receiving and
	// let its running jobs finish. A supervisor should start a fresh
	// process.
	ErrRetired = errors.New("sqsdispatch: dispatcher retired")
	// ErrChildStart is wrapped by the error returned when a child process
	// could not be started (exec failed, out of file descriptors). The
	// message is given back; Run returns rather than loop.
	ErrChildStart = errors.New("sqsdispatch: child process could not be started")
	// ErrAgeLimit is wrapped by the *DispatcherError of a job that was
	// still running as its message neared SQS's 12-hour limit on
	// visibility, and had recorded no checkpoint in that run. The job was
	// stopped (its Cleanup ran) before the message could be received
	// again, and the message is left to its visibility and the queue's
	// redrive policy. A job that checkpoints is continued instead.
	ErrAgeLimit = errors.New("sqsdispatch: the message reached SQS's 12-hour visibility limit; the job had recorded no checkpoint and was stopped")
	// ErrCheckpointNotKept is wrapped by the error Checkpoint returns when
	// the job's context ended before the dispatcher said it kept the
	// checkpoint: the next run may resume from an earlier one.
	ErrCheckpointNotKept = child.ErrNotKept
	// ErrPayloadNotFound is wrapped by PayloadStore.OpenPayload when the
	// object a pointer names does not exist. The message is then moved to
	// the dead-letter queue, pointer and all.
	ErrPayloadNotFound = errors.New("sqsdispatch: payload object not found")
	// ErrPayloadNotAllowed is wrapped by PayloadStore.OpenPayload and
	// PayloadStore.DeletePayload when a pointer names an object outside the
	// buckets (and key prefixes) the store may use: the store reads and
	// deletes nothing. The message is moved to the dead-letter queue,
	// pointer and all.
	ErrPayloadNotAllowed = errors.New("sqsdispatch: payload object outside the buckets the store may use")
	// ErrPayloadTooLarge means a message's payload object is larger than
	// Config.MaxPayloadBytes. The message is moved to the dead-letter
	// queue, pointer and all.
	ErrPayloadTooLarge = errors.New("sqsdispatch: payload object too large")
)

// StoppedError is returned by Run when a stop signal or the caller's
// context ended it. It matches ErrStopped with errors.Is, and unwraps to
// the context's error when the context stopped it.
type StoppedError struct {
	// Signal is the stop signal, or nil when the context was cancelled.
	Signal os.Signal
	// Cause is the context's error when the context stopped Run.
	Cause error
}

// Error names the signal or the context that stopped Run.
func (e *StoppedError) Error() string {
	if e.Signal != nil {
		return fmt.Sprintf("sqsdispatch: dispatcher stopped by signal %s", e.Signal)
	}
	return fmt.Sprintf("sqsdispatch: dispatcher stopped: %v", e.Cause)
}

// Is reports whether target is ErrStopped.
func (e *StoppedError) Is(target error) bool { return target == ErrStopped }

// Unwrap returns Cause.
func (e *StoppedError) Unwrap() error { return e.Cause }

// JobError is a job's own failure: it returned an error, or the message
// could not be routed to a job. The original error crossed the process
// boundary as text, so only its message is kept.
type JobError struct {
	Job       string
	MessageID string
	// Message is the text of the job's error.
	Message string
	// Permanent is true when the job returned Permanent(err) or the message
	// could not be routed or decoded; the message went to the dead-letter
	// queue.
	Permanent bool
	// RetryAfter is the delay the job asked for with RetryAfter, else 0.
	RetryAfter time.Duration
	// Err is an error from this process that caused the failure (for
	// example ErrUnknownJob), if any.
	Err error
}

// Error names the job, the message and what the job said, or why the
// message could not run at all.
func (e *JobError) Error() string {
	switch {
	case e.Job == "" || errors.Is(e.Err, ErrUnknownJob):
		return fmt.Sprintf("sqsdispatch: message %s could not be routed to a job: %s", e.MessageID, e.Message)
	case e.Err != nil:
		return fmt.Sprintf("sqsdispatch: message %s could not run job %q: %s", e.MessageID, e.Job, e.Message)
	case e.Permanent:
		return fmt.Sprintf("sqsdispatch: job %q failed permanently on message %s: %s", e.Job, e.MessageID, e.Message)
	}
	return fmt.Sprintf("sqsdispatch: job %q failed on message %s: %s", e.Job, e.MessageID, e.Message)
}

// Unwrap returns Err.
func (e *JobError) Unwrap() error { return e.Err }

// WorkerProcessError is the failure of a job's child process itself: it
// panicked, exited without reporting a result, was killed by a signal, ran
// past its timeout or could not be started.
type WorkerProcessError struct {
	Job       string
	MessageID string
	PID       int
	// ExitCode is the child's exit code, or -1 if a signal ended it or it
	// never started.
	ExitCode int
	// Signal is the signal that ended the child, or 0.
	Signal syscall.Signal
	// Reason says what went wrong, in words.
	Reason string
	// Stack is the goroutine stack of a panic, when the job panicked.
	Stack string
	// Stderr is the tail of what the child wrote to its standard error.
	Stderr []byte
	// Err is the underlying error, if any.
	Err error
}

// Error names the job, the message and what became of the child process.
func (e *WorkerProcessError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sqsdispatch: job %q on message %s: child", e.Job, e.MessageID)
	if e.PID > 0 {
		fmt.Fprintf(&b, " pid %d", e.PID)
	}
	b.WriteString(" ")
	b.WriteString(e.Reason)
	switch {
	case e.Signal != 0:
		fmt.Fprintf(&b, " (signal %s)", e.Signal)
	case e.ExitCode >= 0:
		fmt.Fprintf(&b, " (exit code %d)", e.ExitCode)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if tail := lastLine(e.Stderr); tail != "" {
		fmt.Fprintf(&b, "; stderr: %s", tail)
	}
	return b.String()
}

// Unwrap returns Err.
func (e *WorkerProcessError) Unwrap() error { return e.Err }

// DispatcherError is a failure of the dispatcher's own work on a message or
// a queue: an SQS call, a dead-letter move, a lost lease.
type DispatcherError struct {
	// Op is the operation that failed, usually the SQS API name.
	Op        string
	Queue     string
	MessageID string
	Err       error
}

// Error names the operation, the queue and the message.
func (e *DispatcherError) Error() string {
	return (&queue.OpError{Op: e.Op, Queue: e.Queue, MessageID: e.MessageID, Err: e.Err}).Error()
}

// Unwrap returns Err.
func (e *DispatcherError) Unwrap() error { return e.Err }

// lastLine returns the last non-empty line of b, trimmed to 200 bytes.
func lastLine(b []byte) string {
	s := strings.TrimRight(string(b), "\r\n\t ")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
