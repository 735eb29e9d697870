package sqsdispatchtest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// dispatchOne runs one message of the queue at url through the job job
// with a dispatcher on s, and checks that its job failed for good.
func dispatchOne(t *testing.T, s *sqsdispatchtest.Server, url, job string) {
	t.Helper()
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: s.Client(), QueueURL: url, Registry: testRegistry(), Job: job})
	if err != nil {
		t.Fatal(err)
	}
	handled, err := d.DispatchOne(t.Context())
	var jobErr *sqsdispatch.JobError
	if !handled || !errors.As(err, &jobErr) || !jobErr.Permanent {
		t.Fatalf("DispatchOne = %t, %v; want a handled message that failed permanently", handled, err)
	}
}

// Messages sent with Server.Send reach the job as sent; the job's
// permanent failure is read back from the dead-letter queue with
// Server.WaitDeadLetter, and the queue is left empty.
func TestServerSendAndDeadLetters(t *testing.T) {
	t.Parallel()
	s := sqsdispatchtest.StartServer(t)
	color := map[string]sqsdispatch.MessageAttribute{"color": {DataType: "String", StringValue: "blue"}}
	tests := []struct {
		name  string
		queue string
		opts  []sqsdispatchtest.QueueOption
		job   string
		msg   sqsdispatchtest.Message
		want  sqsdispatchtest.DeadLetter // ID and SourceQueue aside
	}{
		{name: "standard queue", queue: "standard", job: "echo",
			msg: sqsdispatchtest.Message{Body: "hello", Attributes: color},
			want: sqsdispatchtest.DeadLetter{Body: "hello", Attributes: color, Job: "echo", ReceiveCount: 1,
				Reason: "body=hello receives=1 group= color=blue"}},
		{name: "FIFO queue, default group", queue: "ordered", opts: []sqsdispatchtest.QueueOption{sqsdispatchtest.FIFO()}, job: "echo",
			msg: sqsdispatchtest.Message{Body: "hello", Attributes: color},
			want: sqsdispatchtest.DeadLetter{Body: "hello", Attributes: color, Job: "echo", ReceiveCount: 1, GroupID: "sqsdispatchtest",
				Reason: "body=hello receives=1 group=sqsdispatchtest color=blue"}},
		{name: "FIFO queue, a group of its own", queue: "grouped", opts: []sqsdispatchtest.QueueOption{sqsdispatchtest.FIFO()}, job: "echo",
			msg: sqsdispatchtest.Message{Body: "hi", GroupID: "g7"},
			want: sqsdispatchtest.DeadLetter{Body: "hi", Job: "echo", ReceiveCount: 1, GroupID: "g7",
				Reason: "body=hi receives=1 group=g7 color="}},
		{name: "a resumed run keeps its checkpoint", queue: "resumed", job: "runs",
			msg: sqsdispatchtest.Message{Body: "work", Checkpoint: []byte("7"), Runs: 3},
			want: sqsdispatchtest.DeadLetter{Body: "work", Job: "runs", ReceiveCount: 1, Checkpoint: []byte("7"),
				Reason: `runs=3 receives=1 checkpoint="7"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := s.CreateQueue(t, tt.queue, append(tt.opts, sqsdispatchtest.MaxReceiveCount(3))...)
			// Two messages alike: the second is no duplicate, also on a
			// FIFO queue.
			for range 2 {
				if id := s.Send(t, q.URL, tt.msg); id == "" {
					t.Fatal("Send returned no message ID")
				}
			}
			for range 2 {
				dispatchOne(t, s, q.URL, tt.job)
				got := s.WaitDeadLetter(t, q.DLQURL)
				if got.ID == "" || got.SourceQueue != q.URL {
					t.Errorf("dead letter ID %q from %q, want an ID, from %q", got.ID, got.SourceQueue, q.URL)
				}
				got.ID, got.SourceQueue = "", ""
				if !sameDeadLetter(got, tt.want) {
					t.Errorf("dead letter\n %+v, want\n %+v", got, tt.want)
				}
			}
			s.WaitEmpty(t, q.URL)
			s.WaitEmpty(t, q.DLQURL)
		})
	}
}

// sameDeadLetter compares dead letters field by field.
func sameDeadLetter(a, b sqsdispatchtest.DeadLetter) bool {
	if len(a.Attributes) != len(b.Attributes) {
		return false
	}
	for k, v := range a.Attributes {
		w, ok := b.Attributes[k]
		if !ok || v.DataType != w.DataType || v.StringValue != w.StringValue || string(v.BinaryValue) != string(w.BinaryValue) {
			return false
		}
	}
	return a.ID == b.ID && a.Body == b.Body && a.GroupID == b.GroupID && a.Reason == b.Reason && a.SourceQueue == b.SourceQueue &&
		a.Job == b.Job && a.ReceiveCount == b.ReceiveCount && string(a.Checkpoint) == string(b.Checkpoint)
}

// Server.Send refuses, and fails the test, what it cannot send as asked.
func TestServerSendRefuses(t *testing.T) {
	t.Parallel()
	s := sqsdispatchtest.StartServer(t)
	q := s.CreateQueue(t, "refusing")
	tests := []struct {
		name string
		msg  sqsdispatchtest.Message
		want string
	}{
		{name: "empty body", msg: sqsdispatchtest.Message{}, want: "Message.Body is empty"},
		{name: "more than one receive", msg: sqsdispatchtest.Message{Body: "x", ReceiveCount: 2}, want: "Send delivers a message once"},
		{name: "checkpoint over the limit", msg: sqsdispatchtest.Message{Body: "x", Checkpoint: make([]byte, sqsdispatch.MaxCheckpointBytes+1)},
			want: "more than sqsdispatch.MaxCheckpointBytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			how := howItEnds(t, func(tb testing.TB) { s.Send(tb, q.URL, tt.msg) })
			if !strings.HasPrefix(how, "fatal: sqsdispatchtest: Send: ") || !strings.Contains(how, tt.want) {
				t.Errorf("Send ended the test with %q, want a fatal failure saying %q", how, tt.want)
			}
		})
	}
	s.WaitEmpty(t, q.URL) // nothing was sent
}
