package sqsdispatchtest

import (
	"cmp"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/resume"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// checkMessage refuses a Message that no sender could send as it stands:
// the message is to be received receives times.
func checkMessage(msg Message, receives int) error {
	switch {
	case msg.Body == "":
		return errors.New("Message.Body is empty; SQS accepts no empty message body")
	case len(msg.Checkpoint) > sqsdispatch.MaxCheckpointBytes:
		return fmt.Errorf("Message.Checkpoint holds %d bytes, more than sqsdispatch.MaxCheckpointBytes (%d) allows a job to record",
			len(msg.Checkpoint), sqsdispatch.MaxCheckpointBytes)
	case msg.Runs != 0 && msg.Runs < receives:
		return fmt.Errorf("Message.Runs (%d) must be at least the message's receive count (%d): the runs count every receive", msg.Runs, receives)
	}
	return nil
}

// messageInput is the SendMessage input of msg for the queue at url,
// whose job is to see it on its receives-th receive. When msg continues
// earlier runs (a Checkpoint, or Runs above receives), it carries the
// dispatcher's resume attribute for the chain origin. On a FIFO queue it
// goes to msg.GroupID (default runGroupID) with deduplication ID dedupID.
func messageInput(url string, msg Message, receives int, fifo bool, origin, dedupID string) *sqs.SendMessageInput {
	in := &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(msg.Body)}
	if len(msg.Attributes) > 0 {
		in.MessageAttributes = make(map[string]types.MessageAttributeValue, len(msg.Attributes)+1)
		for k, v := range msg.Attributes {
			av := types.MessageAttributeValue{DataType: aws.String(v.DataType)}
			if v.BinaryValue != nil {
				av.BinaryValue = v.BinaryValue
			} else {
				av.StringValue = aws.String(v.StringValue)
			}
			in.MessageAttributes[k] = av
		}
	}
	if msg.Checkpoint != nil || msg.Runs > receives {
		if in.MessageAttributes == nil {
			in.MessageAttributes = make(map[string]types.MessageAttributeValue, 1)
		}
		st := resume.State{Origin: origin, Runs: max(msg.Runs-receives, 0), Checkpoint: msg.Checkpoint}
		in.MessageAttributes[resume.Attr] = types.MessageAttributeValue{DataType: aws.String(resume.DataType), BinaryValue: st.Encode()}
	}
	switch {
	case fifo:
		in.MessageGroupId = aws.String(cmp.Or(msg.GroupID, runGroupID))
		in.MessageDeduplicationId = aws.String(dedupID)
	case msg.GroupID != "":
		in.MessageGroupId = aws.String(msg.GroupID)
	}
	return in
}
