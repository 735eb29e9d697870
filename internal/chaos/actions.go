//go:build linux

package chaos

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/proctab"
)

// action is one kind of chaos, with its weight in the draw.
type action struct {
	name   string
	weight int
}

// actions are drawn by weight; a stop signal is one of SIGTERM, SIGINT and
// SIGHUP, named once drawn.
// actionStop draws a stop signal; the one sent is counted.
const actionStop = "stop"

var actions = [...]action{
	{ActionKillDispatcher, 15},
	{actionStop, 20},
	{ActionKillChild, 30},
	{ActionKillGrandchild, 15},
	{ActionSuspendChild, 20},
	{ActionSupervisorStop, 15},
}

var stopSignals = [...]syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP}

// Chance, in percent, that a stop signal is followed by a second one, and
// the bounds of the delays drawn for the timed parts of an action.
const (
	secondSignalPercent = 30
	secondSignalMin     = 50 * time.Millisecond
	secondSignalMax     = 500 * time.Millisecond
	// A stop signal may be followed by SIGKILL, as a supervisor does when
	// its stop timeout runs out, here while cleanups are likely running.
	killAfterStopPercent = 20
	killAfterStopMin     = 100 * time.Millisecond
	killAfterStopMax     = 1500 * time.Millisecond
	suspendMin           = 300 * time.Millisecond
	suspendMax           = 3 * time.Second
)

// pending is a timed follow-up of an action: a second signal, or the
// SIGCONT that ends a suspension.
type pending struct {
	at time.Time
	do func()
}

// chaos takes the chaos actions. It runs on one goroutine; every random
// decision comes from its seeded generator, in order.
type chaos struct {
	rng      *rand.Rand
	fleet    *fleet
	reaper   *reaper
	interval time.Duration
	out      io.Writer
	counts   map[string]int
	pending  []pending
}

func newChaos(seed uint64, f *fleet, r *reaper, interval time.Duration, out io.Writer) *chaos {
	return &chaos{rng: rand.New(rand.NewPCG(seed, streamChaos)), fleet: f, reaper: r, interval: interval,
		out: out, counts: map[string]int{}}
}

// between draws a duration in [lo, hi].
func (c *chaos) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(c.rng.Int64N(int64(hi-lo)+1))
}

// gap draws the time to the next action: uniform around the interval.
func (c *chaos) gap() time.Duration { return c.between(c.interval/4, c.interval*7/4) }

// run takes kills actions, or as many as fit before until, restarting
// dispatchers that exit. It returns the number taken.
func (c *chaos) run(ctx context.Context, kills int, until time.Time) (int, error) {
	defer c.flush()
	taken := 0
	next := time.Now().Add(c.gap())
	for taken < kills && time.Now().Before(until) {
		if err := c.waitUntil(ctx, next); err != nil {
			return taken, err
		}
		if !time.Now().Before(next) {
			if c.act() {
				taken++
			}
			next = time.Now().Add(c.gap())
		}
	}
	return taken, nil
}

// waitUntil runs due follow-ups and restarts until at, or returns early
// when a dispatcher exits so that its restart is scheduled.
func (c *chaos) waitUntil(ctx context.Context, at time.Time) error {
	for {
		now := time.Now()
		c.runDue(now)
		n, restartAt, err := c.fleet.restartDue(now)
		if err != nil {
			return err
		}
		c.counts[ActionRestart] += n
		if !now.Before(at) {
			return nil
		}
		wake := at
		if len(c.pending) > 0 && c.pending[0].at.Before(wake) {
			wake = c.pending[0].at
		}
		if !restartAt.IsZero() && restartAt.Before(wake) {
			wake = restartAt
		}
		t := time.NewTimer(time.Until(wake))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-c.fleet.changed:
		case <-t.C:
		}
		t.Stop()
	}
}

func (c *chaos) schedule(after time.Duration, do func()) {
	c.pending = append(c.pending, pending{at: time.Now().Add(after), do: do})
	sort.SliceStable(c.pending, func(i, j int) bool { return c.pending[i].at.Before(c.pending[j].at) })
}

func (c *chaos) runDue(now time.Time) {
	for len(c.pending) > 0 && !now.Before(c.pending[0].at) {
		p := c.pending[0]
		c.pending = c.pending[1:]
		p.do()
	}
}

// flush runs every follow-up now: no process is left suspended by the
// driver once the chaos ends.
func (c *chaos) flush() {
	for _, p := range c.pending {
		p.do()
	}
	c.pending = nil
}

func (c *chaos) draw() string {
	total := 0
	for _, a := range actions {
		total += a.weight
	}
	n := c.rng.IntN(total)
	for _, a := range actions {
		if n < a.weight {
			return a.name
		}
		n -= a.weight
	}
	return actions[0].name
}

// act draws one action and takes it; it reports false when there was no
// target for it.
func (c *chaos) act() bool {
	switch kind := c.draw(); kind {
	case ActionKillDispatcher:
		ds := c.fleet.running(false)
		if len(ds) == 0 {
			return false
		}
		d := ds[c.rng.IntN(len(ds))]
		return c.count(kind, d.signal(syscall.SIGKILL), "dispatcher "+d.id.String())
	case ActionSupervisorStop:
		ds := c.fleet.running(true)
		if len(ds) == 0 {
			return false
		}
		d := ds[c.rng.IntN(len(ds))]
		c.followUps(d)
		return c.count(kind, c.supervisorStop(d), "dispatcher "+d.id.String()+" and its children's groups")
	case actionStop:
		ds := c.fleet.running(true)
		if len(ds) == 0 {
			return false
		}
		d := ds[c.rng.IntN(len(ds))]
		sig := stopSignals[c.rng.IntN(len(stopSignals))]
		c.followUps(d)
		return c.count(map[syscall.Signal]string{syscall.SIGTERM: ActionSIGTERM, syscall.SIGINT: ActionSIGINT,
			syscall.SIGHUP: ActionSIGHUP}[sig], d.signal(sig), "dispatcher "+d.id.String())
	case ActionKillChild, ActionKillGrandchild, ActionSuspendChild:
		children, grandchildren := c.targets()
		pool := children
		if kind == ActionKillGrandchild {
			pool = grandchildren
		}
		if len(pool) == 0 {
			return false
		}
		p := pool[c.rng.IntN(len(pool))]
		if kind != ActionSuspendChild {
			fd, ok := signalProc(p, syscall.SIGKILL)
			if ok {
				unix.Close(fd)
			}
			return c.count(kind, ok, describe(p))
		}
		fd, ok := signalProc(p, syscall.SIGSTOP)
		if ok {
			c.schedule(c.between(suspendMin, suspendMax), func() { c.resume(fd, p) })
		}
		return c.count(kind, ok, describe(p))
	}
	return false
}

// followUps draws what follows a stop of d: maybe a second stop signal,
// maybe a SIGKILL as when a supervisor's stop timeout runs out.
func (c *chaos) followUps(d *dispatcher) {
	if c.rng.IntN(100) < secondSignalPercent {
		second := stopSignals[c.rng.IntN(len(stopSignals))]
		c.schedule(c.between(secondSignalMin, secondSignalMax), func() {
			c.count(ActionSecondSignal, !d.exited() && d.signal(second), sigName(second)+" to dispatcher "+d.id.String())
		})
	}
	if c.rng.IntN(100) < killAfterStopPercent {
		c.schedule(c.between(killAfterStopMin, killAfterStopMax), func() {
			c.count(ActionKillAfterStop, !d.exited() && d.signal(syscall.SIGKILL), "dispatcher "+d.id.String())
		})
	}
}

// supervisorStop sends SIGTERM to d and to the process group of each of
// its children (each leads a group of its own), in a drawn order, as a
// supervisor that signals every process of a service at once does. It
// reports whether d got its signal.
func (c *chaos) supervisorStop(d *dispatcher) bool {
	var signals []func()
	children, _ := c.targets()
	for _, p := range children {
		if p.PPID != d.id.PID {
			continue
		}
		signals = append(signals, func() {
			if id, err := proctab.Identify(p.PID); err == nil && id == p.ID {
				_ = syscall.Kill(-p.PID, syscall.SIGTERM)
			}
		})
	}
	ok := false
	signals = slices.Insert(signals, c.rng.IntN(len(signals)+1), func() { ok = d.signal(syscall.SIGTERM) })
	for _, send := range signals {
		send()
	}
	return ok
}

// resume ends a suspension with SIGCONT, also when the suspended process
// has lost its dispatcher meanwhile: its death signal is pending and takes
// effect as it resumes. (A job stopped from outside and never resumed
// cannot act on anything but SIGKILL; the kernel resumes it, with SIGHUP,
// when the process that inherits it is in another session.)
func (c *chaos) resume(fd int, p proctab.Proc) {
	defer unix.Close(fd)
	if now, err := proctab.Stat(p.PID); err == nil && now.ID == p.ID && now.PPID != p.PPID {
		c.count(ActionResumedOrphan, true, describe(now))
	}
	_ = unix.PidfdSendSignal(fd, unix.SIGCONT, nil, 0)
	c.logf("%s SIGCONT %s\n", time.Now().Format("15:04:05.000"), describe(p))
}

// count counts and logs an action that was taken.
func (c *chaos) count(kind string, ok bool, target string) bool {
	if ok {
		c.counts[kind]++
		c.logf("%s %s %s\n", time.Now().Format("15:04:05.000"), kind, target)
	}
	return ok
}

func describe(p proctab.Proc) string {
	return fmt.Sprintf("pid %s ppid %d %s", p.ID, p.PPID, p.Comm)
}

// targets returns the live processes of the run below the current
// dispatchers: their direct children (jobs, cleanups, spares) and the
// jobs' grandchildren (the sleeps, wherever they were re-parented).
func (c *chaos) targets() (children, grandchildren []proctab.Proc) {
	procs, err := proctab.List()
	if err != nil {
		return nil, nil
	}
	dispatchers := c.fleet.pids()
	for _, p := range procs {
		if p.Zombie() || dispatchers[p.PID] || !c.reaper.isMarked(p) {
			continue
		}
		switch {
		case p.Comm == "sleep":
			grandchildren = append(grandchildren, p)
		case dispatchers[p.PPID]:
			children = append(children, p)
		}
	}
	return children, grandchildren
}

// signalProc sends sig to p through a pidfd, after checking that the pid
// still names the same process. It returns the pidfd, open, on success.
func signalProc(p proctab.Proc, sig syscall.Signal) (int, bool) {
	fd, err := unix.PidfdOpen(p.PID, 0)
	if err != nil {
		return -1, false
	}
	if id, err := proctab.Identify(p.PID); err != nil || id != p.ID {
		unix.Close(fd)
		return -1, false
	}
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		unix.Close(fd)
		return -1, false
	}
	return fd, true
}

func (c *chaos) logf(format string, args ...any) { fmt.Fprintf(c.out, format, args...) }
