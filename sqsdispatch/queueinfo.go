package sqsdispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// queueInfo is what the dispatcher needs to know of a queue's attributes.
type queueInfo struct {
	url         string
	arn         string
	fifo        bool
	waitSeconds int
	maxSize     int
	redrive     *redrivePolicy // nil without a RedrivePolicy
}

type redrivePolicy struct {
	TargetARN       string
	MaxReceiveCount int
}

// allowsRetries reports whether a message given back to the queue will be
// delivered again rather than moved to the dead-letter queue by SQS.
func (q *queueInfo) allowsRetries() bool {
	return q.redrive == nil || q.redrive.MaxReceiveCount > 1
}

// queueCache memoizes queue attributes and URLs; a failed fetch is not
// cached, so the next call tries again.
type queueCache struct {
	mu    sync.Mutex
	infos map[string]*queueInfo
	urls  map[string]string // by ARN
}

func (c *queueCache) info(ctx context.Context, client Client, url string) (*queueInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if qi, ok := c.infos[url]; ok {
		return qi, nil
	}
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
	})
	if err != nil {
		return nil, sqsError("GetQueueAttributes", url, "", err)
	}
	qi, err := parseQueueInfo(url, out.Attributes)
	if err != nil {
		return nil, &DispatcherError{Op: "GetQueueAttributes", Queue: url, Err: err}
	}
	if c.infos == nil {
		c.infos = make(map[string]*queueInfo)
	}
	c.infos[url] = qi
	return qi, nil
}

func parseQueueInfo(url string, attrs map[string]string) (*queueInfo, error) {
	qi := &queueInfo{url: url, arn: attrs["QueueArn"], fifo: attrs["FifoQueue"] == "true", maxSize: 256 << 10}
	qi.waitSeconds, _ = strconv.Atoi(attrs["ReceiveMessageWaitTimeSeconds"])
	if n, err := strconv.Atoi(attrs["MaximumMessageSize"]); err == nil && n > 0 {
		qi.maxSize = n
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
		qi.redrive = &redrivePolicy{TargetARN: p.TargetARN, MaxReceiveCount: n}
	}
	return qi, nil
}

// urlForARN resolves a queue ARN (arn:aws:sqs:region:account:name) to its
// URL.
func (c *queueCache) urlForARN(ctx context.Context, client Client, arn string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u, ok := c.urls[arn]; ok {
		return u, nil
	}
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[2] != "sqs" {
		return "", fmt.Errorf("sqsdispatch: %q is not an SQS queue ARN", arn)
	}
	in := &sqs.GetQueueUrlInput{QueueName: aws.String(parts[5])}
	if parts[4] != "" {
		in.QueueOwnerAWSAccountId = aws.String(parts[4])
	}
	out, err := client.GetQueueUrl(ctx, in)
	if err != nil {
		return "", sqsError("GetQueueUrl", arn, "", err)
	}
	if c.urls == nil {
		c.urls = make(map[string]string)
	}
	c.urls[arn] = aws.ToString(out.QueueUrl)
	return c.urls[arn], nil
}
