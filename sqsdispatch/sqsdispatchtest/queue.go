package sqsdispatchtest

import (
	"container/list"
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// queue is one queue and the messages it holds.
type queue struct {
	name, url, arn string
	created        time.Time
	modified       time.Time
	// attrs are the settable attributes, defaults included, normalized.
	attrs map[string]string

	// Parsed from attrs.
	fifo         bool
	contentDedup bool
	visibility   time.Duration
	delay        time.Duration
	waitSeconds  int32
	maxSize      int
	redrive      *redrive

	msgs  list.List                // of *message, in the order sent
	byID  map[string]*list.Element // the elements of msgs by message ID
	dedup map[string]dedupRecord   // FIFO: by deduplication ID
	// dedupOrder holds the keys of dedup in the order they were added.
	dedupOrder []string
	seq        uint64 // FIFO: last sequence number given
}

// redrive is a queue's parsed RedrivePolicy.
type redrive struct {
	targetARN       string
	maxReceiveCount int
}

// queueNameRE matches a queue name without its ".fifo" suffix.
var queueNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// queueFor returns the queue with this URL. c.mu must be held.
func (c *Client) queueFor(url *string) (*queue, error) {
	if url == nil || *url == "" {
		return nil, missingParameter("QueueUrl")
	}
	q, ok := c.queues[*url]
	if !ok {
		return nil, queueDoesNotExist()
	}
	return q, nil
}

// queueByARN returns the queue with this ARN, or nil. c.mu must be held.
func (c *Client) queueByARN(arn string) *queue {
	i := strings.LastIndexByte(arn, ':')
	if q := c.byName[arn[i+1:]]; q != nil && q.arn == arn {
		return q
	}
	return nil
}

// CreateQueue creates a queue, or returns the URL of an existing queue of
// that name when the attributes given match its own (else it fails with
// QueueNameExists), as SQS does. A FIFO queue's name ends in ".fifo" and
// its attributes say FifoQueue "true". A RedrivePolicy must name a queue
// of this Client of the same type, by ARN. Tags are accepted and ignored.
func (c *Client) CreateQueue(ctx context.Context, in *sqs.CreateQueueInput, optFns ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error) {
	const op = "CreateQueue"
	if err := c.begin(ctx, op, in); err != nil {
		return nil, err
	}
	out, err := c.createQueue(in)
	return finish(c, op, out, opError(op, err))
}

func (c *Client) createQueue(in *sqs.CreateQueueInput) (*sqs.CreateQueueOutput, error) {
	name := aws.ToString(in.QueueName)
	if name == "" {
		return nil, missingParameter("QueueName")
	}
	fifo := strings.HasSuffix(name, ".fifo")
	if len(name) > 80 || !queueNameRE.MatchString(strings.TrimSuffix(name, ".fifo")) {
		return nil, invalidParameter("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	if v, ok := in.Attributes["FifoQueue"]; ok && v != "true" && v != "false" {
		return nil, invalidAttributeValue("FifoQueue", "must be true or false")
	}
	if (in.Attributes["FifoQueue"] == "true") != fifo {
		return nil, invalidParameter("The name of a FIFO queue must end with the .fifo suffix, and only a FIFO queue's name may")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	attrs, err := c.checkAttrs(in.Attributes, fifo, true)
	if err != nil {
		return nil, err
	}
	if q, ok := c.byName[name]; ok {
		for k, v := range attrs {
			if q.attrs[k] != v {
				return nil, &types.QueueNameExists{Message: aws.String("A queue already exists with the same name and a different value for attribute " + k)}
			}
		}
		return &sqs.CreateQueueOutput{QueueUrl: aws.String(q.url)}, nil
	}
	now := c.now()
	q := &queue{
		name:     name,
		url:      c.baseURL + "/" + name,
		arn:      "arn:aws:sqs:" + c.region + ":" + c.account + ":" + name,
		created:  now,
		modified: now,
		attrs:    defaultAttrs(fifo),
		byID:     make(map[string]*list.Element),
	}
	q.set(attrs)
	c.queues[q.url] = q
	c.byName[name] = q
	return &sqs.CreateQueueOutput{QueueUrl: aws.String(q.url)}, nil
}

// GetQueueUrl returns the URL of the queue with the given name. An unknown
// name, or an owner account ID other than the Client's, fails with
// QueueDoesNotExist.
func (c *Client) GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) {
	const op = "GetQueueUrl"
	if err := c.begin(ctx, op, in); err != nil {
		return nil, err
	}
	out, err := c.getQueueURL(in)
	return finish(c, op, out, opError(op, err))
}

func (c *Client) getQueueURL(in *sqs.GetQueueUrlInput) (*sqs.GetQueueUrlOutput, error) {
	name := aws.ToString(in.QueueName)
	if name == "" {
		return nil, missingParameter("QueueName")
	}
	if owner := aws.ToString(in.QueueOwnerAWSAccountId); owner != "" && owner != c.account {
		return nil, queueDoesNotExist()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	q, ok := c.byName[name]
	if !ok {
		return nil, queueDoesNotExist()
	}
	return &sqs.GetQueueUrlOutput{QueueUrl: aws.String(q.url)}, nil
}

// counts returns how many messages of q are visible, in flight and
// delayed at now.
func (q *queue) counts(now time.Time) (visible, inflight, delayed int) {
	for e := q.msgs.Front(); e != nil; e = e.Next() {
		switch e.Value.(*message).state(now) {
		case StateVisible:
			visible++
		case StateInFlight:
			inflight++
		case StateDelayed:
			delayed++
		}
	}
	return visible, inflight, delayed
}

// add appends m to q.
func (q *queue) add(m *message) {
	q.byID[m.id] = q.msgs.PushBack(m)
}

// remove deletes m from q.
func (q *queue) remove(m *message) {
	if e, ok := q.byID[m.id]; ok {
		q.msgs.Remove(e)
		delete(q.byID, m.id)
	}
}

// nextSeq returns the next FIFO sequence number of q.
func (q *queue) nextSeq() string {
	q.seq++
	s := strconv.FormatUint(q.seq, 10)
	return strings.Repeat("0", max(0, 20-len(s))) + s
}
