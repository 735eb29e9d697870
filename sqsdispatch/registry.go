package sqsdispatch

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// JobFunc runs one message's job inside a child process. Its return value
// decides the message's fate: nil deletes it, [Permanent] moves it to the
// dead-letter queue, [RetryAfter] makes it visible again after a delay, and
// any other error leaves it to the retry policy. The context is cancelled
// when the dispatcher asks the job to stop early (its Timeout ran out).
type JobFunc func(ctx context.Context, msg *Message) error

// CleanupFunc undoes the partial work of a job that was interrupted. It
// runs in a child process of its own while the job's process is suspended
// (or already gone), and its context ends after Config.CleanupTimeout.
// Returning an error, or running out of time, makes the dispatcher kill the
// job and try the cleanup once more; a second failure sends the message to
// the dead-letter queue.
type CleanupFunc func(ctx context.Context, msg *Message, cause Cause) error

// Job describes one kind of work that a message can ask for.
type Job struct {
	// Name routes messages to the job; it must be unique in its Registry.
	Name string
	// Run does the work. Required.
	Run JobFunc
	// Cleanup runs when the job is interrupted. Optional.
	Cleanup CleanupFunc
	// Timeout bounds one run of the job. When it passes, the job's process
	// group gets SIGTERM and, after Config.KillGrace, SIGKILL; the outcome
	// is a *WorkerProcessError. Zero means no limit.
	Timeout time.Duration
	// MaxRSS limits, in bytes, the resident memory of the job's process
	// and everything it started, sampled every
	// Config.MemorySampleInterval. A job over it is killed; the outcome is
	// a *WorkerProcessError naming the limit. Zero means Config.MaxRSS.
	MaxRSS int64
	// Reuse lets the child that ran this job run the slot's next job (see
	// Reuse). Its zero value takes Config.Reuse; MaxJobs 1 gives the job
	// a fresh child of its own whatever Config.Reuse says.
	Reuse Reuse
}

// Registry maps job names to jobs. The parent and every child build the same
// registry (usually in a package-level function called from main), so that a
// child can find its job by name.
type Registry struct {
	mu   sync.RWMutex
	jobs map[string]Job
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{jobs: make(map[string]Job)} }

// Register adds a job with no cleanup and no timeout. It panics if name is
// empty, fn is nil or name is already registered: all three are programming
// errors that must show at start-up.
func (r *Registry) Register(name string, fn JobFunc) {
	r.Handle(Job{Name: name, Run: fn})
}

// Handle adds a job. It panics on an empty name, a nil Run, a negative
// Timeout or a duplicate name.
func (r *Registry) Handle(job Job) {
	switch {
	case job.Name == "":
		panic("sqsdispatch: Registry.Handle: Job.Name is empty")
	case job.Run == nil:
		panic(fmt.Sprintf("sqsdispatch: Registry.Handle: Job.Run of %q is nil", job.Name))
	case job.Timeout < 0 || job.MaxRSS < 0:
		panic(fmt.Sprintf("sqsdispatch: Registry.Handle: Job.Timeout or Job.MaxRSS of %q is negative", job.Name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.jobs[job.Name]; dup {
		panic(fmt.Sprintf("sqsdispatch: Registry.Handle: job %q registered twice", job.Name))
	}
	r.jobs[job.Name] = job
}

// Lookup returns the job registered under name.
func (r *Registry) Lookup(name string) (Job, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	j, ok := r.jobs[name]
	return j, ok
}

// Names returns the registered job names in sorted order.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.jobs))
	for n := range r.jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
