package sqsdispatch_test

// What a job is given of its message, and what every copy of it the
// dispatcher sends carries: the user's attributes, the trace header and
// the message group, on FIFO and standard (fair) queues alike; what the
// dispatcher carries for itself is reached through typed fields.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/internal/resume"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

func resumeAttr(b []byte) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String(resume.DataType), BinaryValue: b}
}

// readSeen reads what the "seen" job wrote of message id.
func readSeen(t *testing.T, id string) seen {
	t.Helper()
	b, err := os.ReadFile(outFile(id, "seen"))
	if err != nil {
		t.Fatal(err)
	}
	var s seen
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestJobSeesTheUsersAttributesOnly: the resume state and the dead-letter
// reasons reach the job as Checkpoint, Runs and DeadLetter, not among
// its attributes, so a job that forwards its attributes to a new message
// never hands it another job's checkpoint.
func TestJobSeesTheUsersAttributesOnly(t *testing.T) {
	forEachBackend(t, fauxqs.QueueSpec{MaxReceiveCount: 5}, func(t *testing.T, b *bundle) {
		st := resume.State{Origin: "m-0", Seq: 3, Runs: 2, Checkpoint: []byte("3"), FirstReceived: time.Now().Add(-time.Hour)}
		id := b.send("x", map[string]types.MessageAttributeValue{
			"tenant": strAttr("t-1"), resume.Attr: resumeAttr(st.Encode()),
			sqsdispatch.AttrReason: strAttr("an earlier failure"), sqsdispatch.AttrSourceQueue: strAttr("https://src"),
			sqsdispatch.AttrJob: strAttr("seen"), sqsdispatch.AttrReceiveCount: strAttr("4")})
		if err := dispatchNext(t, b.ctx, b.dispatcher(b.config("seen")), time.Minute); err != nil {
			t.Fatal(err)
		}
		got := readSeen(t, id)
		if len(got.Attrs) != 1 || got.Attrs["tenant"].StringValue != "t-1" {
			t.Errorf("the job saw the attributes %v; want the user's alone", got.Attrs)
		}
		if got.Checkpoint != "3" || got.Runs != 3 {
			t.Errorf("the job saw checkpoint %q and %d runs; want 3 and 3", got.Checkpoint, got.Runs)
		}
		want := sqsdispatch.DeadLetterInfo{Reason: "an earlier failure", SourceQueue: "https://src", Job: "seen", ReceiveCount: 4}
		if got.DeadLetter == nil || *got.DeadLetter != want {
			t.Errorf("the job saw DeadLetter %+v; want %+v", got.DeadLetter, want)
		}
	})
}

// TestUnreadableResumeStateIsDeadLettered: a resume attribute that does
// not parse, or that carries a checkpoint no job could have recorded,
// dead-letters the message with a reason naming the attribute and the
// fault, without running it: neither its checkpoint nor its run count
// (which keeps maxReceiveCount meaningful) can be known. The copy keeps
// the attribute as it came.
func TestUnreadableResumeStateIsDeadLettered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value []byte
		fault string
	}{
		{"not JSON", []byte("{"), "unexpected end of JSON input"},
		{"no origin", []byte(`{"runs":1}`), "names no origin"},
		{"negative runs", []byte(`{"origin":"m-0","runs":-1}`), "counts -1 runs"},
		{"a checkpoint over the limit", resume.State{Origin: "m-0", Checkpoint: bytes.Repeat([]byte("x"), sqsdispatch.MaxCheckpointBytes+1)}.Encode(),
			"more than the 65536 a job can record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			forEachBackend(t, fauxqs.QueueSpec{MaxReceiveCount: 5}, func(t *testing.T, b *bundle) {
				id := b.send("x", map[string]types.MessageAttributeValue{resume.Attr: resumeAttr(tt.value)})
				err := dispatchNext(t, b.ctx, b.dispatcher(b.config("seen")), time.Minute)
				var je *sqsdispatch.JobError
				if !errors.As(err, &je) || !je.Permanent || !strings.Contains(je.Message, resume.Attr) || !strings.Contains(je.Message, tt.fault) {
					t.Fatalf("DispatchOne = %v; want a permanent *JobError naming %s and %q", err, resume.Attr, tt.fault)
				}
				if _, err := os.Stat(outFile(id, "seen")); err == nil {
					t.Error("the job ran")
				}
				m := dlqMessages(t, b, 1)["x"]
				if r := reasonOf(m); !strings.Contains(r, resume.Attr) || !strings.Contains(r, tt.fault) {
					t.Errorf("dead-letter reason %q; want it to name %s and %q", r, resume.Attr, tt.fault)
				}
				if !bytes.Equal(m.MessageAttributes[resume.Attr].BinaryValue, tt.value) {
					t.Error("the dead-letter copy does not carry the attribute as it came")
				}
			})
		})
	}
}

// traceHeader is an X-Ray trace header as SQS carries it.
const traceHeader = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

// sendTraced sends body to url with a message group (a fair queue's
// tenant on a standard queue) and an AWSTraceHeader, returning its ID.
func sendTraced(t *testing.T, b *bundle, body, group string) string {
	t.Helper()
	out, err := b.be.api.SendMessage(b.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(b.q.URL), MessageBody: aws.String(body),
		MessageGroupId: aws.String(group),
		MessageSystemAttributes: map[string]types.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String(traceHeader)}}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.MessageId)
}

// assertTracedInGroup checks that m carries the trace header and group.
func assertTracedInGroup(t *testing.T, m types.Message, group string) {
	t.Helper()
	if g, h := m.Attributes["MessageGroupId"], m.Attributes["AWSTraceHeader"]; g != group || h != traceHeader {
		t.Errorf("the copy has group %q and trace header %q; want %q and %q", g, h, group, traceHeader)
	}
}

// TestCopiesKeepTheTraceAndTheGroupOnAFairQueue: on a standard queue
// whose messages name a group (an SQS fair queue's tenant), a
// continuation and a dead-letter copy keep the group, without the
// deduplication ID that SQS refuses on a standard queue, and keep the
// trace header, so a trace follows a job across its runs. The local
// server ignores both on standard queues, so this runs on the in-memory
// SQS, which keeps them as SQS does.
func TestCopiesKeepTheTraceAndTheGroupOnAFairQueue(t *testing.T) {
	t.Parallel()
	mem := backends()[1]
	t.Run("continuation", func(t *testing.T) {
		t.Parallel()
		b := setupOn(t, mem, fauxqs.QueueSpec{MaxReceiveCount: 5})
		dir := t.TempDir()
		first := sendTraced(t, b, unitsMsg(dir, 20, 200*time.Millisecond, true), "tenant-7")
		ctx, cancel := context.WithCancel(b.ctx)
		done := runAsync(ctx, b.dispatcher(b.config("units")))
		waitFor(t, time.Minute, "a checkpoint", func() bool { return len(withPrefix(t, filepath.Join(dir, "events"), "saved")) > 0 })
		cancel()
		if err := wait(t, done, time.Minute, "Run"); !errors.Is(err, sqsdispatch.ErrStopped) {
			t.Fatalf("Run = %v; want ErrStopped", err)
		}
		msgs := receiveWithin(t, b.ctx, b.q.URL, 10*time.Second)
		if len(msgs) != 1 || aws.ToString(msgs[0].MessageId) == first || msgs[0].MessageAttributes[resume.Attr].BinaryValue == nil {
			t.Fatalf("queue holds %d messages; want the continuation of %s", len(msgs), first)
		}
		assertTracedInGroup(t, msgs[0], "tenant-7")
	})
	t.Run("dead-letter", func(t *testing.T) {
		t.Parallel()
		b := setupOn(t, mem, fauxqs.QueueSpec{MaxReceiveCount: 5})
		sendTraced(t, b, "x", "tenant-8")
		_ = dispatchNext(t, b.ctx, b.dispatcher(b.config("permanent")), time.Minute)
		assertTracedInGroup(t, dlqMessages(t, b, 1)["x"], "tenant-8")
	})
}
