package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// defaultMaxSize is SQS's MaximumMessageSize when a queue does not say.
const defaultMaxSize = 256 << 10

// Info is what the dispatcher needs to know of a queue's attributes.
type Info struct {
	URL  string
	ARN  string
	FIFO bool
	// WaitSeconds is the queue's ReceiveMessageWaitTimeSeconds.
	WaitSeconds int
	// MaxSize is the queue's MaximumMessageSize in bytes.
	MaxSize int
	// Redrive is the queue's RedrivePolicy, or nil without one.
	Redrive *Redrive
}

// Redrive is a queue's RedrivePolicy.
type Redrive struct {
	// TargetARN is the ARN of the dead-letter queue.
	TargetARN       string
	MaxReceiveCount int
}

// AllowsRetries reports whether a message given back to the queue will be
// delivered again rather than moved to the dead-letter queue by SQS.
func (i *Info) AllowsRetries() bool {
	return i.Redrive == nil || i.Redrive.MaxReceiveCount > 1
}

// Info returns the attributes of the queue at url, cached for
// Config.InfoTTL. The result is the caller's own copy.
func (q *Queues) Info(ctx context.Context, url string) (*Info, error) {
	info, err := q.infos.get(ctx, url, func(ctx context.Context) (*Info, error) {
		out, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl:       aws.String(url),
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
		})
		if err != nil {
			return nil, opError(ctx, "GetQueueAttributes", url, "", err)
		}
		info, err := parseInfo(url, out.Attributes)
		if err != nil {
			return nil, &OpError{Op: "GetQueueAttributes", Queue: url, Err: err}
		}
		return info, nil
	})
	if err != nil {
		return nil, err
	}
	cp := *info
	if info.Redrive != nil {
		r := *info.Redrive
		cp.Redrive = &r
	}
	return &cp, nil
}

func parseInfo(url string, attrs map[string]string) (*Info, error) {
	info := &Info{URL: url, ARN: attrs["QueueArn"], FIFO: attrs["FifoQueue"] == "true", MaxSize: defaultMaxSize}
	info.WaitSeconds, _ = strconv.Atoi(attrs["ReceiveMessageWaitTimeSeconds"])
	if n, err := strconv.Atoi(attrs["MaximumMessageSize"]); err == nil && n > 0 {
		info.MaxSize = n
	}
	if raw := attrs["RedrivePolicy"]; raw != "" {
		// maxReceiveCount comes as a number or a string depending on who
		// set the policy.
		var p struct {
			TargetARN       string          `json:"deadLetterTargetArn"`
			MaxReceiveCount json.RawMessage `json:"maxReceiveCount"`
		}
		if err := json.Unmarshal([]byte(raw), &p); err != nil {
			return nil, fmt.Errorf("parsing RedrivePolicy %q: %w", raw, err)
		}
		n, err := strconv.Atoi(strings.Trim(string(p.MaxReceiveCount), `"`))
		if err != nil || p.TargetARN == "" {
			return nil, fmt.Errorf("RedrivePolicy %q lacks deadLetterTargetArn or maxReceiveCount", raw)
		}
		info.Redrive = &Redrive{TargetARN: p.TargetARN, MaxReceiveCount: n}
	}
	return info, nil
}

// urlForARN resolves a queue ARN (arn:aws:sqs:region:account:name) to its
// URL, cached like Info. An ARN that names no SQS queue is a configuration
// error (ErrConfig).
func (q *Queues) urlForARN(ctx context.Context, arn string) (string, error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[5] == "" {
		return "", fmt.Errorf("%w: %q is not an SQS queue ARN", ErrConfig, arn)
	}
	return q.urls.get(ctx, arn, func(ctx context.Context) (string, error) {
		in := &sqs.GetQueueUrlInput{QueueName: aws.String(parts[5])}
		if parts[4] != "" {
			in.QueueOwnerAWSAccountId = aws.String(parts[4])
		}
		out, err := q.client.GetQueueUrl(ctx, in)
		if err != nil {
			return "", opError(ctx, "GetQueueUrl", arn, "", err)
		}
		if aws.ToString(out.QueueUrl) == "" {
			return "", &OpError{Op: "GetQueueUrl", Queue: arn, Err: errors.New("the answer holds no queue URL")}
		}
		return aws.ToString(out.QueueUrl), nil
	})
}
