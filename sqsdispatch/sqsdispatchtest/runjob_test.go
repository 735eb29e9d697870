package sqsdispatchtest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// isJobError checks that err is a *sqsdispatch.JobError, permanent or not.
func isJobError(permanent bool, retryAfter time.Duration) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var e *sqsdispatch.JobError
		if !errors.As(err, &e) || e.Permanent != permanent || e.RetryAfter != retryAfter {
			t.Errorf("Err = %#v, want a *JobError with Permanent %t, RetryAfter %s", err, permanent, retryAfter)
		}
	}
}

// isProcessError checks that err is a *sqsdispatch.WorkerProcessError
// and passes it to more checks.
func isProcessError(check func(*sqsdispatch.WorkerProcessError) bool) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var e *sqsdispatch.WorkerProcessError
		if !errors.As(err, &e) || !check(e) {
			t.Errorf("Err = %v, want a *WorkerProcessError of another kind", err)
		}
	}
}

func noError(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("Err = %v, want nil", err)
	}
}

func attr(v string) sqsdispatch.MessageAttribute {
	return sqsdispatch.MessageAttribute{DataType: "String", StringValue: v}
}

func TestRunJobOutcomes(t *testing.T) {
	t.Parallel()
	reg := testRegistry()
	backoff := sqsdispatch.ExponentialBackoff{Base: 10 * time.Second}
	tests := []struct {
		name    string
		cfg     sqsdispatch.Config
		msg     sqsdispatchtest.Message
		opts    []sqsdispatchtest.RunOption
		want    sqsdispatchtest.Outcome // without Err
		wantErr func(*testing.T, error)
	}{
		{name: "success deletes", cfg: sqsdispatch.Config{Job: "ok"},
			want: sqsdispatchtest.Outcome{Deleted: true}, wantErr: noError},
		{name: "permanent failure dead-letters with the reason", cfg: sqsdispatch.Config{Job: "permanent"},
			msg:  sqsdispatchtest.Message{Body: "bad input"},
			want: sqsdispatchtest.Outcome{DeadLettered: true, Reason: "bad input"}, wantErr: isJobError(true, 0)},
		{name: "RetryAfter gives back with its delay", cfg: sqsdispatch.Config{Job: "retry"},
			msg:  sqsdispatchtest.Message{Body: "90s"},
			want: sqsdispatchtest.Outcome{GivenBack: true, VisibleAfter: 90 * time.Second}, wantErr: isJobError(false, 90*time.Second)},
		{name: "failure without retry policy is left in flight", cfg: sqsdispatch.Config{Job: "fail"},
			want: sqsdispatchtest.Outcome{Left: true}, wantErr: isJobError(false, 0)},
		{name: "failure with retry policy on the third delivery", cfg: sqsdispatch.Config{Job: "fail", Retry: backoff},
			msg:  sqsdispatchtest.Message{ReceiveCount: 3},
			want: sqsdispatchtest.Outcome{GivenBack: true, VisibleAfter: 40 * time.Second}, wantErr: isJobError(false, 0)},
		{name: "os.Exit in the job is a crash left in flight", cfg: sqsdispatch.Config{Job: "exit", Retry: backoff},
			want:    sqsdispatchtest.Outcome{Left: true},
			wantErr: isProcessError(func(e *sqsdispatch.WorkerProcessError) bool { return e.ExitCode == 3 })},
		{name: "panic follows the retry policy", cfg: sqsdispatch.Config{Job: "panic", Retry: backoff},
			want: sqsdispatchtest.Outcome{GivenBack: true, VisibleAfter: 10 * time.Second},
			wantErr: isProcessError(func(e *sqsdispatch.WorkerProcessError) bool {
				return strings.Contains(e.Reason, "boom") && e.Stack != ""
			})},
		{name: "routed by attribute", cfg: sqsdispatch.Config{Route: sqsdispatch.RouteByAttribute("job")},
			msg:  sqsdispatchtest.Message{Attributes: map[string]sqsdispatch.MessageAttribute{"job": attr("ok")}},
			want: sqsdispatchtest.Outcome{Deleted: true}, wantErr: noError},
		{name: "missing routing attribute dead-letters", cfg: sqsdispatch.Config{Route: sqsdispatch.RouteByAttribute("job")},
			want:    sqsdispatchtest.Outcome{DeadLettered: true, Reason: `sqsdispatch: routing message: message has no "job" attribute to route it by`},
			wantErr: isJobError(true, 0)},
		{name: "the job sees body, receive count, FIFO group and attributes", cfg: sqsdispatch.Config{Job: "echo"},
			msg: sqsdispatchtest.Message{Body: "hi", ReceiveCount: 2, GroupID: "g1",
				Attributes: map[string]sqsdispatch.MessageAttribute{"color": attr("blue")}},
			opts:    []sqsdispatchtest.RunOption{sqsdispatchtest.FIFO()},
			want:    sqsdispatchtest.Outcome{DeadLettered: true, Reason: "body=hi receives=2 group=g1 color=blue"},
			wantErr: isJobError(true, 0)},
		{name: "last allowed delivery", cfg: sqsdispatch.Config{Job: "echo"},
			msg:     sqsdispatchtest.Message{Body: "x", ReceiveCount: 2},
			opts:    []sqsdispatchtest.RunOption{sqsdispatchtest.MaxReceiveCount(2)},
			want:    sqsdispatchtest.Outcome{DeadLettered: true, Reason: "body=x receives=2 group= color="},
			wantErr: isJobError(true, 0)},
		{name: "a stop that never comes", cfg: sqsdispatch.Config{Job: "ok"},
			opts: []sqsdispatchtest.RunOption{sqsdispatchtest.StopWhen(func() bool { return false })},
			want: sqsdispatchtest.Outcome{Deleted: true}, wantErr: noError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.Registry = reg
			if tt.msg.Body == "" {
				tt.msg.Body = "x"
			}
			got, err := sqsdispatchtest.RunJob(t.Context(), tt.cfg, tt.msg, tt.opts...)
			if err != nil {
				t.Fatalf("RunJob: %v", err)
			}
			tt.wantErr(t, got.Err)
			got.Err = nil
			if got != tt.want {
				t.Errorf("RunJob = %+v (%s), want %+v (%s)", got, got, tt.want, tt.want)
			}
		})
	}
}

// A stop while the job runs suspends it, runs its Cleanup and gives the
// message back at once, or dead-letters it when the queue allows no
// further delivery.
func TestRunJobStop(t *testing.T) {
	t.Parallel()
	reg := testRegistry()
	started := func(path string) sqsdispatchtest.RunOption {
		return sqsdispatchtest.StopWhen(func() bool { _, err := os.Stat(path); return err == nil })
	}
	tests := []struct {
		name       string
		opts       func(path string) []sqsdispatchtest.RunOption
		want       sqsdispatchtest.Outcome // without Err
		wantReason string                  // a part of Outcome.Reason
		stopped    bool                    // Err is a *StoppedError
	}{
		{name: "once the job has started", opts: func(p string) []sqsdispatchtest.RunOption {
			return []sqsdispatchtest.RunOption{started(p)}
		}, want: sqsdispatchtest.Outcome{GivenBack: true}, stopped: true},
		{name: "after a time", opts: func(string) []sqsdispatchtest.RunOption {
			return []sqsdispatchtest.RunOption{sqsdispatchtest.StopAfter(20 * time.Millisecond)}
		}, want: sqsdispatchtest.Outcome{GivenBack: true}, stopped: true},
		{name: "on the last allowed delivery", opts: func(p string) []sqsdispatchtest.RunOption {
			return []sqsdispatchtest.RunOption{started(p), sqsdispatchtest.MaxReceiveCount(1)}
		}, want: sqsdispatchtest.Outcome{DeadLettered: true}, wantReason: "allows no retries", stopped: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "started")
			got, err := sqsdispatchtest.RunJob(t.Context(), sqsdispatch.Config{Registry: reg, Job: "hang"},
				sqsdispatchtest.Message{Body: path}, tt.opts(path)...)
			if err != nil {
				t.Fatalf("RunJob: %v", err)
			}
			var stopped *sqsdispatch.StoppedError
			if isStopped := errors.As(got.Err, &stopped) && errors.Is(got.Err, sqsdispatch.ErrStopped); isStopped != tt.stopped {
				t.Errorf("Err = %v; a *StoppedError: %t, want %t", got.Err, isStopped, tt.stopped)
			}
			if !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("Reason = %q, want it to contain %q", got.Reason, tt.wantReason)
			}
			got.Err, got.Reason = nil, ""
			if got != tt.want {
				t.Errorf("RunJob = %s, want %s", got, tt.want)
			}
			b, err := os.ReadFile(path + ".cleanup")
			if err != nil {
				t.Fatalf("the job's Cleanup did not run: %v", err)
			}
			if want := "attempt=1 running=true reason=the dispatcher is stopping"; string(b) != want {
				t.Errorf("Cleanup saw %q, want %q", b, want)
			}
		})
	}
}

// countingMetrics counts the outcomes the dispatcher reports.
type countingMetrics struct {
	sqsdispatch.NopMetrics
	mu       sync.Mutex
	outcomes []string
}

func (m *countingMetrics) JobFinished(job, outcome string, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.outcomes = append(m.outcomes, job+" "+outcome)
}

func TestRunJobKeepsTheCallersMetrics(t *testing.T) {
	t.Parallel()
	m := &countingMetrics{}
	if _, err := sqsdispatchtest.RunJob(t.Context(), sqsdispatch.Config{Registry: testRegistry(), Job: "ok", Metrics: m},
		sqsdispatchtest.Message{Body: "x"}); err != nil {
		t.Fatalf("RunJob: %v", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.outcomes) != 1 || m.outcomes[0] != "ok "+sqsdispatch.OutcomeSuccess {
		t.Errorf("Metrics.JobFinished calls = %q, want one for ok success", m.outcomes)
	}
}

func TestRunJobRefuses(t *testing.T) {
	t.Parallel()
	reg := testRegistry()
	tests := []struct {
		name    string
		cfg     sqsdispatch.Config
		msg     sqsdispatchtest.Message
		opts    []sqsdispatchtest.RunOption
		wantErr string
	}{
		{name: "no registry", cfg: sqsdispatch.Config{Job: "ok"}, msg: sqsdispatchtest.Message{Body: "x"},
			wantErr: "Config.Registry is required"},
		{name: "no job", cfg: sqsdispatch.Config{Registry: reg}, msg: sqsdispatchtest.Message{Body: "x"},
			wantErr: "Config.Job and Config.Route"},
		{name: "empty body", cfg: sqsdispatch.Config{Registry: reg, Job: "ok"}, wantErr: "Message.Body is empty"},
		{name: "receive count above the maximum", cfg: sqsdispatch.Config{Registry: reg, Job: "ok"},
			msg: sqsdispatchtest.Message{Body: "x", ReceiveCount: 6}, wantErr: "Message.ReceiveCount (6)"},
		{name: "negative receive count", cfg: sqsdispatch.Config{Registry: reg, Job: "ok"},
			msg: sqsdispatchtest.Message{Body: "x", ReceiveCount: -1}, wantErr: "Message.ReceiveCount (-1)"},
		{name: "checkpoint no job could record", cfg: sqsdispatch.Config{Registry: reg, Job: "ok"},
			msg:     sqsdispatchtest.Message{Body: "x", Checkpoint: make([]byte, sqsdispatch.MaxCheckpointBytes+1)},
			wantErr: "Message.Checkpoint holds 65537 bytes, more than sqsdispatch.MaxCheckpointBytes (65536)"},
		{name: "runs below the receive count", cfg: sqsdispatch.Config{Registry: reg, Job: "ok"},
			msg: sqsdispatchtest.Message{Body: "x", ReceiveCount: 3, Runs: 2}, wantErr: "Message.Runs (2)"},
		{name: "zero maxReceiveCount", cfg: sqsdispatch.Config{Registry: reg, Job: "ok"}, msg: sqsdispatchtest.Message{Body: "x"},
			opts: []sqsdispatchtest.RunOption{sqsdispatchtest.MaxReceiveCount(0)}, wantErr: "MaxReceiveCount (0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := sqsdispatchtest.RunJob(t.Context(), tt.cfg, tt.msg, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("RunJob error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// A job that the test binary's own registry lacks cannot run in its
// children: RunJob says so rather than report a dead-lettered message.
func TestRunJobJobMissingFromTheTestBinary(t *testing.T) {
	t.Parallel()
	reg := sqsdispatch.NewRegistry()
	reg.Register("elsewhere", func(ctx context.Context, m *sqsdispatch.Message) error { return nil })
	out, err := sqsdispatchtest.RunJob(t.Context(), sqsdispatch.Config{Registry: reg, Job: "elsewhere"}, sqsdispatchtest.Message{Body: "x"})
	if err == nil || !strings.Contains(err.Error(), `job "elsewhere" is not in the registry`) {
		t.Errorf("RunJob error = %v, want one saying the job is not in the test binary's registry", err)
	}
	if !out.DeadLettered {
		t.Errorf("Outcome = %s, want dead-lettered", out)
	}
}

// Without sqsdispatch.Init in TestMain the children cannot run jobs:
// RunJob says so. Not parallel: the environment variable reaches every
// child started meanwhile.
func TestRunJobWithoutInit(t *testing.T) {
	t.Setenv(envNoInit, "1")
	cfg := sqsdispatch.Config{Registry: testRegistry(), Job: "ok", Logger: zap.NewNop()} // the child's complaint is expected
	out, err := sqsdispatchtest.RunJob(t.Context(), cfg, sqsdispatchtest.Message{Body: "x"})
	if err == nil || !strings.Contains(err.Error(), "did not call sqsdispatch.Init") {
		t.Errorf("RunJob error = %v, want one saying TestMain did not call sqsdispatch.Init", err)
	}
	if !out.Left {
		t.Errorf("Outcome = %s, want left in flight (the child crashed)", out)
	}
}
