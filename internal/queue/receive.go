package queue

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// MaxReceive is the most messages one ReceiveMessage call returns.
const MaxReceive = 10

// Received is one received message.
type Received struct {
	// Queue is the URL of the queue the message came from.
	Queue   string
	Message types.Message
	// At is when the receive call started: the message's visibility
	// timeout runs from no earlier than this.
	At time.Time
}

// pollState tracks the receives of one queue for GiveBackDelay.
type pollState struct {
	inflight int
	// failedAt is when a receive last failed (cancelled, timed out or
	// broken off): its long poll may still be alive on the server's side.
	failedAt time.Time
	// wait is the longest WaitTimeSeconds sent to the queue; 0 if none
	// was, so the queue's own applies.
	wait time.Duration
}

// Receive asks the queues at urls, in priority order, for at most n
// messages (capped at MaxReceive) with all their system and message
// attributes, and returns the first non-empty answer. Only the last queue
// long-polls: with Config.WaitTime, else with its own wait; the queues
// above it poll with their own ReceiveMessageWaitTimeSeconds (which Check
// warns about unless it is 0). The first failure ends the round. The
// receives in flight and the last one that failed are remembered per queue
// for GiveBackDelay. Once halt is closed (nil: never), no further poll is
// started; one under way goes on until it returns or ctx ends: cancelling
// a long poll can leave messages SQS had already handed out to it
// invisible for their whole visibility timeout.
func (q *Queues) Receive(ctx context.Context, urls []string, n int, halt <-chan struct{}) ([]Received, error) {
	if n <= 0 {
		return nil, nil
	}
	n = min(n, MaxReceive)
	for i, url := range urls {
		select {
		case <-halt:
			return nil, nil
		default:
		}
		msgs, err := q.receiveFrom(ctx, url, n, i == len(urls)-1)
		if err != nil || len(msgs) > 0 {
			return msgs, err
		}
	}
	return nil, nil
}

func (q *Queues) receiveFrom(ctx context.Context, url string, n int, longPoll bool) ([]Received, error) {
	in := &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(url),
		MaxNumberOfMessages:         int32(n),
		VisibilityTimeout:           int32(q.cfg.Visibility / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	}
	// The SDK leaves a zero WaitTimeSeconds out of the request, so the
	// queue's own ReceiveMessageWaitTimeSeconds applies.
	var wait time.Duration
	if longPoll && q.cfg.WaitTime >= time.Second {
		in.WaitTimeSeconds = int32(q.cfg.WaitTime / time.Second)
		wait = time.Duration(in.WaitTimeSeconds) * time.Second
	}
	start := q.pollStarted(url, wait)
	out, err := q.client.ReceiveMessage(ctx, in)
	q.pollEnded(url, err != nil)
	if err != nil {
		return nil, opError(ctx, "ReceiveMessage", url, "", err)
	}
	msgs := make([]Received, 0, len(out.Messages))
	for _, m := range out.Messages {
		msgs = append(msgs, Received{Queue: url, Message: m, At: start})
	}
	return msgs, nil
}

// pollStarted records a receive from url with the given wait and returns
// the time it started.
func (q *Queues) pollStarted(url string, wait time.Duration) time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := q.polls[url]
	if p == nil {
		p = &pollState{}
		q.polls[url] = p
	}
	p.inflight++
	p.wait = max(p.wait, wait)
	return q.clock.Now()
}

// pollEnded records the end of a receive from url.
func (q *Queues) pollEnded(url string, failed bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := q.polls[url]
	p.inflight--
	if failed {
		p.failedAt = q.clock.Now()
	}
}

// GiveBackDelay returns the visibility a message given back to the queue at
// url should get: 0, or the queue's long-poll wait plus a second while a
// receive of this process from that queue is in flight or failed within
// the wait. A long poll cancelled or broken off on this side may still be
// alive on the server's side and would take the message and hide it for a
// whole visibility timeout.
func (q *Queues) GiveBackDelay(ctx context.Context, url string) (time.Duration, error) {
	q.mu.Lock()
	var (
		inflight bool
		failedAt time.Time
		wait     time.Duration
	)
	if p := q.polls[url]; p != nil {
		inflight, failedAt, wait = p.inflight > 0, p.failedAt, p.wait
	}
	q.mu.Unlock()
	if !inflight && failedAt.IsZero() {
		return 0, nil
	}
	if wait == 0 {
		info, err := q.Info(ctx, url)
		if err != nil {
			return 0, err
		}
		wait = time.Duration(info.WaitSeconds) * time.Second
	}
	if inflight || q.clock.Now().Sub(failedAt) < wait+time.Second {
		return wait + time.Second, nil
	}
	return 0, nil
}
