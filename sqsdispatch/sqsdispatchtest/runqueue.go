package sqsdispatchtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Names RunJob gives its queues and FIFO messages.
const (
	runQueueName = "jobs"
	runGroupID   = "sqsdispatchtest"
)

// runQueues creates RunJob's queue and its dead-letter queue in c.
func runQueues(ctx context.Context, c *Client, s runSettings) (Queue, error) {
	suffix, attrs := "", map[string]string{}
	if s.fifo {
		suffix, attrs["FifoQueue"] = ".fifo", "true"
	}
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(runQueueName + "-dlq" + suffix), Attributes: attrs})
	if err != nil {
		return Queue{}, fmt.Errorf("sqsdispatchtest: RunJob: creating the dead-letter queue: %w", err)
	}
	arn, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		return Queue{}, fmt.Errorf("sqsdispatchtest: RunJob: reading the dead-letter queue's ARN: %w", err)
	}
	policy, err := json.Marshal(map[string]string{
		"deadLetterTargetArn": arn.Attributes[string(types.QueueAttributeNameQueueArn)],
		"maxReceiveCount":     strconv.Itoa(s.maxReceives),
	})
	if err != nil {
		return Queue{}, err
	}
	attrs["RedrivePolicy"] = string(policy)
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(runQueueName + suffix), Attributes: attrs})
	if err != nil {
		return Queue{}, fmt.Errorf("sqsdispatchtest: RunJob: creating the queue: %w", err)
	}
	return Queue{URL: aws.ToString(q.QueueUrl), DLQURL: aws.ToString(dlq.QueueUrl)}, nil
}

// sendRunMessage sends msg to the queue at url, to be received receives
// times, and returns its ID.
func sendRunMessage(ctx context.Context, c *Client, url string, msg Message, receives int, fifo bool) (string, error) {
	out, err := c.SendMessage(ctx, messageInput(url, msg, receives, fifo, runGroupID, runGroupID))
	if err != nil {
		return "", fmt.Errorf("sqsdispatchtest: RunJob: sending the message: %w", err)
	}
	return aws.ToString(out.MessageId), nil
}

// redeliver receives the only message of the queue at url n times, making
// it visible again after each receive, so that the dispatcher's receive
// is delivery n+1.
func redeliver(ctx context.Context, c *Client, url string, n int) error {
	for i := range n {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 1})
		if err == nil && len(out.Messages) != 1 {
			err = fmt.Errorf("got %d messages, want 1", len(out.Messages))
		}
		if err != nil {
			return fmt.Errorf("sqsdispatchtest: RunJob: delivery %d of the message: %w", i+1, err)
		}
		if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url),
			ReceiptHandle: out.Messages[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
			return fmt.Errorf("sqsdispatchtest: RunJob: making the message visible again: %w", err)
		}
	}
	return nil
}
