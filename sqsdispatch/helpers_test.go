package sqsdispatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap/zaptest"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// bundle is what most tests need: a context, fresh queues on one backend
// and a way to build a dispatcher on them.
type bundle struct {
	t   testing.TB
	ctx context.Context
	q   fauxqs.Queues
	be  backend
}

var queueSeq atomic.Int64

var nonName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// setup creates a queue on the local server (with a DLQ when
// spec.MaxReceiveCount > 0) named after the test.
func setup(t testing.TB, spec fauxqs.QueueSpec) *bundle {
	t.Helper()
	return setupOn(t, backends()[0], spec)
}

// setupOn is setup on the backend be.
func setupOn(t testing.TB, be backend, spec fauxqs.QueueSpec) *bundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	name := nonName.ReplaceAllString(t.Name(), "_")
	if len(name) > 50 {
		name = name[len(name)-50:]
	}
	spec.Name = fmt.Sprintf("%s-%d", name, queueSeq.Add(1))
	q, err := createQueues(ctx, be.api, spec)
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{t: t, ctx: ctx, q: q, be: be}
}

// config returns a Config for the bundle's queue with the test's logger.
func (b *bundle) config(job string) sqsdispatch.Config {
	return sqsdispatch.Config{Client: b.be.api, QueueURL: b.q.URL, Registry: testRegistry(), Job: job,
		WaitTime: time.Second, Logger: zaptest.NewLogger(b.t)}
}

func (b *bundle) dispatcher(cfg sqsdispatch.Config) *sqsdispatch.Dispatcher {
	b.t.Helper()
	d, err := sqsdispatch.New(cfg)
	if err != nil {
		b.t.Fatal(err)
	}
	return d
}

// send sends a message to the bundle's queue and returns its ID.
func (b *bundle) send(body string, attrs map[string]types.MessageAttributeValue) string {
	b.t.Helper()
	return sendTo(b.t, b.ctx, b.q.URL, body, attrs, "")
}

// sendTo sends a message to url (in group, on a FIFO queue) and returns
// its ID.
func sendTo(t testing.TB, ctx context.Context, url, body string, attrs map[string]types.MessageAttributeValue, group string) string {
	t.Helper()
	in := &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body), MessageAttributes: attrs}
	if group != "" {
		in.MessageGroupId = aws.String(group)
		in.MessageDeduplicationId = aws.String(strconv.FormatInt(queueSeq.Add(1), 10))
	}
	out, err := apiFor(url).SendMessage(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.MessageId)
}

// fill sends n "{}" messages in batches of ten.
func fill(tb testing.TB, ctx context.Context, url string, n int) {
	tb.Helper()
	fillWith(tb, ctx, url, n, func(int) string { return "{}" })
}

// fillWith sends n messages, the i-th with body(i), in batches of ten, to
// a queue on the local server (the in-memory client has no SendMessageBatch).
func fillWith(tb testing.TB, ctx context.Context, url string, n int, body func(i int) string) {
	tb.Helper()
	for sent := 0; sent < n; {
		var entries []types.SendMessageBatchRequestEntry
		for ; sent < n && len(entries) < 10; sent++ {
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(sent)), MessageBody: aws.String(body(sent))})
		}
		out, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
		if err != nil || len(out.Failed) > 0 {
			tb.Fatalf("SendMessageBatch: %v %+v", err, out)
		}
	}
}

// receive polls url once (long poll of wait seconds) and returns what came.
func receive(t *testing.T, ctx context.Context, url string, wait int32) []types.Message {
	t.Helper()
	out, err := apiFor(url).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: wait,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

// receiveWithin polls url until a message arrives or d passes.
func receiveWithin(t *testing.T, ctx context.Context, url string, d time.Duration) []types.Message {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if msgs := receive(t, ctx, url, 1); len(msgs) > 0 {
			return msgs
		}
	}
	return nil
}

// counts returns the queue's visible and in-flight message counts.
func counts(t *testing.T, ctx context.Context, url string) (visible, inflight int) {
	t.Helper()
	out, err := apiFor(url).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	visible, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	inflight, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return visible, inflight
}

// drained reports whether url holds no message, visible or in flight.
func drained(t *testing.T, ctx context.Context, url string) bool {
	t.Helper()
	v, f := counts(t, ctx, url)
	return v+f == 0
}

// dlqMessages receives from the bundle's DLQ until want messages have
// come, and maps them by body.
func dlqMessages(t *testing.T, b *bundle, want int) map[string]types.Message {
	t.Helper()
	got := map[string]types.Message{}
	waitFor(t, 30*time.Second, fmt.Sprintf("%d messages in the DLQ", want), func() bool {
		for _, m := range receive(t, b.ctx, b.q.DLQURL, 1) {
			got[aws.ToString(m.Body)] = m
		}
		return len(got) >= want
	})
	return got
}

// reasonOf is the dead-letter reason a DLQ message carries.
func reasonOf(m types.Message) string {
	return aws.ToString(m.MessageAttributes[sqsdispatch.AttrReason].StringValue)
}

func strAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

// waitFor polls cond until it holds, failing the test once d has passed.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		<-tick.C
	}
}

// runUntil runs d until cond holds, then cancels its context and checks
// that Run returned ErrStopped. It fails the test if Run returns first.
func runUntil(t *testing.T, d *sqsdispatch.Dispatcher, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := runAsync(ctx, d)
	var err error
	returned := false
	t.Cleanup(func() { // a failed wait leaves Run running
		cancel()
		if !returned {
			<-done
		}
	})
	waitFor(t, time.Minute, what, func() bool {
		select {
		case err = <-done:
			returned = true
			t.Fatalf("Run returned %v before %s", err, what)
		default:
		}
		return cond()
	})
	cancel()
	err, returned = wait(t, done, time.Minute, "Run to stop"), true
	if !errors.Is(err, sqsdispatch.ErrStopped) {
		t.Errorf("Run = %v; want ErrStopped", err)
	}
}

// returnedYet reports whether Run's channel has delivered, and what.
func returnedYet(ch <-chan error) (returned bool, err error) {
	select {
	case err := <-ch:
		return true, err
	default:
		return false, nil
	}
}

// readPID waits for a job to record a pid in its out file.
func readPID(t *testing.T, id, name string) int {
	t.Helper()
	var pid int
	waitFor(t, 60*time.Second, "the job to record its "+name, func() bool {
		b, err := os.ReadFile(outFile(id, name))
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	})
	return pid
}

// running reports whether pid is a live process (a zombie is not live).
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// assertDies checks that pid, already sent SIGKILL, stops running. The
// kernel delivers a SIGKILL asynchronously: on a busy machine the process
// may still be on its way out when kill returns.
func assertDies(t *testing.T, pid int, what string) {
	t.Helper()
	waitFor(t, 30*time.Second, fmt.Sprintf("%s %d to stop running", what, pid), func() bool { return !running(pid) })
}

// exists reports whether pid exists at all (zombies included): a process
// that was reaped does not.
func exists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// heldJob is a job running under DispatchOne until the test releases it.
type heldJob struct {
	d    *sqsdispatch.Dispatcher
	id   string // the message's ID
	pid  int    // the job's process
	gate string
	done chan error // DispatchOne's error
	over bool       // finish has taken DispatchOne's error
}

// holdJob starts DispatchOne on a sleep job that works until released,
// and returns once the job has recorded its pid.
func holdJob(t *testing.T) *heldJob {
	t.Helper()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	h := &heldJob{gate: filepath.Join(t.TempDir(), "gate"), done: make(chan error, 1)}
	body, _ := json.Marshal(params{Until: h.gate})
	h.id = b.send(string(body), nil)
	h.d = b.dispatcher(b.config("sleep"))
	go func() { _, err := h.d.DispatchOne(b.ctx); h.done <- err }()
	t.Cleanup(func() { // a failed test leaves the job held
		if !h.over {
			_ = os.WriteFile(h.gate, nil, 0o644)
			<-h.done
		}
	})
	h.pid = readPID(t, h.id, "pid")
	return h
}

// finish releases the job and returns DispatchOne's error.
func (h *heldJob) finish(t *testing.T) error {
	t.Helper()
	if err := os.WriteFile(h.gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := wait(t, h.done, time.Minute, "DispatchOne to finish")
	h.over = true
	return err
}

func itoa(i int) string { return strconv.Itoa(i) }

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// syncWriter is a buffer safe for concurrent writes and reads.
type syncWriter struct {
	mu sync.Mutex
	w  bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

// unusedClient is a Client for dispatchers that make no SQS call
// (configuration checks); a call would panic.
type unusedClient struct{ sqsdispatch.Client }

// ledgerEvent is one line of a ledger.
type ledgerEvent struct {
	start    bool
	pid, msg string
	tag      string
}

// readLedger reads the events of a ledger the ledger job wrote.
func readLedger(t *testing.T, path string) []ledgerEvent {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var evs []ledgerEvent
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			t.Fatalf("bad ledger line %q", line)
		}
		ev := ledgerEvent{start: f[0] == "start", pid: f[1], msg: f[2]}
		if len(f) > 3 {
			ev.tag = f[3]
		}
		evs = append(evs, ev)
	}
	return evs
}

// ledgerStats checks every message started and ended exactly once, in one
// process, and returns the most jobs that were running at once.
func ledgerStats(t *testing.T, evs []ledgerEvent, messages int) (maxRunning int) {
	t.Helper()
	starts, ends := map[string]string{}, map[string]string{}
	running := 0
	for _, ev := range evs {
		if ev.start {
			if _, dup := starts[ev.msg]; dup {
				t.Fatalf("message %s started twice", ev.msg)
			}
			starts[ev.msg] = ev.pid
			running++
			maxRunning = max(maxRunning, running)
		} else {
			if starts[ev.msg] != ev.pid {
				t.Fatalf("message %s ended in pid %s but started in %q", ev.msg, ev.pid, starts[ev.msg])
			}
			ends[ev.msg] = ev.pid
			running--
		}
	}
	if len(starts) != messages || len(ends) != messages {
		t.Fatalf("%d messages started and %d ended; want %d each", len(starts), len(ends), messages)
	}
	pids := map[string]bool{}
	for _, pid := range starts {
		pids[pid] = true
	}
	if len(pids) != messages {
		t.Fatalf("%d messages ran in %d processes; want a process each", messages, len(pids))
	}
	return maxRunning
}

// queueARN returns the ARN of the queue at url.
func queueARN(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	out, err := apiFor(url).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes["QueueArn"]
}

// setRedrive points url's redrive policy at the dead-letter queue dlqARN.
func setRedrive(t *testing.T, ctx context.Context, url, dlqARN string) {
	t.Helper()
	policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"5"}`, dlqARN)
	if _, err := apiFor(url).SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url),
		Attributes: map[string]string{"RedrivePolicy": policy}}); err != nil {
		t.Fatal(err)
	}
}

// runAsync runs d.Run(ctx) and returns its error on a channel.
func runAsync(ctx context.Context, d *sqsdispatch.Dispatcher) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- d.Run(ctx) }()
	return ch
}

// wait returns what ch delivers, failing the test after d.
func wait(t *testing.T, ch <-chan error, d time.Duration, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(d):
		t.Fatalf("timed out after %s waiting for %s", d, what)
		return nil
	}
}
