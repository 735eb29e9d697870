package queue

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/envelope"
)

func stringAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

func dlqInput(queue string) DeadLetterInput {
	return DeadLetterInput{Queue: queue, MessageID: "m-1", Copy: envelope.Copy{Body: "body",
		Attributes: map[string]types.MessageAttributeValue{"job": stringAttr("resize")},
		Reasons:    envelope.DeadLetterReasons("bad input", queue, "resize", 3)}}
}

func TestCopyToDeadLetterCopiesAndDeletesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	dlq := b.client.addQueue("dlq", nil)
	src := b.client.withDLQ("src", "dlq", 5, nil)
	in := dlqInput(src)
	got, err := b.q.CopyToDeadLetter(b.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got != dlq {
		t.Errorf("DLQ URL = %q; want %q", got, dlq)
	}
	var writes []string
	for _, c := range b.client.allCalls() {
		if strings.HasPrefix(c, "SendMessage") || strings.HasPrefix(c, "DeleteMessage") {
			writes = append(writes, c)
		}
	}
	if want := []string{"SendMessage " + dlq}; !slices.Equal(writes, want) {
		t.Fatalf("writes = %v; want %v", writes, want)
	}
	send := inputsOf[*sqs.SendMessageInput](b.client)[0]
	if aws.ToString(send.MessageBody) != "body" || send.MessageGroupId != nil || send.MessageDeduplicationId != nil {
		t.Errorf("sent %+v; want the body, no group or deduplication ID", send)
	}
	want := map[string]string{"job": "resize", AttrReason: "bad input", AttrSourceQueue: src, AttrJob: "resize", AttrReceiveCount: "3"}
	if got := attrValues(send.MessageAttributes); !maps.Equal(got, want) {
		t.Errorf("attributes = %v; want %v", got, want)
	}
	if len(in.Copy.Attributes) != 1 {
		t.Errorf("the caller's attributes were modified: %v", in.Copy.Attributes)
	}
}

func TestDeadLetterFIFO(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, group, wantGroup string
	}{
		{name: "keeps the group", group: "g-7", wantGroup: "g-7"},
		{name: "no group known", wantGroup: defaultGroupID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Config{})
			b.client.addQueue("dlq.fifo", nil)
			src := b.client.withDLQ("src.fifo", "dlq.fifo", 5, nil)
			in := dlqInput(src)
			in.Copy.GroupID = tt.group
			if _, err := b.q.CopyToDeadLetter(b.ctx, in); err != nil {
				t.Fatal(err)
			}
			send := inputsOf[*sqs.SendMessageInput](b.client)[0]
			if g := aws.ToString(send.MessageGroupId); g != tt.wantGroup {
				t.Errorf("MessageGroupId = %q; want %q", g, tt.wantGroup)
			}
			if d := aws.ToString(send.MessageDeduplicationId); d != dedupID("m-1") || d == "" {
				t.Errorf("MessageDeduplicationId = %q; want %q", d, dedupID("m-1"))
			}
		})
	}
}

// TestDeadLetterFairQueue: a standard queue's message group (an SQS fair
// queue's tenant) goes with the copy, without a deduplication ID, which
// SQS refuses on a standard queue.
func TestDeadLetterFairQueue(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	b.client.addQueue("dlq", nil)
	src := b.client.withDLQ("src", "dlq", 5, nil)
	in := dlqInput(src)
	in.Copy.GroupID, in.Copy.TraceHeader = "tenant-3", "Root=1-5759e988-bd862e3fe1be46a994272793"
	if _, err := b.q.CopyToDeadLetter(b.ctx, in); err != nil {
		t.Fatal(err)
	}
	send := inputsOf[*sqs.SendMessageInput](b.client)[0]
	if g, d := aws.ToString(send.MessageGroupId), send.MessageDeduplicationId; g != "tenant-3" || d != nil {
		t.Errorf("group %q, deduplication ID %v; want the tenant and none", g, d)
	}
	if v := send.MessageSystemAttributes["AWSTraceHeader"]; aws.ToString(v.StringValue) != in.Copy.TraceHeader {
		t.Errorf("trace header %q; want %q", aws.ToString(v.StringValue), in.Copy.TraceHeader)
	}
}

// TestDeadLetterDropsAResumeStateThatDoesNotFit: the copy of a message
// with ten attributes goes without its resume state rather than not at
// all.
func TestDeadLetterDropsAResumeStateThatDoesNotFit(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	b.client.addQueue("dlq", nil)
	src := b.client.withDLQ("src", "dlq", 5, nil)
	in := dlqInput(src)
	in.Copy.Attributes = map[string]types.MessageAttributeValue{}
	for i := range 10 {
		in.Copy.Attributes[fmt.Sprintf("a%d", i)] = stringAttr("v")
	}
	in.Copy.Resume = []byte(`{"origin":"m-0"}`)
	if _, err := b.q.CopyToDeadLetter(b.ctx, in); err != nil {
		t.Fatal(err)
	}
	got := inputsOf[*sqs.SendMessageInput](b.client)[0].MessageAttributes
	if _, ok := got[envelope.AttrResume]; ok || len(got) != 10 {
		t.Errorf("sent %d attributes (resume state: %t); want the ten without it", len(got), ok)
	}
}

func TestDeadLetterFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		redrive    bool
		sendErr    error
		wantIs     error
		wantWrites []string // methods
	}{
		{name: "no redrive policy", wantIs: ErrNoRedrivePolicy},
		{name: "send fails", redrive: true, sendErr: apiError("ServiceUnavailable"),
			wantWrites: []string{"SendMessage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Config{})
			b.client.addQueue("dlq", nil)
			src := b.client.addQueue("src", nil)
			if tt.redrive {
				src = b.client.withDLQ("src", "dlq", 5, nil)
			}
			b.client.send = func(context.Context, *sqs.SendMessageInput) error { return tt.sendErr }
			url, err := b.q.CopyToDeadLetter(b.ctx, dlqInput(src))
			if err == nil {
				t.Fatal("CopyToDeadLetter succeeded; want an error")
			}
			var oe *OpError
			if !errors.As(err, &oe) || oe.MessageID != "m-1" {
				t.Errorf("err = %v; want an *OpError naming message m-1", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v; want it to wrap %v", err, tt.wantIs)
			}
			if url != "" {
				t.Errorf("DLQ URL = %q; want none", url)
			}
			var writes []string
			for _, c := range b.client.allCalls() {
				m, _, _ := strings.Cut(c, " ")
				if m == "SendMessage" || m == "DeleteMessage" {
					writes = append(writes, m)
				}
			}
			if !slices.Equal(writes, tt.wantWrites) {
				t.Errorf("writes = %v; want %v", writes, tt.wantWrites)
			}
		})
	}
}

func attrValues(m map[string]types.MessageAttributeValue) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = aws.ToString(v.StringValue)
	}
	return out
}
