package sqsdispatch

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"go.uber.org/zap"
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
	// KillGraceDefault is how long a child has between SIGTERM and SIGKILL
	// when the dispatcher stops it.
	KillGraceDefault = 5 * time.Second
	// GiveUpAfterDefault is how long receive errors are ridden out before
	// Run returns.
	GiveUpAfterDefault = 5 * time.Minute
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
	// QueueURL is the queue to consume. Required.
	QueueURL string
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

	// Logger receives structured logs, including the children's stderr
	// lines. Defaults to zap.NewNop().
	Logger *zap.Logger
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
	c.GiveUpAfter = cmp.Or(c.GiveUpAfter, GiveUpAfterDefault)
	if c.StopSignals == nil {
		c.StopSignals = DefaultStopSignals()
	} else {
		c.StopSignals = append([]os.Signal(nil), c.StopSignals...)
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c
}

// validate checks a defaulted Config.
func (c Config) validate() error {
	switch {
	case c.Client == nil:
		return errors.New("sqsdispatch: Config.Client is required")
	case c.QueueURL == "":
		return errors.New("sqsdispatch: Config.QueueURL is required")
	case c.Registry == nil:
		return errors.New("sqsdispatch: Config.Registry is required")
	case c.Job == "" && c.Route == nil:
		return errors.New("sqsdispatch: one of Config.Job and Config.Route is required")
	case c.Job != "" && c.Route != nil:
		return errors.New("sqsdispatch: Config.Job and Config.Route are mutually exclusive")
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
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"CleanupTimeout", c.CleanupTimeout}, {"KillGrace", c.KillGrace}, {"ShutdownGrace", c.ShutdownGrace}, {"GiveUpAfter", c.GiveUpAfter}} {
		if f.d < 0 {
			return fmt.Errorf("sqsdispatch: Config.%s (%s) must not be negative", f.name, f.d)
		}
	}
	if b, ok := c.Retry.(ExponentialBackoff); ok {
		if err := b.validate(); err != nil {
			return err
		}
	}
	if c.CleanupTimeout+cleanupMargin > maxVisibility {
		return fmt.Errorf("sqsdispatch: Config.CleanupTimeout (%s) plus %s must fit in SQS's %s visibility limit",
			c.CleanupTimeout, cleanupMargin, maxVisibility)
	}
	return nil
}

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
