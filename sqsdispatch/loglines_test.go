package sqsdispatch_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// lifecycleLines are the fields of every line a message's life and a
// Run's logs, by message, then outcome or phase, then whether a child ran.
// A line not listed here fails the test: a new line gets pinned here.
var lifecycleLines = func() map[string][]string {
	msg := []string{"queue", "message_id", "receive_count"}
	job := append(slices.Clone(msg), "job", "pid")
	outcome := append(slices.Clone(job), "outcome", "duration", "rss_bytes", "cpu_user", "cpu_sys")
	with := func(base []string, more ...string) []string { return append(slices.Clone(base), more...) }
	return map[string][]string{
		"dispatcher started":                         {"queues", "slots"},
		"message received":                           with(msg, "age", "body"),
		"child stderr":                               with(job, "line"),
		"child stderr/cleanup":                       with(job, "phase", "cleanup_pid", "line"),
		"cleanup done":                               with(job, "attempt"),
		"job succeeded/success":                      outcome,
		"job did not succeed/failed":                 with(outcome, "job_error"),
		"job did not succeed/dead_lettered":          with(outcome, "dead_lettered", "reason", "job_error"),
		"job did not succeed/dead_lettered/no child": with(msg, "outcome", "duration", "dead_lettered", "reason", "job_error"),
		"job did not succeed/continued":              with(outcome, "continued_as", "checkpoints"),
		// A message received as the stop comes, given back without a child.
		"job did not succeed/interrupted/no child":                         with(msg, "outcome", "duration", "given_back"),
		"dispatcher stopping: no more receives; interrupting running jobs": {},
		"dispatcher stopped": {},
	}
}()

// lineKey is the key of e in lifecycleLines.
func lineKey(e observer.LoggedEntry) string {
	f := e.ContextMap()
	key := e.Message
	for _, k := range []string{"outcome", "phase"} {
		if v, ok := f[k].(string); ok {
			key += "/" + v
		}
	}
	if _, ok := f["outcome"]; ok {
		if _, child := f["pid"]; !child {
			key += "/no child"
		}
	}
	return key
}

// TestLifecycleLinesHaveTheirFieldsOnce runs a dispatcher through a
// success, a failure, a dead-letter move, an unknown job and a stop that
// continues a checkpointed job, with LogBodies and a child that writes to
// stderr, and checks every line it logs against the field set pinned for
// it: no line has a field twice, none lacks one or has one more.
func TestLifecycleLinesHaveTheirFieldsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	route := func(job string) map[string]types.MessageAttributeValue {
		return map[string]types.MessageAttributeValue{"job": strAttr(job)}
	}
	for _, job := range []string{"say", "permanent", "fail", "nosuchjob"} {
		b.send(job, route(job))
	}
	waiting := route("say")
	waiting["wait"] = strAttr("yes")
	stopped := b.send("stopped", waiting)

	core, logs := observer.New(zapcore.DebugLevel)
	cfg := b.config("")
	cfg.Job, cfg.Route = "", sqsdispatch.RouteByAttribute("job")
	cfg.Logger, cfg.LogBodies, cfg.Concurrency, cfg.CleanupTimeout = zap.New(core), true, 5, 10*time.Second
	ctx, cancel := context.WithCancel(b.ctx)
	done := runAsync(ctx, b.dispatcher(cfg))
	waitFor(t, time.Minute, "four outcomes and a kept checkpoint", func() bool {
		return fileSize(outFile(stopped, "saved")) >= 0 && len(withOutcome(logs)) >= 4
	})
	cancel()
	if err := wait(t, done, time.Minute, "Run"); !errors.Is(err, sqsdispatch.ErrStopped) {
		t.Fatalf("Run = %v; want ErrStopped", err)
	}

	seen := map[string]bool{}
	for _, e := range logs.All() {
		key := lineKey(e)
		want, pinned := lifecycleLines[key]
		if !pinned {
			t.Errorf("line %q (%s) is not pinned: %v", e.Message, key, e.ContextMap())
			continue
		}
		seen[key] = true
		var got []string
		times := map[string]int{}
		for _, f := range e.Context {
			if times[f.Key]++; times[f.Key] == 1 {
				got = append(got, f.Key)
			} else {
				t.Errorf("line %q has field %q twice", key, f.Key)
			}
		}
		if slices.Sort(got); !slices.Equal(got, sorted(want)) {
			t.Errorf("line %q has fields %v; want %v", key, got, sorted(want))
		}
	}
	for key := range lifecycleLines {
		if !seen[key] && key != "job did not succeed/interrupted/no child" { // the stop may come between receives
			t.Errorf("no %q line was logged", key)
		}
	}
}

// withOutcome returns the lines that carry an outcome.
func withOutcome(logs *observer.ObservedLogs) []observer.LoggedEntry {
	return logs.Filter(func(e observer.LoggedEntry) bool { _, ok := e.ContextMap()["outcome"]; return ok }).All()
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
