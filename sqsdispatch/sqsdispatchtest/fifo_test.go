package sqsdispatchtest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func fifoQueue(t *testing.T, e *env, attrs map[string]string) string {
	t.Helper()
	a := map[string]string{"FifoQueue": "true"}
	for k, v := range attrs {
		a[k] = v
	}
	return createQueue(t, e.c, "jobs.fifo", a)
}

func bodies(ms []types.Message) string {
	var bs []string
	for _, m := range ms {
		bs = append(bs, aws.ToString(m.Body))
	}
	return strings.Join(bs, ",")
}

func TestFIFOGroupExclusivityAndOrder(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	url := fifoQueue(t, e, nil)
	var seqs []string
	for _, m := range []struct{ group, body string }{{"A", "A1"}, {"A", "A2"}, {"B", "B1"}, {"A", "A3"}, {"B", "B2"}} {
		seqs = append(seqs, aws.ToString(sendGroup(t, e.c, url, m.group, m.body).SequenceNumber))
	}
	for i := 1; i < len(seqs); i++ {
		if len(seqs[i]) != 20 || seqs[i] <= seqs[i-1] {
			t.Fatalf("sequence numbers %v do not increase", seqs)
		}
	}

	steps := []struct {
		name    string
		max     int32
		advance time.Duration
		want    string
	}{
		{name: "first message", max: 1, want: "A1"},
		{name: "group A is blocked while A1 is in flight", max: 10, want: "B1,B2"},
		{name: "both groups blocked", max: 10, want: ""},
		{name: "the visibility of all ends: each group in order", max: 10, advance: 31 * time.Second, want: "A1,A2,B1,A3,B2"},
	}
	var last []types.Message
	for _, s := range steps {
		e.clock.Advance(s.advance)
		last = receive(t, e.c, url, s.max)
		if got := bodies(last); got != s.want {
			t.Fatalf("%s: received %q, want %q", s.name, got, s.want)
		}
	}
	if g := last[0].Attributes["MessageGroupId"]; g != "A" {
		t.Errorf("MessageGroupId = %q, want A", g)
	}
	if d := last[1].Attributes["MessageDeduplicationId"]; d != "A2" {
		t.Errorf("MessageDeduplicationId = %q, want A2", d)
	}
	if s := last[3].Attributes["SequenceNumber"]; s != seqs[3] {
		t.Errorf("SequenceNumber = %q, want %q", s, seqs[3])
	}

	// Deleting A1 does not unblock A while A2 and A3 are in flight;
	// deleting those does.
	sendGroup(t, e.c, url, "A", "A4")
	del := func(i int) {
		t.Helper()
		if err := deleteMessage(t.Context(), e.c, url, aws.ToString(last[i].ReceiptHandle)); err != nil {
			t.Fatal(err)
		}
	}
	del(0)
	if got := bodies(receive(t, e.c, url, 10)); got != "" {
		t.Fatalf("received %q while A2 and A3 are in flight", got)
	}
	del(1)
	del(3)
	if got := bodies(receive(t, e.c, url, 10)); got != "A4" {
		t.Fatalf("received %q, want A4", got)
	}
}

func TestFIFODeduplication(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		attrs     map[string]string
		sends     []sqs.SendMessageInput // to group g
		advance   time.Duration          // before the last send
		wantCount int
		wantSame  bool // the last send names the first message
	}{
		{name: "same deduplication ID", wantCount: 1, wantSame: true, sends: []sqs.SendMessageInput{
			{MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")},
			{MessageBody: aws.String("y"), MessageDeduplicationId: aws.String("d")}}},
		{name: "different deduplication IDs", wantCount: 2, sends: []sqs.SendMessageInput{
			{MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d1")},
			{MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d2")}}},
		{name: "content-based, same body", attrs: map[string]string{"ContentBasedDeduplication": "true"}, wantCount: 1, wantSame: true,
			sends: []sqs.SendMessageInput{{MessageBody: aws.String("x")}, {MessageBody: aws.String("x")}}},
		{name: "content-based, different bodies", attrs: map[string]string{"ContentBasedDeduplication": "true"}, wantCount: 2,
			sends: []sqs.SendMessageInput{{MessageBody: aws.String("x")}, {MessageBody: aws.String("y")}}},
		{name: "explicit ID wins over content", attrs: map[string]string{"ContentBasedDeduplication": "true"}, wantCount: 2,
			sends: []sqs.SendMessageInput{{MessageBody: aws.String("x")}, {MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")}}},
		{name: "within five minutes", advance: 5*time.Minute - time.Second, wantCount: 1, wantSame: true, sends: []sqs.SendMessageInput{
			{MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")},
			{MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")}}},
		{name: "after five minutes", advance: 5 * time.Minute, wantCount: 2, sends: []sqs.SendMessageInput{
			{MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")},
			{MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, nil)
			url := fifoQueue(t, e, tt.attrs)
			var outs []*sqs.SendMessageOutput
			for i, in := range tt.sends {
				if i == len(tt.sends)-1 {
					e.clock.Advance(tt.advance)
				}
				in.QueueUrl, in.MessageGroupId = aws.String(url), aws.String("g")
				out, err := e.c.SendMessage(t.Context(), &in)
				if err != nil {
					t.Fatalf("SendMessage %d: %v", i, err)
				}
				outs = append(outs, out)
			}
			if got := len(e.c.Messages(url)); got != tt.wantCount {
				t.Errorf("%d messages stored, want %d", got, tt.wantCount)
			}
			first, last := outs[0], outs[len(outs)-1]
			same := aws.ToString(first.MessageId) == aws.ToString(last.MessageId) &&
				aws.ToString(first.SequenceNumber) == aws.ToString(last.SequenceNumber)
			if same != tt.wantSame {
				t.Errorf("last send named the first message: %v, want %v", same, tt.wantSame)
			}
		})
	}
}

// A deleted message's deduplication ID still counts within the window.
func TestFIFODeduplicationAfterDelete(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	url := fifoQueue(t, e, nil)
	sendGroup(t, e.c, url, "g", "x")
	m := receiveOne(t, e.c, url)
	if err := deleteMessage(t.Context(), e.c, url, aws.ToString(m.ReceiptHandle)); err != nil {
		t.Fatal(err)
	}
	sendGroup(t, e.c, url, "g", "x")
	if got := len(e.c.Messages(url)); got != 0 {
		t.Errorf("%d messages stored, want 0", got)
	}
}

func TestFIFOSendRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   sqs.SendMessageInput
		want string
	}{
		{name: "no group", in: sqs.SendMessageInput{MessageDeduplicationId: aws.String("d")}, want: "MissingParameter"},
		{name: "no deduplication ID without content-based deduplication",
			in: sqs.SendMessageInput{MessageGroupId: aws.String("g")}, want: "InvalidParameterValue"},
		{name: "delay per message",
			in: sqs.SendMessageInput{MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d"), DelaySeconds: 5}, want: "InvalidParameterValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, nil)
			url := fifoQueue(t, e, nil)
			in := tt.in
			in.QueueUrl, in.MessageBody = aws.String(url), aws.String("b")
			_, err := e.c.SendMessage(t.Context(), &in)
			if got := code(err); got != tt.want {
				t.Errorf("error code = %q (%v), want %q", got, err, tt.want)
			}
		})
	}
}
