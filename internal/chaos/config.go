package chaos

import (
	"cmp"
	"fmt"
	"io"
	"time"
)

// Defaults for zero Config fields.
const (
	// MessagesDefault is the number of messages sent.
	MessagesDefault = 150
	// KillsDefault is the number of chaos actions.
	KillsDefault = 60
	// DispatchersDefault is the number of dispatcher processes.
	DispatchersDefault = 3
	// ConcurrencyDefault is each dispatcher's Config.Concurrency.
	ConcurrencyDefault = 3
	// DurationDefault caps the whole run.
	DurationDefault = 9 * time.Minute
	// IntervalDefault is the mean time between two chaos actions.
	IntervalDefault = 300 * time.Millisecond
	// MinDuration is the shortest Config.Duration.
	MinDuration = 2 * time.Minute
)

// Queue settings: a visibility timeout that long jobs outlive (so only
// heartbeats keep them hidden), and a redrive policy to a dead-letter
// queue.
const (
	visibility      = 4 * time.Second
	heartbeat       = time.Second
	waitTime        = time.Second
	cleanupTimeout  = 5 * time.Second
	maxReceiveCount = 10
)

// Config sizes one chaos run.
type Config struct {
	// Messages is how many messages are sent. Defaults to MessagesDefault.
	Messages int
	// Kills is how many chaos actions are taken (kills, stop signals,
	// suspensions); their follow-ups (a second stop signal, a SIGKILL
	// after a stop signal, the SIGCONT that ends a suspension) are not
	// counted. Defaults to KillsDefault.
	Kills int
	// Dispatchers is how many dispatcher processes run at once. Defaults
	// to DispatchersDefault.
	Dispatchers int
	// Concurrency is each dispatcher's number of slots. Defaults to
	// ConcurrencyDefault.
	Concurrency int
	// Seed drives every random choice: the messages' jobs and the chaos
	// decisions. Defaults to 0, a seed like any other.
	Seed uint64
	// Duration caps the run from the moment it holds the machine lock;
	// phases still running when it is near are cut short and say so. The
	// phases after the chaos keep about two minutes of it, so it must be
	// at least MinDuration. Defaults to DurationDefault.
	Duration time.Duration
	// Interval is the mean time between two chaos actions. Defaults to
	// IntervalDefault.
	Interval time.Duration
	// WorkDir holds the ledger, the logs and the service binary. Required.
	WorkDir string
	// ServiceBinary is a prebuilt service (./service). Defaults to "":
	// built into WorkDir.
	ServiceBinary string
	// Out receives progress lines and the report. Defaults to io.Discard.
	Out io.Writer
	// Checkpoints makes the jobs record a checkpoint halfway, so that an
	// interrupted job is continued as a new message and resumes from it.
	Checkpoints bool
	// AgeLimit shortens SQS's 12-hour limit on a message's visibility to
	// ageLimitMaxAge in the dispatchers, so that jobs of more than
	// ageLimitRun are interrupted at the limit: continued from their
	// checkpoint (with Checkpoints), or stopped and left. Defaults to
	// false.
	AgeLimit bool
	// Reuse, when positive, makes the even dispatcher slots reuse their
	// children for up to this many jobs each (sqsdispatch.Reuse); the odd
	// ones run one job per child. Defaults to 0: no slot reuses.
	Reuse int
	// FailDeletes is the chance, in percent, that a DeleteMessage call of
	// a dispatcher fails before it reaches the server, as when SQS cannot
	// be reached for a moment: the outcome's delete, and the delete that
	// follows a continuation, retried for as long as the original stays
	// hidden. Defaults to 0.
	FailDeletes int
}

// The shortened limit of Config.AgeLimit: jobs are interrupted
// ageLimitRun after their receive, leaving the rest of ageLimitMaxAge for
// two cleanups and a continuation.
const (
	ageLimitMaxAge  = time.Minute
	ageLimitRun     = 5500 * time.Millisecond
	ageLimitHideMin = 20 * time.Second
)

func (c Config) withDefaults() Config {
	c.Messages = cmp.Or(c.Messages, MessagesDefault)
	c.Kills = cmp.Or(c.Kills, KillsDefault)
	c.Dispatchers = cmp.Or(c.Dispatchers, DispatchersDefault)
	c.Concurrency = cmp.Or(c.Concurrency, ConcurrencyDefault)
	c.Duration = cmp.Or(c.Duration, DurationDefault)
	c.Interval = cmp.Or(c.Interval, IntervalDefault)
	if c.Out == nil {
		c.Out = io.Discard
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Messages < 1:
		return fmt.Errorf("chaos: Config.Messages (%d) must be positive", c.Messages)
	case c.Kills < 0:
		return fmt.Errorf("chaos: Config.Kills (%d) must not be negative", c.Kills)
	case c.Dispatchers < 1:
		return fmt.Errorf("chaos: Config.Dispatchers (%d) must be positive", c.Dispatchers)
	case c.Concurrency < 1:
		return fmt.Errorf("chaos: Config.Concurrency (%d) must be positive", c.Concurrency)
	case c.Duration < MinDuration:
		return fmt.Errorf("chaos: Config.Duration (%s) must be at least %s", c.Duration, MinDuration)
	case c.Interval <= 0:
		return fmt.Errorf("chaos: Config.Interval (%s) must be positive", c.Interval)
	case c.Reuse < 0:
		return fmt.Errorf("chaos: Config.Reuse (%d) must not be negative", c.Reuse)
	case c.FailDeletes < 0 || c.FailDeletes > 90:
		return fmt.Errorf("chaos: Config.FailDeletes (%d) must be between 0 and 90", c.FailDeletes)
	case c.WorkDir == "":
		return fmt.Errorf("chaos: Config.WorkDir is required")
	}
	return nil
}
