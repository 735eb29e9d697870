package queue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/envelope"
)

func continueInput(queue string) ContinueInput {
	return ContinueInput{Queue: queue, MessageID: "m-1", Copy: envelope.Copy{Body: "body",
		Attributes: map[string]types.MessageAttributeValue{"job": stringAttr("resize")}, Resume: []byte("state")}}
}

func TestContinue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fifo       bool
		group      string
		attrs      int
		sendErr    error
		wantID     string
		wantIs     error
		wantWrites []string
	}{
		{name: "sends the copy, deletes nothing", wantID: "copy", wantWrites: []string{"SendMessage"}},
		{name: "FIFO keeps the group", fifo: true, group: "g-1", wantID: "copy", wantWrites: []string{"SendMessage"}},
		{name: "a fair queue keeps the group, without a deduplication ID", group: "tenant-1", wantID: "copy", wantWrites: []string{"SendMessage"}},
		{name: "FIFO without a group: a group of its own", fifo: true, wantID: "copy", wantWrites: []string{"SendMessage"}},
		{name: "send fails", sendErr: apiError("ServiceUnavailable"), wantWrites: []string{"SendMessage"}},
		{name: "too many attributes: nothing sent", attrs: 10, wantIs: envelope.ErrTooManyAttributes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Config{})
			url := b.client.addQueue("src", nil)
			in := continueInput(url)
			in.FIFO, in.Copy.GroupID = tt.fifo, tt.group
			if tt.fifo {
				in.DedupID = "d-1"
			}
			for i := range tt.attrs {
				in.Copy.Attributes[fmt.Sprintf("a%d", i)] = stringAttr("v")
			}
			b.client.send = func(context.Context, *sqs.SendMessageInput) error { return tt.sendErr }
			id, err := b.q.SendCopy(b.ctx, in)
			if id != tt.wantID {
				t.Errorf("id = %q; want %q", id, tt.wantID)
			}
			wantErr := tt.sendErr != nil || tt.wantIs != nil
			if (err != nil) != wantErr || tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v; want an error: %v (is %v)", err, wantErr, tt.wantIs)
			}
			var writes []string
			for _, c := range b.client.allCalls() {
				if m, _, _ := strings.Cut(c, " "); m == "SendMessage" || m == "DeleteMessage" {
					writes = append(writes, m)
				}
			}
			if !slices.Equal(writes, tt.wantWrites) {
				t.Fatalf("writes = %v; want %v", writes, tt.wantWrites)
			}
			if len(writes) == 0 {
				return
			}
			send := inputsOf[*sqs.SendMessageInput](b.client)[0]
			if aws.ToString(send.QueueUrl) != url || aws.ToString(send.MessageBody) != "body" || send.MessageAttributes["job"].StringValue == nil ||
				string(send.MessageAttributes[envelope.AttrResume].BinaryValue) != "state" {
				t.Errorf("sent %+v; want the body, the attributes and the resume state to the same queue", send)
			}
			wantDedup, wantGroup := map[bool]string{true: "d-1"}[tt.fifo], tt.group
			if tt.fifo && wantGroup == "" {
				wantGroup = defaultGroupID
			}
			if g, d := aws.ToString(send.MessageGroupId), aws.ToString(send.MessageDeduplicationId); g != wantGroup || d != wantDedup {
				t.Errorf("group %q, deduplication ID %q; want %q, %q", g, d, wantGroup, wantDedup)
			}
		})
	}
}
