package sqsdispatchtest_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

func TestMessagesSnapshot(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	send(t, e.c, e.url, "visible")
	send(t, e.c, e.url, "in flight")
	if _, err := e.c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(e.url), MessageBody: aws.String("delayed"),
		DelaySeconds: 60, MessageAttributes: map[string]types.MessageAttributeValue{
			"b": {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2}}}}); err != nil {
		t.Fatal(err)
	}
	// Take "in flight" only: give "visible" back at once.
	ms := receive(t, e.c, e.url, 2)
	if err := changeVisibility(t.Context(), e.c, e.url, aws.ToString(ms[0].ReceiptHandle), 0); err != nil {
		t.Fatal(err)
	}

	snap := e.c.Messages(e.url)
	want := []struct {
		body     string
		state    sqsdispatchtest.MessageState
		receives int
	}{{"visible", sqsdispatchtest.StateVisible, 1}, {"in flight", sqsdispatchtest.StateInFlight, 1}, {"delayed", sqsdispatchtest.StateDelayed, 0}}
	if len(snap) != len(want) {
		t.Fatalf("Messages returned %d messages, want %d", len(snap), len(want))
	}
	for i, w := range want {
		m := snap[i]
		if m.Body != w.body || m.State != w.state || m.ReceiveCount != w.receives {
			t.Errorf("message %d = %q %v received %d times; want %q %v %d", i, m.Body, m.State, m.ReceiveCount, w.body, w.state, w.receives)
		}
		if !m.SentAt.Equal(testStart) || m.ID == "" {
			t.Errorf("message %d: SentAt %v, ID %q", i, m.SentAt, m.ID)
		}
	}
	if got := snap[1]; got.ReceiptHandle != aws.ToString(ms[1].ReceiptHandle) ||
		!got.VisibleAt.Equal(testStart.Add(30*time.Second)) || !got.FirstReceivedAt.Equal(testStart) {
		t.Errorf("in-flight message = %+v", got)
	}
	snap[2].MessageAttributes["b"].BinaryValue[0] = 9 // a snapshot is a copy
	if got := e.c.Messages(e.url)[2].MessageAttributes["b"].BinaryValue[0]; got != 1 {
		t.Errorf("changing a snapshot changed the stored message")
	}
	if e.c.Messages("https://example.com/nope") != nil {
		t.Error("an unknown queue has messages")
	}
}

func TestMessageStateString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		state sqsdispatchtest.MessageState
		want  string
	}{
		{"visible", sqsdispatchtest.StateVisible, "visible"},
		{"in flight", sqsdispatchtest.StateInFlight, "in flight"},
		{"delayed", sqsdispatchtest.StateDelayed, "delayed"},
		{"unknown", sqsdispatchtest.MessageState(7), "MessageState(7)"},
	}
	for _, tt := range tests {
		if got := tt.state.String(); got != tt.want {
			t.Errorf("%s: String() = %q, want %q", tt.name, got, tt.want)
		}
	}
}
