package sqsdispatch_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// sendJobs sends one message per job, in order, each routed by its "job"
// attribute, with body, and returns their IDs.
func sendJobs(t *testing.T, ctx context.Context, send func(*sqs.SendMessageInput) (*sqs.SendMessageOutput, error), url string, body string, jobs ...string) []string {
	t.Helper()
	var ids []string
	for _, job := range jobs {
		out, err := send(&sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body),
			MessageAttributes: map[string]types.MessageAttributeValue{"job": strAttr(job)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.MessageId))
	}
	return ids
}

// runReusing runs jobs (one message each, in order) on one slot with
// children reused for up to maxJobs jobs, until every message is gone from
// the queue or a pid file was written for the last one; it returns each
// message's recorded pid ("" for none) and the reasons children retired.
func runReusing(t *testing.T, reuse sqsdispatch.Reuse, maxRSS int64, jobs ...string) (pids []string, retired []string) {
	t.Helper()
	ctx, mem, url := memQueue(t, "reuse", nil)
	ids := sendJobs(t, ctx, func(in *sqs.SendMessageInput) (*sqs.SendMessageOutput, error) { return mem.SendMessage(ctx, in) }, url, "{}", jobs...)
	core, logs := observer.New(zapcore.InfoLevel)
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: mem, QueueURL: url, Registry: testRegistry(),
		Route: sqsdispatch.RouteByAttribute("job"), WaitTime: time.Second, VisibilityTimeout: time.Hour,
		KillGrace: time.Second, Reuse: reuse, MaxRSS: maxRSS, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	runUntil(t, d, "every job to run", func() bool {
		return logs.FilterMessageSnippet("job").Len() >= len(jobs) && len(withOutcomeLines(logs)) >= len(jobs)
	})
	for _, id := range ids {
		pids = append(pids, strings.TrimSpace(readFileOr(outFile(id, "pid"))))
	}
	for _, e := range logs.FilterMessage("child retired").All() {
		retired = append(retired, e.ContextMap()["reason"].(string))
	}
	return pids, retired
}

func withOutcomeLines(logs *observer.ObservedLogs) []observer.LoggedEntry {
	return logs.Filter(func(e observer.LoggedEntry) bool { _, ok := e.ContextMap()["outcome"]; return ok }).All()
}

// TestReusedChildRunsJobsOfDifferentNames: one child runs jobs of
// different names in turn.
func TestReusedChildRunsJobsOfDifferentNames(t *testing.T) {
	t.Parallel()
	pids, retired := runReusing(t, sqsdispatch.Reuse{MaxJobs: 10}, 0, "pid", "record", "pid", "record")
	if pids[0] == "" || pids[0] != pids[1] || pids[1] != pids[2] || pids[2] != pids[3] {
		t.Fatalf("pids %v; want one child for all four jobs", pids)
	}
	if len(retired) != 0 {
		t.Errorf("children retired for %v; want none while the jobs ran", retired)
	}
}

// TestEveryRetirementReasonRetires: after a job that may leave its child
// dirty, or once a child has done its share, the next job gets a fresh
// child, and the log says why.
func TestEveryRetirementReasonRetires(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		reuse   sqsdispatch.Reuse
		maxRSS  int64
		trigger string
		want    string
	}{
		{"a panic", sqsdispatch.Reuse{MaxJobs: 10}, 0, "panic", "panic"},
		{"an exit without a result", sqsdispatch.Reuse{MaxJobs: 10}, 0, "exit3", "crash"},
		{"a timeout", sqsdispatch.Reuse{MaxJobs: 10}, 0, "pid-timeout", "timeout"},
		{"a signal", sqsdispatch.Reuse{MaxJobs: 10}, 0, "selfterm", "signal"},
		{"a MaxRSS kill", sqsdispatch.Reuse{MaxJobs: 10}, 0, "hog", "max_rss"},
		{"memory above the fraction", sqsdispatch.Reuse{MaxJobs: 10, MaxRSSFraction: 0.001}, 1 << 30, "pid", "rss"},
		{"its number of jobs", sqsdispatch.Reuse{MaxJobs: 2, Jitter: 0.01}, 0, "pid", "jobs"},
		{"its lifetime", sqsdispatch.Reuse{MaxJobs: 10, MaxLifetime: time.Nanosecond}, 0, "pid", "lifetime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			jobs := []string{"pid", tt.trigger, "pid"}
			if tt.trigger == "pid" {
				jobs = []string{"pid", "pid", "pid"}
			}
			pids, retired := runReusing(t, tt.reuse, tt.maxRSS, jobs...)
			if pids[2] == "" || pids[2] == pids[0] {
				t.Errorf("pids %v; want the last job in a fresh child", pids)
			}
			if !slices.Contains(retired, tt.want) {
				t.Errorf("children retired for %v; want %q among them", retired, tt.want)
			}
		})
	}
}

// TestJobThatNeedsACleanProcessGetsAFreshChild: a job whose Reuse.MaxJobs
// is 1 never runs in a child another job ran in.
func TestJobThatNeedsACleanProcessGetsAFreshChild(t *testing.T) {
	t.Parallel()
	pids, _ := runReusing(t, sqsdispatch.Reuse{MaxJobs: 10}, 0, "pid", "pid-clean", "pid")
	if pids[1] == pids[0] || pids[1] == pids[2] || pids[0] != pids[2] {
		t.Fatalf("pids %v; want the middle job alone in its child, the others sharing one", pids)
	}
}

// TestJobsOwnMaxJobsHoldsInAnotherJobsChild: a job whose own
// Reuse.MaxJobs is lower than the default's is not given a child that
// has already run that many jobs for others, and its own limit retires
// the child it runs in.
func TestJobsOwnMaxJobsHoldsInAnotherJobsChild(t *testing.T) {
	t.Parallel()
	pids, _ := runReusing(t, sqsdispatch.Reuse{MaxJobs: 10}, 0, "pid", "pid", "pid", "pid-few", "pid-few", "pid-few")
	shared, few := pids[0], pids[3]
	if shared == "" || pids[1] != shared || pids[2] != shared {
		t.Fatalf("pids %v; want the first three in one child", pids)
	}
	if few == "" || few == shared || pids[4] != few || pids[5] == few || pids[5] == shared || pids[5] == "" {
		t.Fatalf("pids %v; want the job limited to two per child in a fresh child for its first two runs, then another", pids)
	}
}

// TestGrandchildOfAReusedChildIsGoneBeforeTheNextJob: what job N started
// is killed and reaped before job N+1 of the same child runs.
func TestGrandchildOfAReusedChildIsGoneBeforeTheNextJob(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memQueue(t, "reuse-grandchild", nil)
	send := func(in *sqs.SendMessageInput) (*sqs.SendMessageOutput, error) { return mem.SendMessage(ctx, in) }
	first := sendJobs(t, ctx, send, url, "{}", "grandchild")[0]
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: mem, QueueURL: url, Registry: testRegistry(),
		Route: sqsdispatch.RouteByAttribute("job"), WaitTime: time.Second, Reuse: sqsdispatch.Reuse{MaxJobs: 10}, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	var second string
	runUntil(t, d, "both jobs to run", func() bool {
		if second == "" {
			if fileSize(outFile(first, "grandchild")) <= 0 || len(mem.Messages(url)) != 0 {
				return false
			}
			second = sendJobs(t, ctx, send, url, readFileOr(outFile(first, "grandchild")), "alive")[0]
		}
		return fileSize(outFile(second, "alive")) > 0
	})
	if a, b := readFileOr(outFile(first, "pid")), readFileOr(outFile(second, "pid")); a != b {
		t.Fatalf("the jobs ran in %s and %s; want one reused child", a, b)
	}
	if alive := readFileOr(outFile(second, "alive")); alive != "false" {
		t.Fatalf("the first job's grandchild was %s when the second job ran; want it gone", alive)
	}
}

// TestStopDuringAReusedChildsJob: a stop during the second job of a reused
// child runs that job's Cleanup, on the suspended job, and gives back that
// message alone; the first was deleted.
func TestStopDuringAReusedChildsJob(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memQueue(t, "reuse-stop", nil)
	send := func(in *sqs.SendMessageInput) (*sqs.SendMessageOutput, error) { return mem.SendMessage(ctx, in) }
	ledger := filepath.Join(t.TempDir(), "ledger")
	ids := sendJobs(t, ctx, send, url, gateMsg(ledger, "second"), "pid", "gate")
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: mem, QueueURL: url, Registry: testRegistry(),
		Route: sqsdispatch.RouteByAttribute("job"), WaitTime: time.Second, CleanupTimeout: 10 * time.Second,
		Reuse: sqsdispatch.Reuse{MaxJobs: 10}, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := runAsync(runCtx, d)
	waitFor(t, time.Minute, "the second job to start", func() bool { return len(ledgerLines(t, ledger, "start")) == 1 })
	slots := d.Status().Slots
	stop()
	if err := wait(t, done, time.Minute, "Run"); !errors.Is(err, sqsdispatch.ErrStopped) {
		t.Fatalf("Run = %v; want ErrStopped", err)
	}
	cleanups := ledgerLines(t, ledger, "cleanup")
	if len(cleanups) != 1 || !strings.Contains(cleanups[0], "running=true") {
		t.Fatalf("cleanups %q; want one, of the running second job", cleanups)
	}
	msgs := mem.Messages(url)
	if len(msgs) != 1 || msgs[0].ID != ids[1] {
		t.Fatalf("the queue holds %+v; want the second message alone, given back", msgs)
	}
	if first := readFileOr(outFile(ids[0], "pid")); len(slots) != 1 || fmt.Sprint(slots[0].PID) != first {
		t.Errorf("the second job ran in %+v; want the first job's child (pid %s)", slots, first)
	}
}

// TestKeptChildKilledWhileWaiting: a kept child killed while it waits
// for its next job (an OOM kill, a kill from outside) is not handed the
// next message, which runs in a fresh child and succeeds.
func TestKeptChildKilledWhileWaiting(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memQueue(t, "reuse-killed", nil)
	send := func(in *sqs.SendMessageInput) (*sqs.SendMessageOutput, error) { return mem.SendMessage(ctx, in) }
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: mem, QueueURL: url, Registry: testRegistry(),
		Route: sqsdispatch.RouteByAttribute("job"), WaitTime: time.Second, Reuse: sqsdispatch.Reuse{MaxJobs: 10},
		Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := runAsync(runCtx, d)
	first := sendJobs(t, ctx, send, url, "{}", "pid")[0]
	waitFor(t, time.Minute, "the first job's message to be deleted", func() bool { return len(mem.Messages(url)) == 0 })
	pid, err := strconv.Atoi(strings.TrimSpace(readFileOr(outFile(first, "pid"))))
	if err != nil {
		t.Fatalf("the first job's pid: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing the kept child %d: %v", pid, err)
	}
	second := sendJobs(t, ctx, send, url, "{}", "pid")[0]
	waitFor(t, time.Minute, "the second job's message to be deleted", func() bool { return len(mem.Messages(url)) == 0 })
	stop()
	if err := wait(t, done, time.Minute, "Run"); !errors.Is(err, sqsdispatch.ErrStopped) {
		t.Fatalf("Run = %v; want ErrStopped", err)
	}
	if got := strings.TrimSpace(readFileOr(outFile(second, "pid"))); got == "" || got == strconv.Itoa(pid) {
		t.Errorf("the second job ran in %q; want a fresh child, not the killed %d", got, pid)
	}
}

// readFileOr returns the content of path, or "" when it cannot be read.
func readFileOr(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}
