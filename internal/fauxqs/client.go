package fauxqs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// The dummy region and credentials of the server's clients: it accepts
// any.
const (
	Region    = "us-east-1"
	AccessKey = "test"
	SecretKey = "test"
)

// Client returns an SQS client that sends every request to the server,
// whatever host the queue URLs name, with dummy credentials.
func (s *Server) Client(ctx context.Context) (*sqs.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, "")),
	)
	if err != nil {
		return nil, err
	}
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(s.Endpoint) }), nil
}

// QueueSpec describes a queue (and its dead-letter queue) to create.
type QueueSpec struct {
	Name string
	// MaxReceiveCount > 0 creates a dead-letter queue NAME-dlq and a
	// redrive policy with this count.
	MaxReceiveCount int
	FIFO            bool
	// WaitSeconds is the queue's ReceiveMessageWaitTimeSeconds.
	WaitSeconds int
	// VisibilitySeconds is the queue's default visibility timeout; 0 keeps
	// SQS's default.
	VisibilitySeconds int
}

// Queues are the URLs of a created queue and its dead-letter queue.
type Queues struct {
	URL    string
	DLQURL string
}

// CreateQueues creates the queues of spec.
func CreateQueues(ctx context.Context, c *sqs.Client, spec QueueSpec) (Queues, error) {
	var q Queues
	attrs := map[string]string{"ReceiveMessageWaitTimeSeconds": strconv.Itoa(spec.WaitSeconds)}
	if spec.VisibilitySeconds > 0 {
		attrs["VisibilityTimeout"] = strconv.Itoa(spec.VisibilitySeconds)
	}
	suffix := ""
	if spec.FIFO {
		suffix = ".fifo"
		attrs["FifoQueue"] = "true"
	}
	if spec.MaxReceiveCount > 0 {
		dlqAttrs := map[string]string{}
		if spec.FIFO {
			dlqAttrs["FifoQueue"] = "true"
		}
		url, err := createQueue(ctx, c, spec.Name+"-dlq"+suffix, dlqAttrs)
		if err != nil {
			return q, err
		}
		q.DLQURL = url
		out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
		if err != nil {
			return q, fmt.Errorf("fauxqs: reading DLQ ARN: %w", err)
		}
		policy, _ := json.Marshal(map[string]string{
			"deadLetterTargetArn": out.Attributes["QueueArn"],
			"maxReceiveCount":     strconv.Itoa(spec.MaxReceiveCount),
		})
		attrs["RedrivePolicy"] = string(policy)
	}
	url, err := createQueue(ctx, c, spec.Name+suffix, attrs)
	q.URL = url
	return q, err
}

func createQueue(ctx context.Context, c *sqs.Client, name string, attrs map[string]string) (string, error) {
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		return "", fmt.Errorf("fauxqs: creating queue %s: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), nil
}
