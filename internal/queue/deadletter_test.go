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
)

func stringAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

func dlqInput(queue string) DeadLetterInput {
	return DeadLetterInput{
		Queue: queue, Receipt: "r-1", MessageID: "m-1", Body: "body", Job: "resize",
		Reason: "bad input", ReceiveCount: 3,
		MessageAttributes: map[string]types.MessageAttributeValue{"job": stringAttr("resize")},
	}
}

func TestDeadLetterMovesThenDeletes(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	dlq := b.client.addQueue("dlq", nil)
	src := b.client.withDLQ("src", "dlq", 5, nil)
	in := dlqInput(src)
	got, err := b.q.DeadLetter(b.ctx, in)
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
	if want := []string{"SendMessage " + dlq, "DeleteMessage " + src}; !slices.Equal(writes, want) {
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
	if len(in.MessageAttributes) != 1 {
		t.Errorf("the caller's attributes were modified: %v", in.MessageAttributes)
	}
	del := inputsOf[*sqs.DeleteMessageInput](b.client)[0]
	if aws.ToString(del.ReceiptHandle) != "r-1" {
		t.Errorf("deleted receipt %q; want r-1", aws.ToString(del.ReceiptHandle))
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
			in.GroupID = tt.group
			if _, err := b.q.DeadLetter(b.ctx, in); err != nil {
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

func TestDeadLetterFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		redrive    bool
		sendErr    error
		deleteErr  error
		wantIs     error
		wantURL    bool
		wantWrites []string // methods
	}{
		{name: "no redrive policy", wantIs: ErrNoRedrivePolicy},
		{name: "send fails: no delete", redrive: true, sendErr: apiError("ServiceUnavailable"),
			wantWrites: []string{"SendMessage"}},
		{name: "delete fails after the copy", redrive: true, deleteErr: apiError("ServiceUnavailable"),
			wantURL: true, wantWrites: []string{"SendMessage", "DeleteMessage"}},
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
			b.client.del = func(context.Context, *sqs.DeleteMessageInput) error { return tt.deleteErr }
			url, err := b.q.DeadLetter(b.ctx, dlqInput(src))
			if err == nil {
				t.Fatal("DeadLetter succeeded; want an error")
			}
			var oe *OpError
			if !errors.As(err, &oe) || oe.MessageID != "m-1" {
				t.Errorf("err = %v; want an *OpError naming message m-1", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v; want it to wrap %v", err, tt.wantIs)
			}
			if (url != "") != tt.wantURL {
				t.Errorf("DLQ URL = %q; want one %t", url, tt.wantURL)
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

func TestDeadLetterReasonAttributes(t *testing.T) {
	t.Parallel()
	nAttrs := func(n int) map[string]types.MessageAttributeValue {
		m := make(map[string]types.MessageAttributeValue, n)
		for i := range n {
			m[fmt.Sprintf("a%d", i)] = stringAttr("v")
		}
		return m
	}
	all := []string{AttrReason, AttrSourceQueue, AttrJob, AttrReceiveCount}
	// Room for the reason alone: len(name)+len("String")+len(value).
	reasonOnly := len("body") + len("a0") + len("String") + len("v") + len(AttrReason) + len("String") + len("bad input")
	tests := []struct {
		name    string
		attrs   map[string]types.MessageAttributeValue
		maxSize string
		reason  string
		want    []string // reason attributes expected
	}{
		{name: "room for all", attrs: nAttrs(1), want: all},
		{name: "ten attributes already", attrs: nAttrs(10), want: nil},
		{name: "room for two", attrs: nAttrs(8), want: all[:2]},
		{name: "no room in the size limit", attrs: nAttrs(1), maxSize: fmt.Sprint(reasonOnly - 1), want: nil},
		{name: "room for the reason only", attrs: nAttrs(1), maxSize: fmt.Sprint(reasonOnly), want: all[:1]},
		{name: "empty reason skipped", attrs: nAttrs(1), reason: "-", want: all[1:]},
		{name: "a reason attribute already set is kept", attrs: map[string]types.MessageAttributeValue{AttrJob: stringAttr("mine")}, want: all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Config{})
			var dlqAttrs map[string]string
			if tt.maxSize != "" {
				dlqAttrs = map[string]string{"MaximumMessageSize": tt.maxSize}
			}
			b.client.addQueue("dlq", dlqAttrs)
			src := b.client.withDLQ("src", "dlq", 5, nil)
			in := dlqInput(src)
			in.MessageAttributes = tt.attrs
			if tt.reason == "-" {
				in.Reason = ""
			}
			if _, err := b.q.DeadLetter(b.ctx, in); err != nil {
				t.Fatal(err)
			}
			got := attrValues(inputsOf[*sqs.SendMessageInput](b.client)[0].MessageAttributes)
			if len(got) > maxMessageAttributes {
				t.Errorf("%d attributes sent; SQS allows %d", len(got), maxMessageAttributes)
			}
			for k := range tt.attrs {
				if got[k] != aws.ToString(tt.attrs[k].StringValue) {
					t.Errorf("attribute %s = %q; want the original %q", k, got[k], aws.ToString(tt.attrs[k].StringValue))
				}
			}
			var added []string
			for _, name := range all {
				if _, orig := tt.attrs[name]; !orig {
					if _, ok := got[name]; ok {
						added = append(added, name)
					}
				}
			}
			var want []string
			for _, name := range tt.want {
				if _, orig := tt.attrs[name]; !orig {
					want = append(want, name)
				}
			}
			if !slices.Equal(added, want) {
				t.Errorf("reason attributes added = %v; want %v", added, want)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{name: "plain", in: "bad input\n\tline 2", want: "bad input\n\tline 2"},
		{name: "control characters", in: "a\x00b\x1fc", want: "a?b?c"},
		{name: "beyond the BMP", in: "a\U0001F600b", want: "a?b"},
		{name: "bounded on a rune boundary", in: strings.Repeat("é", maxReasonBytes), want: strings.Repeat("é", maxReasonBytes/2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sanitize(tt.in); got != tt.want {
				t.Errorf("sanitize(%q) = %q; want %q", tt.in, got, tt.want)
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
