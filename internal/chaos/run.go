//go:build linux

package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"golang.org/x/sys/unix"

	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/ledger"
	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
)

// Time kept, at the end of Config.Duration, for the phases after the
// chaos: draining the queue, stopping the dispatchers, waiting for stray
// processes, reading the queues.
const (
	drainReserve = 60 * time.Second
	stopReserve  = 30 * time.Second
	strayGrace   = 3 * time.Second
	readReserve  = 15 * time.Second
	// drainPoll is how often the drain reads the queue's counts; a queue
	// must read empty drainSettle times in a row.
	drainPoll   = 500 * time.Millisecond
	drainSettle = 2
	strayPoll   = 100 * time.Millisecond
)

// Run runs one chaos run and returns its verdict. The error is for a run
// that could not be made (the server or the build failed); a run that
// shows the library breaking its promise returns a failed Verdict.
//
// Run makes the calling process a child subreaper for the rest of its
// life, so that the orphans of the run are re-parented to it; it reaps
// them while it runs. No other code of the process may start children
// meanwhile: the reaper takes every child it did not start for an orphan.
func Run(ctx context.Context, cfg Config) (Verdict, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return Verdict{}, err
	}
	fmt.Fprintf(cfg.Out, "chaos: seed=%d messages=%d kills=%d dispatchers=%d concurrency=%d interval=%s duration-cap=%s workdir=%s\n",
		cfg.Seed, cfg.Messages, cfg.Kills, cfg.Dispatchers, cfg.Concurrency, cfg.Interval, cfg.Duration, cfg.WorkDir)
	unlock, err := lockMachine(ctx, cfg.Out)
	if err != nil {
		return Verdict{}, err
	}
	defer unlock()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return Verdict{}, fmt.Errorf("chaos: becoming a child subreaper: %w", err)
	}
	b := &bench{cfg: cfg, started: time.Now()}
	b.deadline = b.started.Add(cfg.Duration)
	defer b.close()
	if err := b.setUp(ctx); err != nil {
		return Verdict{}, err
	}
	return b.run(ctx)
}

// bench is what one run stands on: the service binary, the server with its
// queues and messages, the ledger.
type bench struct {
	cfg      Config
	started  time.Time
	deadline time.Time

	bin    string
	led    *ledger.Ledger
	logDir string
	server *fauxqs.Server
	client *sqs.Client
	queues fauxqs.Queues
	bodies []ledger.Body
}

func (b *bench) say(format string, args ...any) {
	fmt.Fprintf(b.cfg.Out, "chaos [%5.1fs] %s\n", time.Since(b.started).Seconds(), fmt.Sprintf(format, args...))
}

// setUp builds the service, starts the server, creates the queues and
// sends the messages.
func (b *bench) setUp(ctx context.Context) error {
	var err error
	if b.bin = b.cfg.ServiceBinary; b.bin == "" {
		if b.bin, err = buildService(ctx, b.cfg.WorkDir); err != nil {
			return err
		}
		b.say("service built")
	}
	if b.led, err = ledger.Open(filepath.Join(b.cfg.WorkDir, "ledger")); err != nil {
		return err
	}
	b.logDir = filepath.Join(b.cfg.WorkDir, "logs")
	if err := os.MkdirAll(b.logDir, 0o755); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	if b.server, err = fauxqs.Start(ctx); err != nil {
		return fmt.Errorf("chaos: starting the local SQS server: %w", err)
	}
	if b.client, err = b.server.Client(ctx); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	b.queues, err = fauxqs.CreateQueues(ctx, b.client, fauxqs.QueueSpec{Name: "chaos", MaxReceiveCount: maxReceiveCount,
		WaitSeconds: int(waitTime / time.Second), VisibilitySeconds: int(visibility / time.Second)})
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	b.bodies = Plan(b.cfg.Seed, b.cfg.Messages)
	if err := sendAll(ctx, b.client, b.queues.URL, b.bodies); err != nil {
		return err
	}
	b.say("server at %s; %d messages sent", b.server.Endpoint, len(b.bodies))
	return nil
}

func (b *bench) close() {
	if b.server != nil {
		b.server.Close()
	}
}

// run starts the dispatchers, takes the chaos actions, drains the queue,
// stops the dispatchers and judges what is left.
func (b *bench) run(ctx context.Context) (Verdict, error) {
	marker := fmt.Sprintf("%s=%d.%d", ledger.EnvRun, os.Getpid(), b.started.UnixNano())
	args := []string{"-endpoint", b.server.Endpoint, "-queue", b.queues.URL, "-concurrency", fmt.Sprint(b.cfg.Concurrency),
		"-visibility", visibility.String(), "-heartbeat", heartbeat.String(), "-wait", waitTime.String(),
		"-cleanup-timeout", cleanupTimeout.String(), "-checkpoints=" + fmt.Sprint(b.cfg.Checkpoints),
		"-fail-deletes", fmt.Sprint(b.cfg.FailDeletes)}
	if b.cfg.AgeLimit {
		args = append(args, "-age-limit", ageLimitMaxAge.String(), "-age-margin", (ageLimitMaxAge - ageLimitRun).String(),
			"-age-hide-min", ageLimitHideMin.String())
	}
	f := newFleet(b.bin, args, serviceEnv(marker, b.led), b.logDir, b.cfg.Dispatchers)
	f.reuse = b.cfg.Reuse
	f.markStarted(b.server.PID())
	r := newReaper(marker, f)
	reapCtx, stopReaping := context.WithCancel(context.WithoutCancel(ctx))
	reaped := make(chan struct{})
	go func() { defer close(reaped); r.run(reapCtx) }()
	defer func() { stopReaping(); <-reaped }()
	finished := false
	defer func() { // on an early return, nothing of the run is left running
		if !finished {
			f.stopAll(time.Now().Add(stopReserve))
			killLeftovers(r, r.leftovers())
		}
	}()

	for slot := range b.cfg.Dispatchers {
		if _, err := f.start(slot); err != nil {
			return Verdict{}, err
		}
		b.say("dispatcher slot %d: %s", slot, setupOf(slot, b.cfg.Reuse))
	}
	actionLog, err := os.Create(filepath.Join(b.cfg.WorkDir, "actions.log"))
	if err != nil {
		return Verdict{}, fmt.Errorf("chaos: %w", err)
	}
	defer actionLog.Close()
	var notes []string
	c := newChaos(b.cfg.Seed, f, r, b.cfg.Interval, actionLog)
	taken, err := c.run(ctx, b.cfg.Kills, b.deadline.Add(-(drainReserve + stopReserve + strayGrace + readReserve)))
	if err != nil {
		return Verdict{}, err
	}
	if taken < b.cfg.Kills {
		notes = append(notes, fmt.Sprintf("only %d of %d chaos actions fit in the duration cap", taken, b.cfg.Kills))
	}
	b.say("chaos done: %d actions; draining", taken)

	if err := drain(ctx, b.client, b.queues.URL, f, c, b.deadline.Add(-(stopReserve + strayGrace + readReserve))); err != nil {
		if ctx.Err() != nil {
			return Verdict{}, err
		}
		notes = append(notes, err.Error())
	}
	b.say("drained; stopping the dispatchers")
	if n := f.stopAll(time.Now().Add(stopReserve)); n > 0 {
		notes = append(notes, fmt.Sprintf("%d dispatchers did not exit within %s of SIGTERM", n, stopReserve))
	}
	leftovers := waitForStrays(r, strayGrace)
	finished = true
	b.say("dispatchers stopped; stray processes of the run: %d (after waiting up to %s)", len(leftovers), strayGrace)
	killLeftovers(r, leftovers)

	obs := Observation{Sent: b.bodies, Actions: c.counts, Notes: notes, Leftovers: leftovers}
	if err := observe(ctx, b.client, b.queues, b.led, f, &obs); err != nil {
		return Verdict{}, err
	}
	obs.Duration = time.Since(b.started)
	v := Judge(obs)
	adopted, reapedN := r.counts()
	b.say("processes adopted by the driver: %d, reaped by it: %d; logs and ledger in %s", adopted, reapedN, b.cfg.WorkDir)
	v.WriteReport(b.cfg.Out)
	return v, nil
}

// serviceEnv is the driver's environment with the run's marker and the
// ledger directory.
func serviceEnv(marker string, led *ledger.Ledger) []string {
	env := make([]string, 0, len(os.Environ())+2)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, ledger.EnvRun+"=") && !strings.HasPrefix(e, ledger.EnvDir+"=") {
			env = append(env, e)
		}
	}
	return append(env, marker, ledger.EnvDir+"="+filepath.Dir(led.Path()))
}

// drain keeps the dispatchers running (restarting those that exited)
// until the queue reads empty drainSettle times in a row, or until.
func drain(ctx context.Context, c *sqs.Client, url string, f *fleet, ch *chaos, until time.Time) error {
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for settled := 0; ; {
		n, _, err := f.restartDue(time.Now())
		if err != nil {
			return err
		}
		ch.counts[ActionRestart] += n
		q, err := counts(ctx, c, url)
		if err != nil {
			return err
		}
		if q.Total() == 0 {
			settled++
			if settled >= drainSettle {
				return nil
			}
		} else {
			settled = 0
		}
		if time.Now().After(until) {
			return fmt.Errorf("the queue did not drain before the duration cap: visible=%d not-visible=%d delayed=%d",
				q.Visible, q.NotVisible, q.Delayed)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// waitForStrays waits up to grace for the run's processes to be gone, and
// returns those that are not.
func waitForStrays(r *reaper, grace time.Duration) []Leftover {
	until := time.Now().Add(grace)
	t := time.NewTicker(strayPoll)
	defer t.Stop()
	for {
		r.sweep()
		left := r.leftovers()
		if len(left) == 0 || time.Now().After(until) {
			return left
		}
		<-t.C
	}
}

// observe reads the queues, the ledger and the logs into o.
func observe(ctx context.Context, c *sqs.Client, q fauxqs.Queues, led *ledger.Ledger, f *fleet, o *Observation) error {
	var err error
	if o.Queue, err = counts(ctx, c, q.URL); err != nil {
		return err
	}
	left, err := receiveAll(ctx, c, q.URL, 600)
	if err != nil {
		return err
	}
	for _, m := range left {
		o.Remaining = append(o.Remaining, keyOf(m))
	}
	if o.DeadLetters, err = deadLetters(ctx, c, q.DLQURL); err != nil {
		return err
	}
	lf, err := os.Open(led.Path())
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("chaos: %w", err)
	default:
		o.Records, o.BadLines, err = ledger.Parse(lf)
		lf.Close()
		if err != nil {
			return err
		}
	}
	o.Dispatchers = f.fates()
	if err := writeFates(filepath.Join(filepath.Dir(f.logDir), "dispatchers.txt"), o.Dispatchers); err != nil {
		return err
	}
	var logs LogSummary
	for _, path := range f.logs() {
		if err := scanFile(&logs, path); err != nil {
			return err
		}
	}
	o.LeaseLost, o.Outcomes = logs.LeaseLost, logs.Outcomes
	return nil
}

// writeFates writes one line per dispatcher: who it was, what it was sent,
// how it ended and where its log is.
func writeFates(path string, fates []DispatcherFate) error {
	var b strings.Builder
	for _, d := range fates {
		fmt.Fprintf(&b, "slot %d #%d pid %s signals [%s] killed=%t unexpected=%t exit %q log %s\n", d.Slot, d.Generation,
			d.ID, strings.Join(d.Signals, " "), d.Killed, d.Unexpected, d.Exit, d.LogPath)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	return nil
}

func scanFile(s *LogSummary, path string) error {
	lf, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	defer lf.Close()
	return s.ScanLog(lf)
}

// killLeftovers kills the processes the run left behind, once they are
// counted, and waits a moment for the reaper to reap them.
func killLeftovers(r *reaper, left []Leftover) {
	if len(left) == 0 {
		return
	}
	for _, l := range left {
		if !l.Zombie() {
			if fd, ok := signalProc(l.Proc, syscall.SIGKILL); ok {
				unix.Close(fd)
			}
		}
	}
	waitForStrays(r, strayGrace)
}
