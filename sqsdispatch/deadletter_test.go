package sqsdispatch_test

// Moving a message to its queue's dead-letter queue: byte for byte, with
// the reason, and never without a redrive policy.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

func TestPermanentMovesToTheDLQByteForByte(t *testing.T) {
	t.Parallel()
	forEachBackend(t, fauxqs.QueueSpec{MaxReceiveCount: 5}, func(t *testing.T, b *bundle) {
		body := "çà et là — 東京 ✓ tab\tnewline\n"
		bin := []byte{0, 1, 2, 0xff, 0xfe, 'x'}
		b.send(body, map[string]types.MessageAttributeValue{
			"kind": strAttr("téléchargement"),
			"blob": {DataType: aws.String("Binary"), BinaryValue: bin},
		})

		handled, err := b.dispatcher(b.config("permanent")).DispatchOne(b.ctx)
		var je *sqsdispatch.JobError
		if !handled || !errors.As(err, &je) || !je.Permanent {
			t.Fatalf("DispatchOne = %v, %v; want a permanent *JobError", handled, err)
		}
		m := dlqMessages(t, b, 1)[body]
		if aws.ToString(m.Body) != body {
			t.Fatalf("DLQ body = %q, want %q", aws.ToString(m.Body), body)
		}
		if got := m.MessageAttributes["blob"].BinaryValue; !bytes.Equal(got, bin) {
			t.Fatalf("binary attribute = %v, want %v", got, bin)
		}
		if got := aws.ToString(m.MessageAttributes["kind"].StringValue); got != "téléchargement" {
			t.Fatalf("string attribute = %q", got)
		}
		if got := reasonOf(m); got != "bad input" {
			t.Fatalf("reason attribute = %q, want %q", got, "bad input")
		}
		for attr, want := range map[string]string{sqsdispatch.AttrSourceQueue: b.q.URL, sqsdispatch.AttrJob: "permanent", sqsdispatch.AttrReceiveCount: "1"} {
			if got := aws.ToString(m.MessageAttributes[attr].StringValue); got != want {
				t.Errorf("attribute %s = %q, want %q", attr, got, want)
			}
		}
		if !drained(t, b.ctx, b.q.URL) {
			t.Fatal("the source queue still holds the message")
		}
	})
}

func TestPermanentWithoutRedrivePolicyLeavesTheMessage(t *testing.T) {
	t.Parallel()
	forEachBackend(t, fauxqs.QueueSpec{}, func(t *testing.T, b *bundle) {
		b.send("x", nil)
		_, err := b.dispatcher(b.config("permanent")).DispatchOne(b.ctx)
		if !errors.Is(err, sqsdispatch.ErrNoRedrivePolicy) {
			t.Fatalf("err = %v; want ErrNoRedrivePolicy", err)
		}
		if v, f := counts(t, b.ctx, b.q.URL); v+f != 1 {
			t.Fatalf("message gone from the source queue (%d visible, %d in flight)", v, f)
		}
	})
}

func TestLargeBinaryMessageSurvivesRoutingDecodingAndDLQ(t *testing.T) {
	t.Parallel()
	forEachBackend(t, fauxqs.QueueSpec{MaxReceiveCount: 5}, func(t *testing.T, b *bundle) {
		note := strings.Repeat("Grüße aus 東京 ☃ ", 256<<10/24)
		body, _ := json.Marshal(order{ID: "big", Items: []string{"x"}, Note: note})
		for len(body) < 256<<10 { // pad with JSON whitespace to exactly 256 KiB
			body = append(body, ' ')
		}
		body = body[:256<<10]
		bin := make([]byte, 1024)
		for i := range bin {
			bin[i] = byte(i)
		}
		id := b.send(string(body), map[string]types.MessageAttributeValue{
			"job":  strAttr("order-reject"),
			"blob": {DataType: aws.String("Binary.raw"), BinaryValue: bin},
		})
		cfg := b.config("")
		cfg.Route = sqsdispatch.RouteByAttribute("job")
		handled, err := b.dispatcher(cfg).DispatchOne(b.ctx)
		var je *sqsdispatch.JobError
		if !handled || !errors.As(err, &je) || !je.Permanent {
			t.Fatalf("DispatchOne = %v, %v; want the job's permanent rejection", handled, err)
		}
		m := dlqMessages(t, b, 1)[string(body)]
		if aws.ToString(m.Body) != string(body) {
			t.Fatalf("DLQ body differs (%d bytes, want %d)", len(aws.ToString(m.Body)), len(body))
		}
		if a := m.MessageAttributes["blob"]; !bytes.Equal(a.BinaryValue, bin) || aws.ToString(a.DataType) != "Binary.raw" {
			t.Fatalf("binary attribute changed: %s, %d bytes", aws.ToString(a.DataType), len(a.BinaryValue))
		}
		if reasonOf(m) != "order rejected" {
			t.Fatalf("reason = %q", reasonOf(m))
		}
		var decoded order
		recorded, _ := os.ReadFile(outFile(id, "order"))
		if err := json.Unmarshal(recorded, &decoded); err != nil || decoded.ID != "big" || decoded.Note != note {
			t.Fatalf("the typed job did not get the decoded value intact (%v)", err)
		}
	})
}

// TestDeadLetteringWaitsForTheCopy: the original is deleted only after its
// copy reached the dead-letter queue.
func TestDeadLetteringWaitsForTheCopy(t *testing.T) {
	t.Parallel()
	forEachBackend(t, fauxqs.QueueSpec{MaxReceiveCount: 5}, func(t *testing.T, b *bundle) {
		b.send("x", nil)
		cfg := b.config("permanent")
		cfg.Client = failingSend{b.be.api}
		_, err := b.dispatcher(cfg).DispatchOne(b.ctx)
		if err == nil || !strings.Contains(err.Error(), "send refused") {
			t.Fatalf("err = %v; want the failed copy's error", err)
		}
		if v, f := counts(t, b.ctx, b.q.URL); v+f != 1 {
			t.Fatalf("original deleted although its copy failed (%d visible, %d in flight)", v, f)
		}
		if v, f := counts(t, b.ctx, b.q.DLQURL); v+f != 0 {
			t.Fatalf("DLQ holds %d messages", v+f)
		}
	})
}

// TestDeadLetteringRetriesTheDeleteAfterTheCopy: once the dead-letter
// copy is confirmed, a delete of the original that fails is tried again,
// so that the original does not come back to be moved a second time.
func TestDeadLetteringRetriesTheDeleteAfterTheCopy(t *testing.T) {
	t.Parallel()
	forEachBackend(t, fauxqs.QueueSpec{MaxReceiveCount: 5}, func(t *testing.T, b *bundle) {
		b.send("x", nil)
		cfg := b.config("permanent")
		fd := &failingDeletes{Client: b.be.api, left: 2}
		cfg.Client = fd
		handled, err := b.dispatcher(cfg).DispatchOne(b.ctx)
		var je *sqsdispatch.JobError
		if !handled || !errors.As(err, &je) || !je.Permanent {
			t.Fatalf("DispatchOne = %v, %v; want the permanent *JobError, the message dead-lettered", handled, err)
		}
		if fd.tries.Load() != 3 {
			t.Errorf("%d deletes; want the two that failed and one more", fd.tries.Load())
		}
		if v, f := counts(t, b.ctx, b.q.URL); v+f != 0 {
			t.Fatalf("the original is still in its queue (%d visible, %d in flight)", v, f)
		}
		if v, f := counts(t, b.ctx, b.q.DLQURL); v+f != 1 {
			t.Fatalf("the dead-letter queue holds %d messages; want the one copy", v+f)
		}
	})
}

// failingDeletes fails the first left DeleteMessage calls as SQS does when
// it is unavailable, and counts them all.
type failingDeletes struct {
	sqsdispatch.Client
	left  int32
	tries atomic.Int32
}

func (f *failingDeletes) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	if f.tries.Add(1) <= f.left {
		return nil, &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: "test: unavailable", Fault: smithy.FaultServer}
	}
	return f.Client.DeleteMessage(ctx, in, opts...)
}

// failingSend refuses every SendMessage: the dead-letter copy cannot be
// made.
type failingSend struct{ sqsdispatch.Client }

func (failingSend) SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return nil, errors.New("send refused")
}
