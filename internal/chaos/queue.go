package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/ledger"
	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
)

// Attributes sqsdispatch adds to a dead-lettered message: why, and which
// delivery.
const (
	reasonAttribute       = "sqsdispatch.reason"
	receiveCountAttribute = "sqsdispatch.receive_count"
)

// sendAll sends the bodies, ten to a batch.
func sendAll(ctx context.Context, c *sqs.Client, url string, bodies []ledger.Body) error {
	for i := 0; i < len(bodies); i += 10 {
		var entries []types.SendMessageBatchRequestEntry
		for j, b := range bodies[i:min(i+10, len(bodies))] {
			text, err := json.Marshal(b)
			if err != nil {
				return fmt.Errorf("chaos: %w", err)
			}
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), MessageBody: aws.String(string(text))})
		}
		out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
		if err != nil {
			return fmt.Errorf("chaos: sending messages: %w", err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("chaos: sending messages: %d of a batch failed: %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
		}
	}
	return nil
}

// counts reads a queue's approximate message counts.
func counts(ctx context.Context, c *sqs.Client, url string) (QueueCounts, error) {
	n, err := queue.ReadCounts(ctx, c, url)
	if err != nil {
		return QueueCounts{}, fmt.Errorf("chaos: reading queue counts: %w", err)
	}
	return QueueCounts{Visible: n.Visible, NotVisible: n.InFlight, Delayed: n.Delayed}, nil
}

// receiveAll receives every message visible in a queue, hiding each for
// hide seconds so that none is received twice, until two receives in a row
// come back empty.
func receiveAll(ctx context.Context, c *sqs.Client, url string, hide int32) ([]types.Message, error) {
	var msgs []types.Message
	for empty := 0; empty < 2; {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, VisibilityTimeout: hide, MessageAttributeNames: []string{"All"}})
		if err != nil {
			return msgs, fmt.Errorf("chaos: receiving: %w", err)
		}
		if len(out.Messages) == 0 {
			empty++
			continue
		}
		empty = 0
		msgs = append(msgs, out.Messages...)
	}
	return msgs, nil
}

// keyOf returns the key in a message's body, or "" for a body that is no
// chaos message.
func keyOf(m types.Message) string {
	var b ledger.Body
	if json.Unmarshal([]byte(aws.ToString(m.Body)), &b) != nil {
		return ""
	}
	return b.Key
}

// deadLetters reads the dead-letter queue.
func deadLetters(ctx context.Context, c *sqs.Client, url string) ([]DeadLetter, error) {
	msgs, err := receiveAll(ctx, c, url, 600)
	out := make([]DeadLetter, 0, len(msgs))
	for _, m := range msgs {
		d := DeadLetter{Key: keyOf(m), MessageID: aws.ToString(m.MessageId)}
		if a, ok := m.MessageAttributes[reasonAttribute]; ok {
			d.Reason = aws.ToString(a.StringValue)
		}
		if a, ok := m.MessageAttributes[receiveCountAttribute]; ok {
			d.ReceiveCount, _ = strconv.Atoi(aws.ToString(a.StringValue))
		}
		out = append(out, d)
	}
	return out, err
}
