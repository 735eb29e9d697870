package sqsdispatchtest_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// serverReceive long-polls one message from the queue at url.
func serverReceive(t *testing.T, c *sqs.Client, url string) types.Message {
	t.Helper()
	out, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url),
		MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 10})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("ReceiveMessage returned %d messages, want 1", len(out.Messages))
	}
	return out.Messages[0]
}

func TestServerQueues(t *testing.T) {
	t.Parallel()
	s := sqsdispatchtest.StartServer(t)
	if !strings.HasPrefix(s.Endpoint(), "http://127.0.0.1:") {
		t.Errorf("Endpoint() = %q, want http://127.0.0.1:PORT", s.Endpoint())
	}
	c := s.Client()
	tests := []struct {
		name      string
		queue     string
		opts      []sqsdispatchtest.QueueOption
		wantName  string            // the end of the queue's URL
		wantDLQ   string            // the end of the dead-letter queue's URL, or ""
		wantAttrs map[string]string // some of the queue's attributes
		fifo      bool
	}{
		{name: "standard with a dead-letter queue", queue: "orders",
			opts: []sqsdispatchtest.QueueOption{sqsdispatchtest.MaxReceiveCount(3),
				sqsdispatchtest.VisibilitySeconds(45), sqsdispatchtest.WaitSeconds(1)},
			wantName: "/orders", wantDLQ: "/orders-dlq",
			wantAttrs: map[string]string{"VisibilityTimeout": "45", "ReceiveMessageWaitTimeSeconds": "1"}},
		{name: "FIFO without a dead-letter queue", queue: "events", opts: []sqsdispatchtest.QueueOption{sqsdispatchtest.FIFO()},
			wantName: "/events.fifo", wantAttrs: map[string]string{"FifoQueue": "true"}, fifo: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := s.CreateQueue(t, tt.queue, tt.opts...)
			if !strings.HasSuffix(q.URL, tt.wantName) || !strings.HasSuffix(q.DLQURL, tt.wantDLQ) || (tt.wantDLQ == "") != (q.DLQURL == "") {
				t.Fatalf("CreateQueue = %+v, want URLs ending in %q and %q", q, tt.wantName, tt.wantDLQ)
			}
			attrs, err := c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.URL),
				AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
			if err != nil {
				t.Fatalf("GetQueueAttributes: %v", err)
			}
			for k, v := range tt.wantAttrs {
				if got := attrs.Attributes[k]; got != v {
					t.Errorf("attribute %s = %q, want %q", k, got, v)
				}
			}
			if tt.wantDLQ != "" {
				var policy struct {
					MaxReceiveCount json.Number `json:"maxReceiveCount"`
				}
				if err := json.Unmarshal([]byte(attrs.Attributes["RedrivePolicy"]), &policy); err != nil || policy.MaxReceiveCount != "3" {
					t.Errorf("RedrivePolicy = %q (%v), want maxReceiveCount 3", attrs.Attributes["RedrivePolicy"], err)
				}
			}

			in := &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String("hello " + tt.queue)}
			if tt.fifo {
				in.MessageGroupId, in.MessageDeduplicationId = aws.String("g"), aws.String("1")
			}
			if _, err := c.SendMessage(t.Context(), in); err != nil {
				t.Fatalf("SendMessage: %v", err)
			}
			if m := serverReceive(t, c, q.URL); aws.ToString(m.Body) != "hello "+tt.queue {
				t.Errorf("received %q, want %q", aws.ToString(m.Body), "hello "+tt.queue)
			}
		})
	}
}

// A dispatcher runs against the server as against SQS: a job's permanent
// failure moves its message to the dead-letter queue CreateQueue made.
func TestServerRunsADispatcher(t *testing.T) {
	t.Parallel()
	s := sqsdispatchtest.StartServer(t)
	q := s.CreateQueue(t, "work", sqsdispatchtest.MaxReceiveCount(2))
	s.Send(t, q.URL, sqsdispatchtest.Message{Body: "no such image"})
	dispatchOne(t, s, q.URL, "permanent")
	if dl := s.WaitDeadLetter(t, q.DLQURL); dl.Reason != "no such image" {
		t.Errorf("dead-letter reason = %q, want %q", dl.Reason, "no such image")
	}
	s.WaitEmpty(t, q.URL)
}

// endingTB records how a test helper ended the test: Fatal and Skip end
// the goroutine, as they do on a real test.
type endingTB struct {
	testing.TB
	how string
}

func (e *endingTB) Fatalf(format string, args ...any) {
	e.how = "fatal: " + fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (e *endingTB) Skipf(format string, args ...any) {
	e.how = "skip: " + fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (e *endingTB) Skip(args ...any)  { e.Skipf("%s", fmt.Sprint(args...)) }
func (e *endingTB) SkipNow()          { e.Skipf("SkipNow") }
func (e *endingTB) Fatal(args ...any) { e.Fatalf("%s", fmt.Sprint(args...)) }
func (e *endingTB) FailNow()          { e.Fatalf("FailNow") }

// howItEnds runs f with an endingTB of t, in a goroutine of its own, and
// returns how f ended the test ("returned" when it did not).
func howItEnds(t *testing.T, f func(tb testing.TB)) string {
	t.Helper()
	tb := &endingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(tb)
		tb.how = "returned"
	}()
	<-done
	return tb.how
}

// Without npm and without an installed server, StartServer fails the
// test and says why; it does not skip it. Not parallel: it empties PATH.
func TestStartServerFailsLoudly(t *testing.T) {
	t.Setenv("SQSDISPATCH_TOOLS_DIR", t.TempDir())
	t.Setenv("PATH", t.TempDir())
	how := howItEnds(t, func(tb testing.TB) { sqsdispatchtest.StartServer(tb) })
	if !strings.HasPrefix(how, "fatal: ") || !strings.Contains(how, "npm is needed") {
		t.Errorf("StartServer without npm ended the test with %q, want a fatal failure saying npm is needed", how)
	}
}
