package sqsdispatch_test

// What operators see: one outcome log line per message with stable
// fields, the children's stderr, the Metrics hook and the SIGUSR1 status
// dump.

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// stableFields are the fields every outcome line carries.
var stableFields = []string{"queue", "message_id", "receive_count", "job", "pid", "outcome", "duration", "rss_bytes"}

func TestLogsUseStableFieldsAndOmitBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		job         string
		logBodies   bool
		wantMsg     string
		wantLevel   zapcore.Level
		wantOutcome string
	}{
		{"success", "record", false, "job succeeded", zapcore.InfoLevel, sqsdispatch.OutcomeSuccess},
		{"success with LogBodies", "record", true, "job succeeded", zapcore.InfoLevel, sqsdispatch.OutcomeSuccess},
		{"failure", "fail", false, "job did not succeed", zapcore.WarnLevel, sqsdispatch.OutcomeFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
			const body = "very-secret-body"
			id := b.send(body, nil)
			core, logs := observer.New(zapcore.DebugLevel)
			cfg := b.config(tt.job)
			cfg.Logger, cfg.LogBodies, cfg.VisibilityTimeout = zap.New(core), tt.logBodies, time.Minute
			if handled, _ := b.dispatcher(cfg).DispatchOne(b.ctx); !handled {
				t.Fatal("no message handled")
			}

			var outcomes []observer.LoggedEntry
			for _, e := range logs.All() {
				if _, ok := e.ContextMap()["outcome"]; ok {
					outcomes = append(outcomes, e)
				}
			}
			if len(outcomes) != 1 {
				t.Fatalf("%d lines with an outcome, want exactly 1: %v", len(outcomes), outcomes)
			}
			e := outcomes[0]
			if e.Message != tt.wantMsg || e.Level != tt.wantLevel {
				t.Errorf("outcome line %q at %s; want %q at %s", e.Message, e.Level, tt.wantMsg, tt.wantLevel)
			}
			seen := map[string]int{}
			for _, f := range e.Context {
				seen[f.Key]++
			}
			for k, n := range seen {
				if n > 1 {
					t.Errorf("outcome line has field %q %d times", k, n)
				}
			}
			f := e.ContextMap()
			for _, k := range stableFields {
				if _, ok := f[k]; !ok {
					t.Errorf("outcome line lacks field %q: %v", k, f)
				}
			}
			for k, want := range map[string]any{"message_id": id, "queue": b.q.URL, "job": tt.job, "outcome": tt.wantOutcome, "receive_count": int64(1)} {
				if f[k] != want {
					t.Errorf("outcome line has %s = %v (%T), want %v", k, f[k], f[k], want)
				}
			}

			received := logs.FilterMessage("message received").All()
			switch {
			case tt.logBodies && (len(received) != 1 || received[0].ContextMap()["body"] != body):
				t.Errorf("with LogBodies: %d \"message received\" lines, want 1 with the body", len(received))
			case !tt.logBodies && len(received) != 0:
				t.Errorf("without LogBodies: %d \"message received\" lines, want none", len(received))
			}
			bodySeen := false
			for _, e := range logs.All() {
				for _, v := range e.ContextMap() {
					if s, ok := v.(string); ok && strings.Contains(s, body) {
						bodySeen = true
					}
				}
			}
			if bodySeen != tt.logBodies {
				t.Fatalf("body logged = %t with LogBodies %t", bodySeen, tt.logBodies)
			}
		})
	}
}

// heartbeatClock records when each heartbeat batch went out.
type heartbeatClock struct {
	sqsdispatch.Client
	mu    sync.Mutex
	times []time.Time
}

func (h *heartbeatClock) ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	h.mu.Lock()
	h.times = append(h.times, time.Now())
	h.mu.Unlock()
	return h.Client.ChangeMessageVisibilityBatch(ctx, in, opts...)
}

// TestStderrFloodIsForwardedAndHeartbeatsStayOnTime: a child that writes
// 10 MB to stderr at once has every line forwarded, tagged, and its lease
// renewed throughout.
func TestStderrFloodIsForwardedAndHeartbeatsStayOnTime(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	b.send(`{"sleep": 6000000000}`, nil) // longer than the visibility timeout
	core, logs := observer.New(zapcore.InfoLevel)
	hc := &heartbeatClock{Client: client}
	cfg := b.config("flood")
	cfg.Logger, cfg.Client = zap.New(core), hc
	cfg.VisibilityTimeout, cfg.HeartbeatInterval = 5*time.Second, time.Second
	if _, err := b.dispatcher(cfg).DispatchOne(b.ctx); err != nil {
		t.Fatalf("DispatchOne = %v; want success (deleted with a live lease)", err)
	}
	lines := logs.FilterMessage("child stderr").All()
	if len(lines) != floodLines {
		t.Fatalf("%d stderr lines forwarded, want %d", len(lines), floodLines)
	}
	if f := lines[0].ContextMap(); f["message_id"] == nil || f["pid"] == nil {
		t.Fatalf("stderr line not tagged with message_id and pid: %v", f)
	}
	hc.mu.Lock()
	defer hc.mu.Unlock()
	if len(hc.times) < 3 {
		t.Fatalf("%d heartbeats in a 6 s job with a 1 s interval", len(hc.times))
	}
	for i := 1; i < len(hc.times); i++ {
		if gap := hc.times[i].Sub(hc.times[i-1]); gap >= cfg.VisibilityTimeout {
			t.Fatalf("heartbeat gap of %s while the child flooded stderr: the lease lapsed", gap)
		}
	}
}

// recordingMetrics records every call.
type recordingMetrics struct {
	mu       sync.Mutex
	received int
	spawned  map[string]int
	outcomes map[string][]string // job -> outcomes
	dlq      int
	usage    map[string]int64
	busy     []int            // SlotsBusy's busy, in order
	slots    int              // SlotsBusy's slots
	inFlight map[string][]int // InFlight's n by queue, in order
	backlog  []sqsdispatch.Backlog
}

func newRecordingMetrics() *recordingMetrics {
	return &recordingMetrics{spawned: map[string]int{}, outcomes: map[string][]string{}, usage: map[string]int64{},
		inFlight: map[string][]int{}}
}

func (r *recordingMetrics) SlotsBusy(busy, slots int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.busy, r.slots = append(r.busy, busy), slots
}

func (r *recordingMetrics) InFlight(queue string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight[queue] = append(r.inFlight[queue], n)
}

func (r *recordingMetrics) Backlog(_ string, b sqsdispatch.Backlog) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.backlog = append(r.backlog, b)
}

func (r *recordingMetrics) MessageReceived(string, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.received++
}

func (r *recordingMetrics) ChildSpawned(job string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d > 0 {
		r.spawned[job]++
	}
}

func (r *recordingMetrics) JobFinished(job, outcome string, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes[job] = append(r.outcomes[job], outcome)
}

func (r *recordingMetrics) HeartbeatFailed(string) {}

func (r *recordingMetrics) DeadLettered(string, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dlq++
}

func (r *recordingMetrics) ChildUsage(job string, rss int64, _, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.usage[job] = rss
}

// finished reports whether every one of jobs has an outcome.
func (r *recordingMetrics) finished(jobs map[string]string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for job := range jobs {
		if len(r.outcomes[job]) == 0 {
			return false
		}
	}
	return true
}

func TestMetricsSeeOneOutcomePerMessage(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	jobs := map[string]string{"record": sqsdispatch.OutcomeSuccess, "fail": sqsdispatch.OutcomeFailed,
		"permanent": sqsdispatch.OutcomeDeadLettered, "panic": sqsdispatch.OutcomeFailed, "exit3": sqsdispatch.OutcomeCrashed,
		"retry3s": sqsdispatch.OutcomeRetry}
	for job := range jobs {
		b.send(job, map[string]types.MessageAttributeValue{"job": strAttr(job)})
	}
	rm := newRecordingMetrics()
	cfg := b.config("")
	cfg.Route, cfg.Metrics, cfg.Concurrency = sqsdispatch.RouteByAttribute("job"), rm, 2
	cfg.VisibilityTimeout = time.Minute // failed messages do not come back during the test
	runUntil(t, b.dispatcher(cfg), "every message's outcome", func() bool { return rm.finished(jobs) })
	rm.mu.Lock()
	defer rm.mu.Unlock()
	for job, want := range jobs {
		if got := rm.outcomes[job]; len(got) == 0 || got[0] != want {
			t.Errorf("job %s: outcomes %v, want [%s] first", job, got, want)
		}
		if rm.spawned[job] == 0 {
			t.Errorf("job %s: no spawn latency", job)
		}
		if rm.usage[job] <= 0 {
			t.Errorf("job %s: no peak RSS reported", job)
		}
	}
	if rm.received < len(jobs) || rm.dlq != 1 {
		t.Errorf("received %d (want %d), dead-lettered %d (want 1)", rm.received, len(jobs), rm.dlq)
	}
	for job, got := range rm.outcomes {
		if job != "retry3s" && len(got) != 1 {
			t.Errorf("job %s: outcomes %v, want exactly one", job, got)
		}
	}
}

func TestSIGUSR1LogsTheStatus(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	id := b.send("tick", nil)
	p := startDispatcherProcess(t, procConfig{Queue: b.q.URL, Job: "tick", Visibility: time.Minute, StatusOnSIGUSR1: true})
	pid := readPID(t, id, "pid")
	p.signal(t, syscall.SIGUSR1)
	waitFor(t, time.Minute, "a status line naming the job's pid", func() bool {
		for _, line := range strings.Split(p.output(), "\n") {
			if strings.Contains(line, "status slot") && strings.Contains(line, `"pid": `+strconv.Itoa(pid)) {
				return true
			}
		}
		return false
	})
	p.signal(t, syscall.SIGTERM)
	assertDiedBy(t, p, syscall.SIGTERM, time.Minute)
}
