//go:build linux

package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
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
// them while it runs.
func Run(ctx context.Context, cfg Config) (Verdict, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return Verdict{}, err
	}
	out := cfg.Out
	fmt.Fprintf(out, "chaos: seed=%d messages=%d kills=%d dispatchers=%d concurrency=%d interval=%s duration-cap=%s workdir=%s\n",
		cfg.Seed, cfg.Messages, cfg.Kills, cfg.Dispatchers, cfg.Concurrency, cfg.Interval, cfg.Duration, cfg.WorkDir)
	unlock, err := lockMachine(ctx, out)
	if err != nil {
		return Verdict{}, err
	}
	defer unlock()
	started := time.Now()
	deadline := started.Add(cfg.Duration)
	say := func(format string, args ...any) {
		fmt.Fprintf(out, "chaos [%5.1fs] %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return Verdict{}, fmt.Errorf("chaos: becoming a child subreaper: %w", err)
	}

	bin := cfg.ServiceBinary
	if bin == "" {
		if bin, err = buildService(ctx, cfg.WorkDir); err != nil {
			return Verdict{}, err
		}
		say("service built")
	}
	led, err := ledger.Open(filepath.Join(cfg.WorkDir, "ledger"))
	if err != nil {
		return Verdict{}, err
	}
	logDir := filepath.Join(cfg.WorkDir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return Verdict{}, fmt.Errorf("chaos: %w", err)
	}
	server, err := fauxqs.Start(ctx)
	if err != nil {
		return Verdict{}, fmt.Errorf("chaos: starting the local SQS server: %w", err)
	}
	defer server.Close()
	client, err := server.Client(ctx)
	if err != nil {
		return Verdict{}, fmt.Errorf("chaos: %w", err)
	}
	queues, err := fauxqs.CreateQueues(ctx, client, fauxqs.QueueSpec{Name: "chaos", MaxReceiveCount: maxReceiveCount,
		WaitSeconds: int(waitTime / time.Second), VisibilitySeconds: int(visibility / time.Second)})
	if err != nil {
		return Verdict{}, fmt.Errorf("chaos: %w", err)
	}
	bodies := Plan(cfg.Seed, cfg.Messages)
	if err := sendAll(ctx, client, queues.URL, bodies); err != nil {
		return Verdict{}, err
	}
	say("server at %s; %d messages sent", server.Endpoint, len(bodies))

	marker := fmt.Sprintf("%s=%d.%d", ledger.EnvRun, os.Getpid(), started.UnixNano())
	args := []string{"-endpoint", server.Endpoint, "-queue", queues.URL, "-concurrency", fmt.Sprint(cfg.Concurrency),
		"-visibility", visibility.String(), "-heartbeat", heartbeat.String(), "-wait", waitTime.String(),
		"-cleanup-timeout", cleanupTimeout.String()}
	f := newFleet(bin, args, serviceEnv(marker, led), logDir, cfg.Dispatchers)
	f.markStarted(server.PID())
	r := newReaper(marker, f)
	reapCtx, stopReaping := context.WithCancel(context.WithoutCancel(ctx))
	reaped := make(chan struct{})
	go func() { defer close(reaped); r.run(reapCtx) }()
	defer func() { stopReaping(); <-reaped }()
	// On any early return, nothing of the run is left running.
	finished := false
	defer func() {
		if !finished {
			f.stopAll(time.Now().Add(stopReserve))
			killLeftovers(r, r.leftovers())
		}
	}()

	for slot := range cfg.Dispatchers {
		if _, err := f.start(slot); err != nil {
			return Verdict{}, err
		}
		say("dispatcher slot %d: %s", slot, setupOf(slot))
	}

	var notes []string
	actionLog, err := os.Create(filepath.Join(cfg.WorkDir, "actions.log"))
	if err != nil {
		return Verdict{}, fmt.Errorf("chaos: %w", err)
	}
	defer actionLog.Close()
	c := newChaos(cfg.Seed, f, r, cfg.Interval, actionLog)
	chaosUntil := deadline.Add(-(drainReserve + stopReserve + strayGrace + readReserve))
	taken, err := c.run(ctx, cfg.Kills, chaosUntil)
	if err != nil {
		return Verdict{}, err
	}
	if taken < cfg.Kills {
		notes = append(notes, fmt.Sprintf("only %d of %d chaos actions fit in the duration cap", taken, cfg.Kills))
	}
	say("chaos done: %d actions; draining", taken)

	if err := drain(ctx, client, queues.URL, f, c, deadline.Add(-(stopReserve + strayGrace + readReserve))); err != nil {
		if ctx.Err() != nil {
			return Verdict{}, err
		}
		notes = append(notes, err.Error())
	}
	say("drained; stopping the dispatchers")
	if n := f.stopAll(time.Now().Add(stopReserve)); n > 0 {
		notes = append(notes, fmt.Sprintf("%d dispatchers did not exit within %s of SIGTERM", n, stopReserve))
	}
	leftovers := waitForStrays(r, strayGrace)
	finished = true
	say("dispatchers stopped; stray processes of the run: %d (after waiting up to %s)", len(leftovers), strayGrace)

	obs := Observation{Sent: bodies, Actions: c.counts, Notes: notes, Leftovers: leftovers}
	killLeftovers(r, leftovers)
	if err := observe(ctx, client, queues, led, f, &obs); err != nil {
		return Verdict{}, err
	}
	adopted, reapedN := r.counts()
	obs.Duration = time.Since(started)
	v := Judge(obs)
	say("processes adopted by the driver: %d, reaped by it: %d; logs and ledger in %s", adopted, reapedN, cfg.WorkDir)
	v.WriteReport(out)
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
	var logs LogSummary
	for _, path := range f.logs() {
		if err := scanFile(&logs, path); err != nil {
			return err
		}
	}
	o.LeaseLost = logs.LeaseLost
	return nil
}

func scanFile(s *LogSummary, path string) error {
	lf, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	defer lf.Close()
	return s.ScanLog(io.Reader(lf))
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
