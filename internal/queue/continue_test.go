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
)

func continueInput(queue string) ContinueInput {
	return ContinueInput{Queue: queue, Receipt: "r-1", MessageID: "m-1", Body: "body",
		MessageAttributes: map[string]types.MessageAttributeValue{"job": stringAttr("resize")}}
}

func TestContinue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fifo       bool
		attrs      int
		sendErr    error
		wantID     string
		wantIs     error
		wantWrites []string
	}{
		{name: "sends the copy, deletes nothing", wantID: "copy", wantWrites: []string{"SendMessage"}},
		{name: "FIFO keeps the group", fifo: true, wantID: "copy", wantWrites: []string{"SendMessage"}},
		{name: "send fails", sendErr: apiError("ServiceUnavailable"), wantWrites: []string{"SendMessage"}},
		{name: "too many attributes: nothing sent", attrs: 11, wantIs: ErrTooManyAttributes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Config{})
			url := b.client.addQueue("src", nil)
			in := continueInput(url)
			if tt.fifo {
				in.GroupID, in.DedupID = "g-1", "d-1"
			}
			for i := range tt.attrs {
				in.MessageAttributes[fmt.Sprintf("a%d", i)] = stringAttr("v")
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
			if aws.ToString(send.QueueUrl) != url || aws.ToString(send.MessageBody) != "body" || send.MessageAttributes["job"].StringValue == nil {
				t.Errorf("sent %+v; want the body and attributes to the same queue", send)
			}
			if g, d := aws.ToString(send.MessageGroupId), aws.ToString(send.MessageDeduplicationId); tt.fifo && (g != "g-1" || d != "d-1") || !tt.fifo && (g != "" || d != "") {
				t.Errorf("group %q, deduplication ID %q", g, d)
			}
		})
	}
}
