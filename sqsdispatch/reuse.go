package sqsdispatch

import (
	"cmp"
	"fmt"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// Reuse lets the child that ran a job go on to the slot's next job,
// instead of one child per job: a child whose job succeeded or returned
// an error goes back to waiting for a request, until it has run MaxJobs
// jobs or lived MaxLifetime. It saves a process start per message (the
// loader, the Go runtime, every package's init), which dominates the cost
// of jobs that take milliseconds.
//
// Reuse gives up part of what a fresh child gives: package-level state
// and goroutines a job leaves behind live on into the next job, and the
// memory a job held is returned to the operating system only as the Go
// runtime decides. Everything else holds per job: heartbeats, Timeout,
// MaxRSS, the interruption protocol, checkpoints, payloads, trace context,
// metrics and log lines (with the reused process's pid), and Status (a
// job's age is the job's). Every process a job started is killed and
// reaped before its result is reported, so nothing of one job runs during
// the next. A child that may be dirty is never reused: after a panic, a
// crash, a Timeout, a MaxRSS kill, a lost lease, an interruption or any
// signal, or when its resident memory after a job is above MaxRSSFraction
// of the job's memory limit, it is ended, and the next job gets a fresh
// child. A job that needs a clean process keeps the default: one job per
// child.
type Reuse struct {
	// MaxJobs is how many jobs one child runs at most. In Config.Reuse, 0
	// and 1 mean one job per child (no reuse, the default); in Job.Reuse,
	// 0 takes Config.Reuse and 1 keeps the job on a fresh child of its
	// own.
	MaxJobs int
	// Jitter draws each child's own limit from [MaxJobs×(1−Jitter),
	// MaxJobs], so that a fleet's children do not all restart at once.
	// Between 0 and 1; 0 takes ReuseJitterDefault, so a limit without
	// jitter takes a Jitter below 1/MaxJobs, such as 1e-9.
	Jitter float64
	// MaxLifetime ends a child once it has run this long. Defaults to
	// ReuseLifetimeDefault.
	MaxLifetime time.Duration
	// MaxRSSFraction ends a child whose resident memory after a job is
	// above this fraction of the job's memory limit (Job.MaxRSS, else
	// Config.MaxRSS); without a limit it is not checked. Between 0 and 1;
	// 0 takes ReuseRSSFractionDefault (1 checks only the limit itself).
	MaxRSSFraction float64
}

// Defaults of Reuse.
const (
	// ReuseJitterDefault is the default Reuse.Jitter.
	ReuseJitterDefault = 0.1
	// ReuseLifetimeDefault is the default Reuse.MaxLifetime.
	ReuseLifetimeDefault = time.Hour
	// ReuseRSSFractionDefault is the default Reuse.MaxRSSFraction.
	ReuseRSSFractionDefault = 0.5
)

// on reports whether r reuses children.
func (r Reuse) on() bool { return r.MaxJobs > 1 }

func (r Reuse) withDefaults() Reuse {
	r.Jitter = cmp.Or(r.Jitter, ReuseJitterDefault)
	r.MaxLifetime = cmp.Or(r.MaxLifetime, ReuseLifetimeDefault)
	r.MaxRSSFraction = cmp.Or(r.MaxRSSFraction, ReuseRSSFractionDefault)
	return r
}

func (r Reuse) validate(field string) error {
	switch {
	case r.MaxJobs < 0:
		return fmt.Errorf("sqsdispatch: %s.MaxJobs (%d) must not be negative", field, r.MaxJobs)
	case r.Jitter < 0 || r.Jitter >= 1:
		return fmt.Errorf("sqsdispatch: %s.Jitter (%g) must be at least 0 and less than 1", field, r.Jitter)
	case r.MaxLifetime < 0:
		return fmt.Errorf("sqsdispatch: %s.MaxLifetime (%s) must not be negative", field, r.MaxLifetime)
	case r.MaxRSSFraction < 0 || r.MaxRSSFraction > 1:
		return fmt.Errorf("sqsdispatch: %s.MaxRSSFraction (%g) must be between 0 and 1", field, r.MaxRSSFraction)
	}
	return nil
}

// limit draws a child's own job limit with intN (rand.IntN).
func (r Reuse) limit(intN func(int) int) int {
	cut := int(r.Jitter * float64(r.MaxJobs))
	return r.MaxJobs - intN(cut+1)
}

// reusePolicy is the reuse policy of job: its own when it sets one, else
// the Config's, with defaults.
func (d *Dispatcher) reusePolicy(job Job) Reuse {
	if job.Reuse.MaxJobs != 0 {
		return job.Reuse.withDefaults()
	}
	return d.cfg.Reuse.withDefaults()
}

// Why a child that ran a job does not run another.
const (
	retireCrash       = "crash"       // exited without a result
	retirePanic       = "panic"       // the job panicked
	retireTimeout     = "timeout"     // ran past its Timeout
	retireMaxRSS      = "max_rss"     // killed over its MaxRSS
	retireSignal      = "signal"      // a signal reached it
	retireLeaseLost   = "lease_lost"  // its message's lease was lost
	retireInterrupted = "interrupted" // a stop or the 12-hour limit interrupted it
	retireStopping    = "stopping"    // the dispatcher is stopping
	retireJobs        = "jobs"        // it ran its number of jobs
	retireLifetime    = "lifetime"    // it lived its MaxLifetime
	retireRSS         = "rss"         // its memory after the job is above MaxRSSFraction of the limit
)

// outcomeRetirement says why the child of a job that ended as x, with
// the fate a, may be dirty and must not run another job, or "" when it
// may. It is pure.
func outcomeRetirement(a action, x exitInfo, stopping bool) string {
	res := x.res
	switch {
	case x.timedOut:
		return retireTimeout
	case x.memExceeded:
		return retireMaxRSS
	case x.signal != 0 || res != nil && res.Signal != 0:
		return retireSignal
	case a.failure == failLease:
		return retireLeaseLost
	case a.verb == doInterrupt || a.verb == doContinue || a.byStop:
		return retireInterrupted
	case res == nil:
		return retireCrash
	case res.Kind == wire.KindPanic:
		return retirePanic
	case stopping:
		return retireStopping
	}
	return ""
}

// wear is what a clean child has been through.
type wear struct {
	jobs, limit int           // jobs it has run, and its own limit
	age         time.Duration // since it started
	rss         int64         // its resident memory after its last job
	memLimit    int64         // that job's memory limit, 0 for none
}

// wearRetirement says why a clean child must not run another job under
// policy p, or "" when it may. It is pure.
func wearRetirement(p Reuse, w wear) string {
	switch {
	case w.jobs >= w.limit:
		return retireJobs
	case w.age >= p.MaxLifetime:
		return retireLifetime
	case w.memLimit > 0 && float64(w.rss) > p.MaxRSSFraction*float64(w.memLimit):
		return retireRSS
	}
	return ""
}
