package sqsdispatch_test

import (
	"context"
	"os"
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

func fieldsOf(e observer.LoggedEntry) map[string]any { return e.ContextMap() }

func TestLogsUseStableFieldsAndOmitBodies(t *testing.T) {
	t.Parallel()
	for _, logBodies := range []bool{false, true} {
		t.Run("LogBodies="+strconv.FormatBool(logBodies), func(t *testing.T) {
			t.Parallel()
			b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
			const body = "very-secret-body"
			id := b.send(body, nil)
			core, logs := observer.New(zapcore.DebugLevel)
			cfg := b.config("record")
			cfg.Logger, cfg.LogBodies = zap.New(core), logBodies
			if _, err := b.dispatcher(cfg).DispatchOne(b.ctx); err != nil {
				t.Fatal(err)
			}
			want := map[string][]string{
				"message received": {"queue", "message_id", "receive_count"},
				"child started":    {"queue", "message_id", "receive_count", "job", "pid"},
				"job succeeded":    {"queue", "message_id", "job", "pid", "duration", "rss_bytes", "outcome"},
			}
			for msg, keys := range want {
				entries := logs.FilterMessage(msg).All()
				if len(entries) != 1 {
					t.Fatalf("%d %q lines, want 1", len(entries), msg)
				}
				f := fieldsOf(entries[0])
				for _, k := range keys {
					if _, ok := f[k]; !ok {
						t.Errorf("%q line lacks field %q: %v", msg, k, f)
					}
				}
				if f["message_id"] != id {
					t.Errorf("%q line has message_id %v, want %s", msg, f["message_id"], id)
				}
			}
			bodySeen := false
			for _, e := range logs.All() {
				for _, v := range fieldsOf(e) {
					if s, ok := v.(string); ok && strings.Contains(s, body) {
						bodySeen = true
					}
				}
			}
			if bodySeen != logBodies {
				t.Fatalf("body logged = %t with LogBodies %t", bodySeen, logBodies)
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

func TestStderrFloodIsForwardedAndHeartbeatsStayOnTime(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	b.send("flood", nil)
	core, logs := observer.New(zapcore.InfoLevel)
	hc := &heartbeatClock{Client: client}
	cfg := b.config("flood")
	cfg.Logger, cfg.Client = zap.New(core), hc
	cfg.VisibilityTimeout, cfg.HeartbeatInterval = 2*time.Second, 500*time.Millisecond
	if _, err := b.dispatcher(cfg).DispatchOne(b.ctx); err != nil {
		t.Fatalf("DispatchOne = %v; want success (deleted with a live lease)", err)
	}
	lines := logs.FilterMessage("child stderr").All()
	if len(lines) != 10<<20/100 {
		t.Fatalf("%d stderr lines forwarded, want %d", len(lines), 10<<20/100)
	}
	if f := fieldsOf(lines[0]); f["message_id"] == nil || f["pid"] == nil {
		t.Fatalf("stderr line not tagged with message_id and pid: %v", f)
	}
	hc.mu.Lock()
	defer hc.mu.Unlock()
	if len(hc.times) < 4 {
		t.Fatalf("%d heartbeats in a 3 s job with a 500 ms interval", len(hc.times))
	}
	for i := 1; i < len(hc.times); i++ {
		if gap := hc.times[i].Sub(hc.times[i-1]); gap > time.Second {
			t.Fatalf("heartbeat gap of %s while the child flooded stderr (interval 500ms)", gap)
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
}

func newRecordingMetrics() *recordingMetrics {
	return &recordingMetrics{spawned: map[string]int{}, outcomes: map[string][]string{}, usage: map[string]int64{}}
}

func (r *recordingMetrics) MessageReceived(string, time.Duration) {
	r.mu.Lock()
	r.received++
	r.mu.Unlock()
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
func (r *recordingMetrics) HeartbeatFailed(string)      {}
func (r *recordingMetrics) DeadLettered(string, string) { r.mu.Lock(); r.dlq++; r.mu.Unlock() }
func (r *recordingMetrics) ChildUsage(job string, rss int64, _, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.usage[job] = rss
}

func (r *recordingMetrics) finished() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, o := range r.outcomes {
		n += len(o)
	}
	return n
}

func TestMetricsSeeOneOutcomePerMessage(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	jobs := map[string]string{"record": sqsdispatch.OutcomeSuccess, "fail": sqsdispatch.OutcomeFailed,
		"permanent": sqsdispatch.OutcomeDeadLettered, "panic": sqsdispatch.OutcomeFailed, "exit3": sqsdispatch.OutcomeCrashed}
	for job := range jobs {
		b.send(job, map[string]types.MessageAttributeValue{"job": strAttr(job)})
	}
	rm := newRecordingMetrics()
	cfg := b.config("")
	cfg.Route, cfg.Metrics, cfg.Concurrency = sqsdispatch.RouteByAttribute("job"), rm, 2
	cfg.VisibilityTimeout = 60 * time.Second // failed messages do not come back during the test
	runUntil(t, b.dispatcher(cfg), "every message's outcome", func() bool { return rm.finished() >= len(jobs) })
	rm.mu.Lock()
	defer rm.mu.Unlock()
	for job, want := range jobs {
		if got := rm.outcomes[job]; len(got) != 1 || got[0] != want {
			t.Errorf("job %s: outcomes %v, want exactly [%s]", job, got, want)
		}
		if rm.spawned[job] != 1 {
			t.Errorf("job %s: %d spawn latencies, want 1", job, rm.spawned[job])
		}
		if rm.usage[job] <= 0 {
			t.Errorf("job %s: no peak RSS reported", job)
		}
	}
	if rm.received != len(jobs) || rm.dlq != 1 {
		t.Errorf("received %d (want %d), dead-lettered %d (want 1)", rm.received, len(jobs), rm.dlq)
	}
}

func TestStatusListsTheRunningJobsPID(t *testing.T) {
	t.Parallel()
	d, id, pid, done := sleepingJob(t)
	st := d.Status()
	if len(st) != 1 || st[0].PID != pid || st[0].MessageID != id || st[0].Job != "sleep" || st[0].RSS <= 0 || st[0].ReceiveCount != 1 {
		t.Fatalf("Status() = %+v; want the sleep job in pid %d with its RSS", st, pid)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := d.Status(); len(st) != 0 {
		t.Fatalf("Status() after the job = %+v; want empty", st)
	}
}

func TestSIGUSR1LogsTheStatus(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	id := b.send("tick", nil)
	p := startDispatcherProcess(t, procConfig{Queue: b.q.URL, Job: "tick", Visibility: 30 * time.Second, StatusOnSIGUSR1: true})
	pid := readPID(t, id, "pid", 30*time.Second)
	if err := syscall.Kill(p.pid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "a status line naming the job's pid", func() bool {
		for _, line := range strings.Split(p.output(), "\n") {
			if strings.Contains(line, "status slot") && strings.Contains(line, `"pid": `+strconv.Itoa(pid)) {
				return true
			}
		}
		return false
	})
	if err := syscall.Kill(p.pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	assertDiedBy(t, p, syscall.SIGTERM, 20*time.Second)
}

func TestMaxRSSStopsTheJobWithinTwoSamples(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	id := b.send("hog", nil)
	cfg := b.config("hog")
	cfg.VisibilityTimeout, cfg.MemorySampleInterval = 2*time.Second, 250*time.Millisecond
	_, err := b.dispatcher(cfg).DispatchOne(b.ctx)
	returned := time.Now()
	wpe := asWorkerError(t, err)
	if !strings.Contains(wpe.Reason, "MaxRSS of 104857600 bytes") {
		t.Fatalf("reason %q does not name the limit", wpe.Reason)
	}
	raw, _ := os.ReadFile(outFile(id, "over"))
	ns, perr := strconv.ParseInt(string(raw), 10, 64)
	if perr != nil {
		t.Fatalf("the job never neared its limit: %v", perr)
	}
	// From just before the limit: two sampling intervals, plus the time to
	// kill the job and reap it.
	if took := returned.Sub(time.Unix(0, ns)); took > 2*cfg.MemorySampleInterval+300*time.Millisecond {
		t.Fatalf("job stopped %s after passing its limit; want within two samples", took)
	}
	msgs := receiveWithin(t, b.ctx, b.q.URL, 10*time.Second)
	if len(msgs) != 1 || msgs[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatal("the message did not follow the error path (back after its visibility timeout)")
	}
}
