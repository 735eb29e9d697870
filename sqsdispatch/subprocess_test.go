package sqsdispatch_test

// A dispatcher in a process of its own: the test binary, started with
// envRunProc, runs one until a signal stops it. Tests that send stop
// signals or kill the dispatcher use it.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/ecsprotect"
)

// procConfig configures a dispatcher run in a process of its own.
type procConfig struct {
	Queue           string        `json:"queue"`
	Job             string        `json:"job"`
	Visibility      time.Duration `json:"visibility"`
	CleanupTimeout  time.Duration `json:"cleanup_timeout"`
	ShutdownGrace   time.Duration `json:"shutdown_grace"`
	Concurrency     int           `json:"concurrency"`
	Prespawn        bool          `json:"prespawn"`
	StatusOnSIGUSR1 bool          `json:"status_on_sigusr1"`
	// FailDeletes makes the first so many DeleteMessage calls fail, as
	// when SQS cannot be reached for a while.
	FailDeletes int `json:"fail_deletes"`
	// ReuseJobs sets Config.Reuse.MaxJobs.
	ReuseJobs int `json:"reuse_jobs"`
	// ECSAgentURI, when set, makes an ecsprotect hook of the ECS
	// container agent there the dispatcher's BusyHook.
	ECSAgentURI string `json:"ecs_agent_uri"`
	// RSSRounds, when set, makes the process run one retiring Run per
	// entry (MaxJobs = the entry) and print its RSS after each.
	RSSRounds []int `json:"rss_rounds"`
}

// runDispatcherProcess is the body of a test binary started as a
// dispatcher: it runs until a signal stops it and exits as that signal.
func runDispatcherProcess() {
	var pc procConfig
	if err := json.Unmarshal([]byte(os.Getenv(envRunProc)), &pc); err != nil {
		sqsdispatch.Exit(err)
	}
	c, err := (&fauxqs.Server{Endpoint: os.Getenv(envEndpoint)}).Client(context.Background())
	if err != nil {
		sqsdispatch.Exit(err)
	}
	log, _ := zap.NewDevelopment()
	var client sqsdispatch.Client = c
	if pc.FailDeletes > 0 {
		client = &failingDeletes{Client: c, left: int32(pc.FailDeletes)}
	}
	cfg := sqsdispatch.Config{Client: client, QueueURL: pc.Queue, Registry: testRegistry(), Job: pc.Job,
		VisibilityTimeout: pc.Visibility, CleanupTimeout: pc.CleanupTimeout, ShutdownGrace: pc.ShutdownGrace,
		WaitTime: time.Second, KillGrace: time.Second, Logger: log, Concurrency: pc.Concurrency, Prespawn: pc.Prespawn,
		StatusOnSIGUSR1: pc.StatusOnSIGUSR1, Reuse: sqsdispatch.Reuse{MaxJobs: pc.ReuseJobs}}
	if len(pc.RSSRounds) > 0 {
		runRSSRounds(cfg, pc.RSSRounds)
	}
	if pc.ECSAgentURI != "" {
		p, err := ecsprotect.New(ecsprotect.Config{AgentURI: pc.ECSAgentURI})
		if err != nil {
			sqsdispatch.Exit(err)
		}
		cfg.BusyHook = p
	}
	d, err := sqsdispatch.New(cfg)
	if err != nil {
		sqsdispatch.Exit(err)
	}
	err = d.Run(context.Background())
	log.Info("Run returned", zap.Error(err))
	sqsdispatch.Exit(err)
}

// runRSSRounds runs one dispatcher through retiring rounds of jobs and
// prints the process's resident set size after each.
func runRSSRounds(cfg sqsdispatch.Config, rounds []int) {
	cfg.Logger = nil
	total := 0
	peaks := &childPeaks{}
	cfg.Metrics = peaks
	for _, n := range rounds {
		cfg.MaxJobs = n
		d, err := sqsdispatch.New(cfg)
		if err != nil {
			sqsdispatch.Exit(err)
		}
		if err := d.Run(context.Background()); !errors.Is(err, sqsdispatch.ErrRetired) {
			sqsdispatch.Exit(err)
		}
		total += n
		runtime.GC()
		fmt.Printf("rss_after %d %d\n", total, rssBytes())
		fmt.Printf("child_rss_after %d %d\n", total, peaks.take())
	}
	sqsdispatch.Exit(nil)
}

// childPeaks keeps the largest peak RSS of the jobs' children reported
// since it was last taken.
type childPeaks struct {
	sqsdispatch.NopMetrics
	mu   sync.Mutex
	peak int64
}

func (c *childPeaks) ChildUsage(_ string, peakRSS int64, _, _ time.Duration) {
	c.mu.Lock()
	c.peak = max(c.peak, peakRSS)
	c.mu.Unlock()
}

func (c *childPeaks) take() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.peak
	c.peak = 0
	return p
}

// rssBytes reads this process's VmRSS.
func rssBytes() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// dispatcherProc is a dispatcher running in a child process of the test.
type dispatcherProc struct {
	cmd  *exec.Cmd
	logs *syncWriter
	done chan struct{}
}

// startDispatcherProcess starts the test binary as a dispatcher.
func startDispatcherProcess(t *testing.T, pc procConfig) *dispatcherProc {
	t.Helper()
	b, _ := json.Marshal(pc)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envRunProc+"="+string(b))
	p := &dispatcherProc{cmd: cmd, logs: &syncWriter{}, done: make(chan struct{})}
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("dispatcher process output:\n%s", p.output())
		}
	})
	return p
}

func (p *dispatcherProc) output() string { return p.logs.String() }

func (p *dispatcherProc) pid() int { return p.cmd.Process.Pid }

// signal sends sig to the dispatcher process.
func (p *dispatcherProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(p.pid(), sig); err != nil {
		t.Fatal(err)
	}
}

// wait waits for the process to end and returns its state.
func (p *dispatcherProc) wait(t *testing.T, within time.Duration) *os.ProcessState {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState
	case <-time.After(within):
		t.Fatalf("dispatcher process still running after %s", within)
		return nil
	}
}

// assertDiedBy checks the dispatcher process ends, within the deadline,
// killed by sig.
func assertDiedBy(t *testing.T, p *dispatcherProc, sig syscall.Signal, within time.Duration) {
	t.Helper()
	st := p.wait(t, within)
	ws := st.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != sig {
		t.Fatalf("dispatcher process ended with %v; want death by %v", st, sig)
	}
}
