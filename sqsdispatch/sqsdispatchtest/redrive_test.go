package sqsdispatchtest_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func dlqARN(name string) string { return "arn:aws:sqs:us-east-1:000000000000:" + name }

func TestRedriveAfterMaxReceiveCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fifo   bool
		policy string
	}{
		{name: "count as a number", policy: `{"deadLetterTargetArn":"%s","maxReceiveCount":2}`},
		{name: "count as a string", policy: `{"maxReceiveCount":"2","deadLetterTargetArn":"%s"}`},
		{name: "FIFO", fifo: true, policy: `{"deadLetterTargetArn":"%s","maxReceiveCount":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, nil)
			dlqName, srcName := "dlq", "src"
			var fifoAttrs map[string]string
			if tt.fifo {
				dlqName, srcName = "dlq.fifo", "src.fifo"
				fifoAttrs = map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}
			}
			dlq := createQueue(t, e.c, dlqName, fifoAttrs)
			attrs := map[string]string{"RedrivePolicy": fmt.Sprintf(tt.policy, dlqARN(dlqName))}
			for k, v := range fifoAttrs {
				attrs[k] = v
			}
			src := createQueue(t, e.c, srcName, attrs)

			in := &sqs.SendMessageInput{QueueUrl: aws.String(src), MessageBody: aws.String("poison"),
				MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("v")}}}
			if tt.fifo {
				in.MessageGroupId = aws.String("g")
			}
			sent, err := e.c.SendMessage(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				m := receiveOne(t, e.c, src)
				if got := m.Attributes["ApproximateReceiveCount"]; got != fmt.Sprint(i+1) {
					t.Fatalf("receive %d: ApproximateReceiveCount = %s", i+1, got)
				}
				if err := changeVisibility(t.Context(), e.c, src, aws.ToString(m.ReceiptHandle), 0); err != nil {
					t.Fatal(err)
				}
			}
			if ms := receive(t, e.c, src, 10); len(ms) != 0 {
				t.Fatalf("received %q a third time; want it moved to the DLQ", bodies(ms))
			}
			if got := len(e.c.Messages(src)); got != 0 {
				t.Errorf("%d messages left in the source queue", got)
			}
			m := receiveOne(t, e.c, dlq)
			if aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) || aws.ToString(m.Body) != "poison" ||
				aws.ToString(m.MessageAttributes["k"].StringValue) != "v" {
				t.Errorf("DLQ message = %+v; want the original", m)
			}
			if got := m.Attributes["DeadLetterQueueSourceArn"]; got != dlqARN(srcName) {
				t.Errorf("DeadLetterQueueSourceArn = %q, want %q", got, dlqARN(srcName))
			}
			if got := m.Attributes["ApproximateReceiveCount"]; got != "1" {
				t.Errorf("ApproximateReceiveCount in the DLQ = %s, want 1", got)
			}
			if tt.fifo && (m.Attributes["MessageGroupId"] != "g" || m.Attributes["SequenceNumber"] == "") {
				t.Errorf("FIFO DLQ message attributes = %v", m.Attributes)
			}

			out, err := e.c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(src),
				AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameRedrivePolicy}})
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf(`{"deadLetterTargetArn":"%s","maxReceiveCount":2}`, dlqARN(dlqName))
			if got := out.Attributes["RedrivePolicy"]; got != want {
				t.Errorf("RedrivePolicy = %s, want %s", got, want)
			}
		})
	}
}

func TestRedrivePolicyRejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy string
		fifo   bool
	}{
		{name: "target missing", policy: `{"deadLetterTargetArn":"` + dlqARN("nope") + `","maxReceiveCount":2}`},
		{name: "target of another type", fifo: true, policy: `{"deadLetterTargetArn":"` + dlqARN("dlq") + `","maxReceiveCount":2}`},
		{name: "count missing", policy: `{"deadLetterTargetArn":"` + dlqARN("dlq") + `"}`},
		{name: "count zero", policy: `{"deadLetterTargetArn":"` + dlqARN("dlq") + `","maxReceiveCount":0}`},
		{name: "not JSON", policy: `dlq`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, nil)
			createQueue(t, e.c, "dlq", nil)
			name, attrs := "src", map[string]string{"RedrivePolicy": tt.policy}
			if tt.fifo {
				name, attrs["FifoQueue"] = "src.fifo", "true"
			}
			_, err := e.c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
			if got := code(err); got != "InvalidParameterValue" {
				t.Errorf("error code = %q (%v), want InvalidParameterValue", got, err)
			}
		})
	}
}

func TestSetQueueAttributesRemovesRedrivePolicy(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	createQueue(t, e.c, "dlq", nil)
	src := createQueue(t, e.c, "src", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN("dlq") + `","maxReceiveCount":1}`})
	if _, err := e.c.SetQueueAttributes(t.Context(), &sqs.SetQueueAttributesInput{QueueUrl: aws.String(src),
		Attributes: map[string]string{"RedrivePolicy": ""}}); err != nil {
		t.Fatal(err)
	}
	send(t, e.c, src, "m")
	for range 3 {
		m := receiveOne(t, e.c, src)
		if err := changeVisibility(t.Context(), e.c, src, aws.ToString(m.ReceiptHandle), 0); err != nil {
			t.Fatal(err)
		}
	}
}
