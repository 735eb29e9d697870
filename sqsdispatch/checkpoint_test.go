package sqsdispatch_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/internal/resume"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// lines returns the lines of path; none when it does not exist.
func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(b)), " ", "_"))
}

// withPrefix returns the lines of path that start with prefix.
func withPrefix(t *testing.T, path, prefix string) []string {
	t.Helper()
	var out []string
	for _, l := range lines(t, path) {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// eventField returns the value of name=value in an events line.
func eventField(line, name string) int64 {
	for _, f := range strings.Split(line, "_") {
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return -1
}

// assertUnitsOnce checks that the ledger of a units job holds each of
// its units exactly once, in order, and that no two runs overlapped.
func assertUnitsOnce(t *testing.T, dir string, units int) {
	t.Helper()
	got := lines(t, filepath.Join(dir, "ledger"))
	want := make([]string, units)
	for i := range want {
		want[i] = "unit_" + strconv.Itoa(i)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ledger = %v; want every unit once: %v", got, want)
	}
	if o := withPrefix(t, filepath.Join(dir, "events"), "overlap"); len(o) > 0 {
		t.Errorf("two runs of the job overlapped: %v", lines(t, filepath.Join(dir, "events")))
	}
}

// TestCheckpointedJobResumesAcrossStops stops three dispatcher processes
// in turn with SIGTERM, each at a random moment of the job's run; a
// fourth finishes the job. Every unit of work is done once in all.
func TestCheckpointedJobResumesAcrossStops(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 10})
	dir := t.TempDir()
	events := filepath.Join(dir, "events")
	const units = 8
	b.send(unitsMsg(dir, units, time.Second, true), nil) // a checkpoint every second
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	pc := procConfig{Queue: b.q.URL, Job: "units", Visibility: 10 * time.Second, CleanupTimeout: 10 * time.Second, Concurrency: 1}
	for stop := 1; stop <= 3; stop++ {
		p := startDispatcherProcess(t, pc)
		var pid int64
		waitFor(t, time.Minute, fmt.Sprintf("run %d to start", stop), func() bool {
			starts := withPrefix(t, events, "start")
			if len(starts) < stop {
				return false
			}
			pid = eventField(starts[stop-1], "pid")
			return true
		})
		waitFor(t, time.Minute, fmt.Sprintf("run %d to checkpoint", stop), func() bool {
			return slices.ContainsFunc(withPrefix(t, events, "saved"), func(l string) bool { return eventField(l, "pid") == pid })
		})
		<-time.After(time.Duration(rng.Int64N(int64(2 * time.Second)))) // a random moment of the run
		p.signal(t, syscall.SIGTERM)
		assertDiedBy(t, p, syscall.SIGTERM, time.Minute)
	}
	p := startDispatcherProcess(t, pc)
	waitFor(t, 2*time.Minute, "the job to finish", func() bool { return len(withPrefix(t, events, "done")) > 0 })
	waitFor(t, time.Minute, "the queue to drain", func() bool { return drained(t, b.ctx, b.q.URL) })
	p.signal(t, syscall.SIGTERM)
	assertDiedBy(t, p, syscall.SIGTERM, time.Minute)

	assertUnitsOnce(t, dir, units)
	if !drained(t, b.ctx, b.q.DLQURL) {
		t.Error("the dead-letter queue is not empty")
	}
	if c := withPrefix(t, events, "cleanup"); len(c) != 3 {
		t.Errorf("cleanups = %v; want one per stop", c)
	}
	starts := withPrefix(t, events, "start")
	if len(starts) != 4 {
		t.Fatalf("runs = %v; want 4", starts)
	}
	for i, s := range starts {
		if eventField(s, "runs") != int64(i+1) {
			t.Errorf("run %d saw Runs %d; the run count carries over: %v", i+1, eventField(s, "runs"), starts)
		}
		if eventField(s, "first") != eventField(starts[0], "first") {
			t.Errorf("run %d saw FirstReceived %d; want the first run's %d", i+1, eventField(s, "first"), eventField(starts[0], "first"))
		}
		// Every run was stopped after it checkpointed: the next resumes
		// further on.
		if i > 0 && eventField(s, "from") <= eventField(starts[i-1], "from") {
			t.Errorf("run %d did not resume past run %d's start: %v", i+1, i, starts)
		}
	}
}

// TestInterruptedJobContinuesFromItsCheckpoint stops a dispatcher once
// the job has checkpointed: the message is replaced by a copy that
// carries the checkpoint, and the next run resumes from it.
func TestInterruptedJobContinuesFromItsCheckpoint(t *testing.T) {
	forEachBackend(t, fauxqs.QueueSpec{MaxReceiveCount: 5}, func(t *testing.T, b *bundle) {
		dir := t.TempDir()
		const units = 6
		body := unitsMsg(dir, units, 300*time.Millisecond, true)
		attrs := map[string]types.MessageAttributeValue{"tenant": strAttr("ü-7")}
		first := b.send(body, attrs)
		cfg := b.config("units")
		cfg.CleanupTimeout = 10 * time.Second
		ctx, cancel := context.WithCancel(b.ctx)
		done := runAsync(ctx, b.dispatcher(cfg))
		// A checkpoint the job was told was kept is kept.
		waitFor(t, time.Minute, "two checkpoints", func() bool { return len(withPrefix(t, filepath.Join(dir, "events"), "saved")) >= 2 })
		cancel()
		if err := wait(t, done, time.Minute, "Run"); !errors.Is(err, sqsdispatch.ErrStopped) {
			t.Fatalf("Run = %v; want ErrStopped", err)
		}
		cleanups := withPrefix(t, filepath.Join(dir, "events"), "cleanup")
		if len(cleanups) != 1 || eventField(cleanups[0], "keep") < 2 || !strings.HasSuffix(cleanups[0], "checkpoint=true") {
			t.Fatalf("cleanups = %v; want one told of a checkpoint of at least 2", cleanups)
		}
		msgs := receive(t, b.ctx, b.q.URL, 5)
		if len(msgs) != 1 {
			t.Fatalf("%d messages in the queue; want the continuation alone", len(msgs))
		}
		m := msgs[0]
		if aws.ToString(m.MessageId) == first || aws.ToString(m.Body) != body || aws.ToString(m.MessageAttributes["tenant"].StringValue) != "ü-7" {
			t.Fatalf("queue holds %s %q %v; want a copy of %s with its body and attributes", aws.ToString(m.MessageId), aws.ToString(m.Body), m.MessageAttributes, first)
		}
		st, err := resume.Decode(m.MessageAttributes[resume.Attr].BinaryValue)
		if err != nil {
			t.Fatal(err)
		}
		if st.Origin != first || st.Runs != 1 || string(st.Checkpoint) != strconv.FormatInt(eventField(cleanups[0], "keep"), 10) || st.Seq != uint64(eventField(cleanups[0], "keep")) {
			t.Errorf("continuation state = %+v; want origin %s, 1 run, the checkpoint the cleanup kept (%s)", st, first, cleanups[0])
		}
		setVisible(t, b, m)

		ctx, cancel = context.WithCancel(b.ctx)
		defer cancel()
		done = runAsync(ctx, b.dispatcher(cfg))
		waitFor(t, time.Minute, "the job to finish", func() bool { return len(withPrefix(t, filepath.Join(dir, "events"), "done")) > 0 })
		waitFor(t, time.Minute, "the queue to drain", func() bool { return drained(t, b.ctx, b.q.URL) })
		cancel()
		_ = wait(t, done, time.Minute, "Run")
		assertUnitsOnce(t, dir, units)
		starts := withPrefix(t, filepath.Join(dir, "events"), "start")
		// Runs counts the test's own receive of the copy too.
		if len(starts) != 2 || eventField(starts[1], "from") != eventField(cleanups[0], "keep") || eventField(starts[1], "runs") != 3 {
			t.Errorf("runs = %v; want the second to resume from %d as run 3", starts, eventField(cleanups[0], "keep"))
		}
	})
}

// setVisible makes a message received by the test visible again.
func setVisible(t *testing.T, b *bundle, m types.Message) {
	t.Helper()
	if _, err := b.be.api.ChangeMessageVisibility(b.ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(b.q.URL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
}

// TestContinuedRunsCountTowardTheRedrivePolicy dead-letters a continued
// message whose runs, across the messages it continues, exceed the
// queue's maxReceiveCount, without running it.
func TestContinuedRunsCountTowardTheRedrivePolicy(t *testing.T) {
	forEachBackend(t, fauxqs.QueueSpec{MaxReceiveCount: 3}, func(t *testing.T, b *bundle) {
		dir := t.TempDir()
		st := resume.State{Origin: "m-0", Seq: 4, FirstReceived: time.Now().Add(-time.Hour), Runs: 3, Checkpoint: []byte("4")}
		b.send(unitsMsg(dir, 6, time.Millisecond, true), map[string]types.MessageAttributeValue{
			resume.Attr: {DataType: aws.String(resume.DataType), BinaryValue: st.Encode()}})
		err := dispatchNext(t, b.ctx, b.dispatcher(b.config("units")), time.Minute)
		var je *sqsdispatch.JobError
		if !errors.As(err, &je) || !je.Permanent || !strings.Contains(je.Message, "4 times") {
			t.Fatalf("DispatchOne = %v; want a permanent *JobError naming the 4 runs", err)
		}
		dlq := dlqMessages(t, b, 1)
		for _, m := range dlq {
			// Moved back to its queue, it runs again, from its checkpoint.
			got, err := resume.Decode(m.MessageAttributes[resume.Attr].BinaryValue)
			if err != nil || string(got.Checkpoint) != "4" || got.Runs != 0 || got.Origin != "m-0" {
				t.Errorf("the dead-lettered message carries %+v (%v); want its checkpoint with its runs counted afresh", got, err)
			}
		}
		if starts := withPrefix(t, filepath.Join(dir, "events"), "start"); len(starts) != 0 {
			t.Errorf("the job ran: %v", starts)
		}
	})
}
