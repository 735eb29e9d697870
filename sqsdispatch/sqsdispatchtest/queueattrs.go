package sqsdispatchtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Queue attribute defaults, as in SQS.
const (
	visibilityTimeoutDefault  = 30
	maximumMessageSizeDefault = 1 << 20
	retentionPeriodDefault    = 4 * 24 * 3600
	maxVisibilitySeconds      = 12 * 3600
)

// intAttrs are the numeric settable attributes and their ranges.
var intAttrs = map[string][2]int{
	"VisibilityTimeout":             {0, maxVisibilitySeconds},
	"MaximumMessageSize":            {1024, 1 << 20},
	"MessageRetentionPeriod":        {60, 14 * 24 * 3600},
	"DelaySeconds":                  {0, 900},
	"ReceiveMessageWaitTimeSeconds": {0, 20},
}

// storedAttrs are settable attributes that are kept and returned, with no
// effect on the queue's behaviour.
var storedAttrs = map[string]bool{
	"Policy":                       true,
	"KmsMasterKeyId":               true,
	"KmsDataKeyReusePeriodSeconds": true,
	"SqsManagedSseEnabled":         true,
	"RedriveAllowPolicy":           true,
}

func defaultAttrs(fifo bool) map[string]string {
	a := map[string]string{
		"VisibilityTimeout":             strconv.Itoa(visibilityTimeoutDefault),
		"MaximumMessageSize":            strconv.Itoa(maximumMessageSizeDefault),
		"MessageRetentionPeriod":        strconv.Itoa(retentionPeriodDefault),
		"DelaySeconds":                  "0",
		"ReceiveMessageWaitTimeSeconds": "0",
	}
	if fifo {
		a["FifoQueue"] = "true"
		a["ContentBasedDeduplication"] = "false"
		a["DeduplicationScope"] = "queue"
		a["FifoThroughputLimit"] = "perQueue"
	}
	return a
}

// checkAttrs validates settable attributes for a queue of the given type
// and returns them normalized. An empty RedrivePolicy stays empty: it
// removes the policy. c.mu must be held.
func (c *Client) checkAttrs(attrs map[string]string, fifo, creating bool) (map[string]string, error) {
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		if r, ok := intAttrs[k]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < r[0] || n > r[1] {
				return nil, invalidAttributeValue(k, fmt.Sprintf("must be an integer from %d to %d", r[0], r[1]))
			}
			out[k] = strconv.Itoa(n)
			continue
		}
		switch {
		case k == "RedrivePolicy":
			if v == "" {
				out[k] = ""
				continue
			}
			rp, err := parseRedrive(v)
			if err != nil {
				return nil, invalidParameter("Value %s for parameter RedrivePolicy is invalid. Reason: %v.", v, err)
			}
			dlq := c.queueByARN(rp.targetARN)
			if dlq == nil {
				return nil, invalidParameter("Value %s for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.", v)
			}
			if dlq.fifo != fifo {
				return nil, invalidParameter("Value %s for parameter RedrivePolicy is invalid. Reason: Dead-letter target must be the same type of queue as the source.", v)
			}
			b, _ := json.Marshal(struct {
				ARN string `json:"deadLetterTargetArn"`
				Max int    `json:"maxReceiveCount"`
			}{rp.targetARN, rp.maxReceiveCount})
			out[k] = string(b)
		case k == "FifoQueue" && creating:
			out[k] = v // checked by createQueue
		case k == "FifoQueue":
			return nil, invalidAttributeValue(k, "Modifying queue type is not supported.")
		case k == "ContentBasedDeduplication" && fifo:
			if v != "true" && v != "false" {
				return nil, invalidAttributeValue(k, "must be true or false")
			}
			out[k] = v
		case k == "DeduplicationScope" && fifo:
			if v != "queue" && v != "messageGroup" {
				return nil, invalidAttributeValue(k, "must be queue or messageGroup")
			}
			out[k] = v
		case k == "FifoThroughputLimit" && fifo:
			if v != "perQueue" && v != "perMessageGroupId" {
				return nil, invalidAttributeValue(k, "must be perQueue or perMessageGroupId")
			}
			out[k] = v
		case storedAttrs[k]:
			out[k] = v
		default:
			return nil, invalidAttributeName(k)
		}
	}
	return out, nil
}

// parseRedrive parses a RedrivePolicy, whose maxReceiveCount may be a
// number or a string.
func parseRedrive(raw string) (*redrive, error) {
	var p struct {
		ARN string          `json:"deadLetterTargetArn"`
		Max json.RawMessage `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if p.ARN == "" {
		return nil, fmt.Errorf("deadLetterTargetArn is missing")
	}
	n, err := strconv.Atoi(strings.Trim(string(p.Max), `"`))
	if err != nil || n < 1 || n > 1000 {
		return nil, fmt.Errorf("maxReceiveCount must be an integer from 1 to 1000")
	}
	return &redrive{targetARN: p.ARN, maxReceiveCount: n}, nil
}

// set applies checked attributes to q.
func (q *queue) set(attrs map[string]string) {
	for k, v := range attrs {
		if k == "RedrivePolicy" && v == "" {
			delete(q.attrs, k)
		} else {
			q.attrs[k] = v
		}
	}
	num := func(k string) int { n, _ := strconv.Atoi(q.attrs[k]); return n }
	q.fifo = q.attrs["FifoQueue"] == "true"
	q.contentDedup = q.attrs["ContentBasedDeduplication"] == "true"
	q.visibility = time.Duration(num("VisibilityTimeout")) * time.Second
	q.delay = time.Duration(num("DelaySeconds")) * time.Second
	q.waitSeconds = int32(num("ReceiveMessageWaitTimeSeconds"))
	q.maxSize = num("MaximumMessageSize")
	q.redrive = nil
	if raw := q.attrs["RedrivePolicy"]; raw != "" {
		q.redrive, _ = parseRedrive(raw)
	}
}

// SetQueueAttributes changes attributes of a queue, with the same checks
// as CreateQueue. An empty RedrivePolicy removes the policy. Messages in
// flight keep their visibility timeout.
func (c *Client) SetQueueAttributes(ctx context.Context, in *sqs.SetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.SetQueueAttributesOutput, error) {
	const op = "SetQueueAttributes"
	if err := c.begin(ctx, op, in); err != nil {
		return nil, err
	}
	out, err := c.setQueueAttributes(in)
	return finish(c, op, out, opError(op, err))
}

func (c *Client) setQueueAttributes(in *sqs.SetQueueAttributesInput) (*sqs.SetQueueAttributesOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, err := c.queueFor(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if len(in.Attributes) == 0 {
		return nil, missingParameter("Attribute.Name")
	}
	attrs, err := c.checkAttrs(in.Attributes, q.fifo, false)
	if err != nil {
		return nil, err
	}
	q.set(attrs)
	q.modified = c.now()
	c.notify()
	return &sqs.SetQueueAttributesOutput{}, nil
}

// GetQueueAttributes returns the attributes asked for ("All", or names),
// computed ones included: QueueArn, ApproximateNumberOfMessages,
// ApproximateNumberOfMessagesNotVisible, ApproximateNumberOfMessagesDelayed,
// CreatedTimestamp and LastModifiedTimestamp. The counts are exact.
// Attributes a queue does not have (RedrivePolicy without a policy,
// FifoQueue on a standard queue) are left out; an unknown name fails with
// InvalidAttributeName.
func (c *Client) GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	const op = "GetQueueAttributes"
	if err := c.begin(ctx, op, in); err != nil {
		return nil, err
	}
	out, err := c.getQueueAttributes(in)
	return finish(c, op, out, opError(op, err))
}

func (c *Client) getQueueAttributes(in *sqs.GetQueueAttributesInput) (*sqs.GetQueueAttributesOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, err := c.queueFor(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	now := c.now()
	visible, inflight, delayed := q.counts(now)
	all := make(map[string]string, len(q.attrs)+6)
	for k, v := range q.attrs {
		all[k] = v
	}
	all["QueueArn"] = q.arn
	all["ApproximateNumberOfMessages"] = strconv.Itoa(visible)
	all["ApproximateNumberOfMessagesNotVisible"] = strconv.Itoa(inflight)
	all["ApproximateNumberOfMessagesDelayed"] = strconv.Itoa(delayed)
	all["CreatedTimestamp"] = strconv.FormatInt(q.created.Unix(), 10)
	all["LastModifiedTimestamp"] = strconv.FormatInt(q.modified.Unix(), 10)

	out := &sqs.GetQueueAttributesOutput{Attributes: map[string]string{}}
	for _, name := range in.AttributeNames {
		if name == types.QueueAttributeNameAll {
			out.Attributes = all
			return out, nil
		}
	}
	for _, name := range in.AttributeNames {
		if !known(name) {
			return nil, invalidAttributeName(string(name))
		}
		if v, ok := all[string(name)]; ok {
			out.Attributes[string(name)] = v
		}
	}
	return out, nil
}

// known reports whether SQS knows a queue attribute of this name.
func known(name types.QueueAttributeName) bool {
	for _, v := range name.Values() {
		if v == name {
			return true
		}
	}
	return false
}
