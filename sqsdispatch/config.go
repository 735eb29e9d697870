package sqsdispatch

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/lease"
)

// Defaults for zero Config fields.
const (
	// VisibilityTimeoutDefault is how long a received message stays
	// invisible to other consumers after each heartbeat.
	VisibilityTimeoutDefault = 60 * time.Second
	// HeartbeatIntervalDefault is how often a running job's message has its
	// visibility extended (or a third of VisibilityTimeout if shorter).
	HeartbeatIntervalDefault = 5 * time.Second
	// CleanupTimeoutDefault bounds one run of a job's Cleanup.
	CleanupTimeoutDefault = 30 * time.Second
	// MaxPayloadBytesDefault is the default Config.MaxPayloadBytes: 2 GiB,
	// the limit of AWS's extended clients.
	MaxPayloadBytesDefault = 2 << 30
	// KillGraceDefault is how long a child has between SIGTERM and SIGKILL
	// when the dispatcher stops it.
	KillGraceDefault = 5 * time.Second
	// GiveUpAfterDefault is how long receive errors are ridden out before
	// Run returns.
	GiveUpAfterDefault = 5 * time.Minute
	// PrespawnMaxIdleDefault is how long a spare child may wait for a
	// message before it is replaced.
	PrespawnMaxIdleDefault = time.Minute
	// MemorySampleIntervalDefault is how often a job with a memory limit
	// is measured.
	MemorySampleIntervalDefault = time.Second
	// maxPrespawnIdle stays well inside a child's handshake timeout.
	maxPrespawnIdle = 5 * time.Minute
)

// Limits set by SQS.
const (
	maxVisibility = 12 * time.Hour
	maxWaitTime   = 20 * time.Second
)

// Config configures a Dispatcher. It is passed by value; zero fields take
// the documented defaults, and New never modifies the caller's copy.
type Config struct {
	// Client makes the SQS calls. Required; *sqs.Client satisfies it.
	Client Client
	// QueueURL is the queue to consume. Exactly one of QueueURL and
	// QueueURLs must be set.
	QueueURL string
	// QueueURLs are several queues in strict priority order, highest
	// first: a lower queue is polled only when every higher one returned
	// nothing. Only the lowest queue long-polls, so a higher queue's new
	// message may wait up to WaitTime to be seen. Each message's
	// dead-letter moves follow its own queue's redrive policy.
	QueueURLs []string
	// Registry holds the jobs. Required; the child processes must build the
	// same registry and call Init with it first thing in main.
	Registry *Registry
	// Job is the name of the job that runs every message of the queue.
	// Exactly one of Job and Route must be set.
	Job string
	// Route picks the job for each message. A returned error, or a name
	// that is not registered, sends the message to the dead-letter queue
	// with the reason.
	Route func(*Message) (string, error)

	// Retry decides the delay before a failed job's message is delivered
	// again (job errors, panics, timeouts). Defaults to nil: the message
	// is left to its visibility timeout. See ExponentialBackoff.
	Retry RetryPolicy

	// VisibilityTimeout is the lease each heartbeat renews, in whole
	// seconds. Defaults to VisibilityTimeoutDefault.
	VisibilityTimeout time.Duration
	// HeartbeatInterval is how often the lease is renewed; it must be
	// shorter than VisibilityTimeout. Defaults to HeartbeatIntervalDefault,
	// or a third of VisibilityTimeout if that is shorter.
	HeartbeatInterval time.Duration
	// WaitTime is the long-poll wait of each receive, in whole seconds, at
	// most 20 s. Defaults to the queue's ReceiveMessageWaitTimeSeconds.
	WaitTime time.Duration
	// CleanupTimeout bounds one run of a job's Cleanup. Defaults to
	// CleanupTimeoutDefault.
	CleanupTimeout time.Duration
	// KillGrace is the time between SIGTERM and SIGKILL when a job is
	// stopped for running past its Timeout. Defaults to KillGraceDefault.
	KillGrace time.Duration
	// ShutdownGrace is how long Run lets running jobs finish after a stop
	// signal before interrupting them. Defaults to 0: interrupt at once.
	ShutdownGrace time.Duration
	// StopSignals are the signals that make Run stop. Defaults to SIGTERM,
	// SIGINT, SIGHUP, SIGQUIT and SIGABRT; set an empty non-nil slice to
	// handle none (the context still stops Run).
	StopSignals []os.Signal
	// GiveUpAfter is how long Run rides out failing receives (network
	// errors, throttling, 5xx) with back-off before it returns the error.
	// Defaults to GiveUpAfterDefault.
	GiveUpAfter time.Duration

	// Concurrency is the number of jobs run at once, each in its own
	// child. Receives ask for at most as many messages as there are idle
	// slots. Defaults to 1.
	Concurrency int
	// MaxJobs retires the dispatcher after it has started this many jobs:
	// it stops receiving, lets the running jobs finish and Run returns
	// ErrRetired. Defaults to 0: no limit.
	MaxJobs int
	// MaxLifetime retires the dispatcher, as MaxJobs does, once it has
	// run this long. Defaults to 0: no limit.
	MaxLifetime time.Duration
	// Prespawn keeps a spare child per slot started and waiting at the
	// handshake, so a message does not wait for a process to start. A
	// spare runs one job (more with Reuse, like any child), dies with the
	// parent like any child, and is replaced once it has waited
	// PrespawnMaxIdle.
	Prespawn bool
	// Reuse lets a child run the slot's next job after its own, for the
	// jobs whose Job.Reuse does not say otherwise (see Reuse). Defaults
	// to the zero Reuse: one job per child.
	Reuse Reuse
	// PrespawnMaxIdle bounds how long a spare child, or a child kept for
	// its next job (Reuse), waits for a message,
	// at most 5 minutes. Defaults to PrespawnMaxIdleDefault.
	PrespawnMaxIdle time.Duration
	// RequireDLQ makes Run refuse to start on a queue without a redrive
	// policy. Without one, a message that must be dead-lettered stays in
	// its queue and is retried; Run only warns. Defaults to false.
	RequireDLQ bool

	// MaxRSS is the memory limit, in bytes, of a job's process tree when
	// its Job.MaxRSS is 0. A job over it is killed and fails with a
	// *WorkerProcessError. Defaults to 0: no limit.
	MaxRSS int64
	// MemorySampleInterval is how often a job with a memory limit has its
	// process tree measured. Defaults to MemorySampleIntervalDefault.
	MemorySampleInterval time.Duration

	// Logger receives structured logs, including the children's stderr
	// lines. Defaults to zap.NewNop(); the children's stderr then goes to
	// this process's stderr as it is.
	Logger *zap.Logger
	// LogBodies logs a "message received" line, with the message's body,
	// for each message received; without it there is no such line.
	// Defaults to false: bodies may hold personal data or secrets.
	LogBodies bool
	// Metrics receives measurements. Defaults to NopMetrics.
	Metrics Metrics
	// StatusOnSIGUSR1 makes Run log a status line per busy slot when the
	// process receives SIGUSR1. Defaults to false.
	StatusOnSIGUSR1 bool
	// BacklogInterval, when set, makes Run read each queue's approximate
	// backlog (one GetQueueAttributes request per queue) at this interval
	// and report it to Metrics.Backlog, for autoscalers and dashboards.
	// Defaults to 0: not read; SQS's own CloudWatch metrics say the same.
	BacklogInterval time.Duration
	// BusyHook, when set, is told when the dispatcher goes from holding no
	// message to holding some and back (see BusyHook; package ecsprotect
	// is one for ECS task scale-in protection). Defaults to nil.
	BusyHook BusyHook
	// FleetSize, when set, returns how many dispatchers consume the
	// queues (running tasks or pods), for Backlog.PerDispatcher. Defaults
	// to nil: this dispatcher alone.
	FleetSize func() int

	// Subreaper makes the process a child subreaper (Linux) while Run runs:
	// the orphaned descendants of jobs are re-parented to it rather than to
	// init, and Run reaps every process it adopts, so none is left a
	// zombie where init does not reap (a container whose PID 1 is a shell
	// or the service itself). Leave it off when the process runs other
	// subprocesses whose orphans it must not reap. Defaults to false.
	Subreaper bool

	// Payloads, when set, fetches the payloads of messages that AWS's
	// extended clients for Java and Python (or s3payload.Sender) kept in
	// S3: a message carrying the reserved attribute ExtendedPayloadSize or
	// SQSLargePayloadSize, whose body is a pointer of either client format
	// (see PayloadStore and package s3payload). The job gets the payload
	// as its Body, streamed to its child. The dispatcher keeps the
	// pointer: logs, dead-letter moves and continuations carry it, never
	// the payload. A pointer that is malformed, or whose object is
	// missing or outside what the store may use, is dead-lettered with
	// the reason. A body that reads as a pointer without the attribute is
	// an ordinary body. When nil, a message carrying the attribute is
	// dead-lettered, pointer and attribute kept, saying Payloads is not
	// set: its job would only see the pointer.
	Payloads PayloadStore
	// DeletePayloads deletes a message's payload object once its job
	// succeeded and the message was deleted, as the extended clients do
	// when told to. Only objects the store may use are deleted (a store
	// refuses the others, and their messages are dead-lettered before any
	// job runs); a dead-lettered message keeps its object. Leave it off
	// when other consumers read the same objects.
	DeletePayloads bool
	// MaxPayloadBytes bounds the size of a payload a job is given; a
	// larger one is dead-lettered. The job's child holds its payload in
	// memory. Defaults to MaxPayloadBytesDefault.
	MaxPayloadBytes int64

	noLogger       bool          // Logger was nil: children's stderr goes to os.Stderr
	maxAge         time.Duration // SQS's 12-hour limit; shortened by tests
	ageLimitMargin time.Duration // replaces ageMargin's sum in tests
	hideMin        time.Duration // replaces the hide a continuation needs, in tests
}

// setAgeLimit shortens SQS's 12-hour limit for tests (see testhook).
func (c *Config) setAgeLimit(maxAge, margin, hideMin time.Duration) {
	c.maxAge, c.ageLimitMargin, c.hideMin = maxAge, margin, hideMin
}

// DefaultStopSignals returns the signals Run stops on when
// Config.StopSignals is nil.
func DefaultStopSignals() []os.Signal {
	return []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGABRT}
}

// withDefaults returns a copy of c with defaults filled in.
func (c Config) withDefaults() Config {
	c.VisibilityTimeout = cmp.Or(c.VisibilityTimeout, VisibilityTimeoutDefault)
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = min(HeartbeatIntervalDefault, c.VisibilityTimeout/3)
	}
	c.CleanupTimeout = cmp.Or(c.CleanupTimeout, CleanupTimeoutDefault)
	c.KillGrace = cmp.Or(c.KillGrace, KillGraceDefault)
	c.MaxPayloadBytes = cmp.Or(c.MaxPayloadBytes, MaxPayloadBytesDefault)
	c.GiveUpAfter = cmp.Or(c.GiveUpAfter, GiveUpAfterDefault)
	c.Concurrency = cmp.Or(c.Concurrency, 1)
	c.PrespawnMaxIdle = cmp.Or(c.PrespawnMaxIdle, PrespawnMaxIdleDefault)
	c.QueueURLs = append([]string(nil), c.QueueURLs...)
	if c.StopSignals == nil {
		c.StopSignals = DefaultStopSignals()
	} else {
		c.StopSignals = append([]os.Signal(nil), c.StopSignals...)
	}
	if c.Logger == nil {
		c.Logger, c.noLogger = zap.NewNop(), true
	}
	if c.Metrics == nil {
		c.Metrics = NopMetrics{}
	}
	c.MemorySampleInterval = cmp.Or(c.MemorySampleInterval, MemorySampleIntervalDefault)
	return c
}

// validate checks a defaulted Config.
func (c Config) validate() error {
	switch {
	case c.Client == nil:
		return errors.New("sqsdispatch: Config.Client is required")
	case c.QueueURL == "" && len(c.QueueURLs) == 0:
		return errors.New("sqsdispatch: Config.QueueURL (or Config.QueueURLs) is required")
	case c.QueueURL != "" && len(c.QueueURLs) > 0:
		return errors.New("sqsdispatch: Config.QueueURL and Config.QueueURLs are mutually exclusive")
	case c.Registry == nil:
		return errors.New("sqsdispatch: Config.Registry is required")
	case c.Job == "" && c.Route == nil:
		return errors.New("sqsdispatch: one of Config.Job and Config.Route is required")
	case c.Job != "" && c.Route != nil:
		return errors.New("sqsdispatch: Config.Job and Config.Route are mutually exclusive")
	}
	for i, u := range c.QueueURLs {
		if u == "" {
			return fmt.Errorf("sqsdispatch: Config.QueueURLs[%d] is empty", i)
		}
	}
	if c.Concurrency < 1 {
		return fmt.Errorf("sqsdispatch: Config.Concurrency (%d) must be positive", c.Concurrency)
	}
	if c.MaxJobs < 0 {
		return fmt.Errorf("sqsdispatch: Config.MaxJobs (%d) must not be negative", c.MaxJobs)
	}
	if c.MaxRSS < 0 {
		return fmt.Errorf("sqsdispatch: Config.MaxRSS (%d) must not be negative", c.MaxRSS)
	}
	if c.PrespawnMaxIdle < 0 || c.PrespawnMaxIdle > maxPrespawnIdle {
		return fmt.Errorf("sqsdispatch: Config.PrespawnMaxIdle (%s) must be between 0 and %s", c.PrespawnMaxIdle, maxPrespawnIdle)
	}
	if err := c.Reuse.validate("Config.Reuse"); err != nil {
		return err
	}
	for _, name := range c.Registry.Names() {
		job, _ := c.Registry.Lookup(name)
		if err := job.Reuse.validate(fmt.Sprintf("Job %q's Reuse", name)); err != nil {
			return err
		}
	}
	if c.Job != "" {
		if _, ok := c.Registry.Lookup(c.Job); !ok {
			return fmt.Errorf("sqsdispatch: Config.Job %q is not registered in Config.Registry (registered: %v)", c.Job, c.Registry.Names())
		}
	}
	if err := wholeSeconds("VisibilityTimeout", c.VisibilityTimeout, time.Second, maxVisibility); err != nil {
		return err
	}
	if err := wholeSeconds("WaitTime", c.WaitTime, 0, maxWaitTime); err != nil {
		return err
	}
	if c.HeartbeatInterval <= 0 {
		return fmt.Errorf("sqsdispatch: Config.HeartbeatInterval (%s) must be positive", c.HeartbeatInterval)
	}
	if c.HeartbeatInterval >= c.VisibilityTimeout {
		return fmt.Errorf("sqsdispatch: Config.HeartbeatInterval (%s) must be shorter than Config.VisibilityTimeout (%s)",
			c.HeartbeatInterval, c.VisibilityTimeout)
	}
	if c.WaitTime > 0 && c.VisibilityTimeout <= c.WaitTime+c.HeartbeatInterval {
		return fmt.Errorf("sqsdispatch: Config.VisibilityTimeout (%s) must be longer than Config.WaitTime (%s) plus Config.HeartbeatInterval (%s): "+
			"a message taken late in a long poll would have no lease left to renew", c.VisibilityTimeout, c.WaitTime, c.HeartbeatInterval)
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"CleanupTimeout", c.CleanupTimeout}, {"KillGrace", c.KillGrace}, {"ShutdownGrace", c.ShutdownGrace}, {"GiveUpAfter", c.GiveUpAfter}, {"MaxLifetime", c.MaxLifetime}, {"MemorySampleInterval", c.MemorySampleInterval},
		{"BacklogInterval", c.BacklogInterval}} {
		if f.d < 0 {
			return fmt.Errorf("sqsdispatch: Config.%s (%s) must not be negative", f.name, f.d)
		}
	}
	if c.MaxPayloadBytes < 0 {
		return fmt.Errorf("sqsdispatch: Config.MaxPayloadBytes (%d) must not be negative", c.MaxPayloadBytes)
	}
	if b, ok := c.Retry.(ExponentialBackoff); ok {
		if err := b.validate(); err != nil {
			return err
		}
	}
	if c.ageMargin() > maxVisibility/2 {
		return fmt.Errorf("sqsdispatch: Config.CleanupTimeout (%s) is too long: two cleanups and KillGrace (%s) must fit in half of SQS's %s visibility limit",
			c.CleanupTimeout, c.KillGrace, maxVisibility)
	}
	return nil
}

// ageMargin is how long before SQS's 12-hour limit a job still running
// is interrupted: time for two cleanups, a kill and the SQS calls, all
// within the visibility SQS still allows.
func (c *Config) ageMargin() time.Duration {
	if c.ageLimitMargin > 0 {
		return c.ageLimitMargin
	}
	return 2*c.cleanupVisibility(c.Payloads != nil) + c.KillGrace + lease.Margin + ageSlack
}

// cleanupVisibility is the visibility one cleanup attempt needs: its
// CleanupTimeout, a margin, and for a message with a payload the time to
// start fetching it.
func (c *Config) cleanupVisibility(payload bool) time.Duration {
	if payload {
		return c.CleanupTimeout + cleanupMargin + payloadCleanupOpen
	}
	return c.CleanupTimeout + cleanupMargin
}

// ageSlack is the part of ageMargin left, after the cleanups and the
// kill, for continuing the message: the original stays hidden for the
// send and the delete's retries (standardHide, the longer need), plus the
// calls that set it up.
const ageSlack = standardHide + 20*time.Second

// cleanupMargin is added to CleanupTimeout when a message's visibility is
// extended for its cleanup.
const cleanupMargin = 5 * time.Second

func wholeSeconds(field string, d, lo, hi time.Duration) error {
	if d < lo || d > hi {
		return fmt.Errorf("sqsdispatch: Config.%s (%s) must be between %s and %s", field, d, lo, hi)
	}
	if d%time.Second != 0 {
		return fmt.Errorf("sqsdispatch: Config.%s (%s) must be a whole number of seconds", field, d)
	}
	return nil
}
