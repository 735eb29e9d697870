package sqsdispatch_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
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

// bundle is what most tests need: a context, fresh queues and a way to
// build a dispatcher on them.
type bundle struct {
	t   testing.TB
	ctx context.Context
	q   fauxqs.Queues
}

var queueSeq atomic.Int64

var nonName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// setup creates a queue (with a DLQ when spec.MaxReceiveCount > 0) named
// after the test.
func setup(t testing.TB, spec fauxqs.QueueSpec) *bundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	name := nonName.ReplaceAllString(t.Name(), "_")
	if len(name) > 50 {
		name = name[len(name)-50:]
	}
	spec.Name = fmt.Sprintf("%s-%d", name, queueSeq.Add(1))
	q, err := fauxqs.CreateQueues(ctx, client, spec)
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{t: t, ctx: ctx, q: q}
}

// config returns a Config for the bundle's queue with the test's logger.
func (b *bundle) config(job string) sqsdispatch.Config {
	return sqsdispatch.Config{Client: client, QueueURL: b.q.URL, Registry: testRegistry(), Job: job,
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

func sendTo(t testing.TB, ctx context.Context, url, body string, attrs map[string]types.MessageAttributeValue, group string) string {
	t.Helper()
	in := &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body), MessageAttributes: attrs}
	if group != "" {
		in.MessageGroupId = aws.String(group)
		in.MessageDeduplicationId = aws.String(strconv.FormatInt(queueSeq.Add(1), 10))
	}
	out, err := client.SendMessage(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.MessageId)
}

// receive polls url once (long poll of wait seconds) and returns what came.
func receive(t *testing.T, ctx context.Context, url string, wait int32) []types.Message {
	t.Helper()
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
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
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	visible, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	inflight, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return visible, inflight
}

// waitFor polls cond until it holds or d passes, then fails the test.
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

// readPID waits for a job to record a pid in its out file.
func readPID(t *testing.T, id, name string, within time.Duration) int {
	t.Helper()
	var pid int
	waitFor(t, within, "job to record "+name, func() bool {
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

// exists reports whether pid exists at all (zombies included): a process
// that was reaped does not.
func exists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

func strAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

// sleepingJob starts DispatchOne on a three-second sleep job and returns
// once the job records its pid; done receives DispatchOne's error.
func sleepingJob(t *testing.T) (d *sqsdispatch.Dispatcher, id string, pid int, done <-chan error) {
	t.Helper()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	id = b.send(`{"sleep": 3000000000}`, nil)
	d = b.dispatcher(b.config("sleep"))
	ch := make(chan error, 1)
	go func() { _, err := d.DispatchOne(b.ctx); ch <- err }()
	return d, id, readPID(t, id, "pid", 30*time.Second), ch
}
