package sqsdispatchtest

import (
	"context"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// handleState is what a receipt handle refers to.
type handleState int

const (
	handleLatest handleState = iota // the latest receive of a stored message
	handleStale                     // an earlier receive of a message received again since
	handleGone                      // a message that was deleted or redriven
)

// resolve finds the message a receipt handle of q refers to. A string that
// is not a receipt handle of q fails with ReceiptHandleIsInvalid.
func resolve(q *queue, handle *string) (*message, handleState, error) {
	if handle == nil || *handle == "" {
		return nil, 0, missingParameter("ReceiptHandle")
	}
	id, ok := handleMessageID(q, *handle)
	if !ok {
		return nil, 0, receiptHandleIsInvalid(*handle)
	}
	e, ok := q.byID[id]
	if !ok {
		return nil, handleGone, nil
	}
	m := e.Value.(*message)
	if m.handle != *handle {
		return m, handleStale, nil
	}
	return m, handleLatest, nil
}

// DeleteMessage deletes the message a receipt handle refers to, whether or
// not its visibility timeout has ended. As SQS documents, only the handle
// of the message's latest receive deletes it: a handle from an earlier
// receive succeeds without deleting anything, and so does a handle of a
// message already deleted. A string that is not a receipt handle of the
// queue fails with ReceiptHandleIsInvalid.
func (c *Client) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	const op = "DeleteMessage"
	if err := c.begin(ctx, op, in); err != nil {
		return nil, err
	}
	out, err := c.deleteMessage(in)
	return finish(c, op, out, opError(op, err))
}

func (c *Client) deleteMessage(in *sqs.DeleteMessageInput) (*sqs.DeleteMessageOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, err := c.queueFor(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	m, st, err := resolve(q, in.ReceiptHandle)
	if err != nil {
		return nil, err
	}
	if st == handleLatest {
		q.remove(m)
		c.notify() // the next message of a FIFO group may go out now
	}
	return &sqs.DeleteMessageOutput{}, nil
}

// DeleteMessageBatch deletes up to ten messages, each as DeleteMessage
// does, and reports each entry in Successful or in Failed with the
// error's code and message (FailEntry fails single entries). The whole
// call fails with EmptyBatchRequest, TooManyEntriesInBatchRequest,
// BatchEntryIdsNotDistinct or InvalidBatchEntryId when the entries are not
// a valid batch.
func (c *Client) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	const op = "DeleteMessageBatch"
	if err := c.begin(ctx, op, in); err != nil {
		return nil, err
	}
	out, err := c.deleteMessageBatch(in)
	return finish(c, op, out, opError(op, err))
}

func (c *Client) deleteMessageBatch(in *sqs.DeleteMessageBatchInput) (*sqs.DeleteMessageBatchOutput, error) {
	ids := make([]*string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.Id
	}
	if err := checkBatchIDs("DeleteMessageBatchRequestEntry", ids); err != nil {
		return nil, err
	}
	c.mu.Lock()
	_, err := c.queueFor(in.QueueUrl)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := &sqs.DeleteMessageBatchOutput{Successful: []types.DeleteMessageBatchResultEntry{}, Failed: []types.BatchResultErrorEntry{}}
	for _, e := range in.Entries {
		err := c.faults.entryFailure("DeleteMessageBatch", aws.ToString(e.ReceiptHandle))
		if err == nil {
			_, err = c.deleteMessage(&sqs.DeleteMessageInput{QueueUrl: in.QueueUrl, ReceiptHandle: e.ReceiptHandle})
		}
		if err != nil {
			out.Failed = append(out.Failed, batchFailure(*e.Id, err))
			continue
		}
		out.Successful = append(out.Successful, types.DeleteMessageBatchResultEntry{Id: aws.String(*e.Id)})
	}
	return out, nil
}

// ChangeMessageVisibility makes a message in flight visible again after
// VisibilityTimeout seconds from now (0: at once). It fails, with the
// codes SQS uses, when the handle is not a receipt handle of the queue
// (ReceiptHandleIsInvalid), when it is from an earlier receive of a message
// received again since or of a message deleted since
// (InvalidParameterValue, naming the receipt handle), when the message is
// not in flight (MessageNotInflight), and when the timeout is outside 0 to
// 43200 seconds or would end more than 12 hours after the receive the
// handle is from (InvalidParameterValue).
func (c *Client) ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	const op = "ChangeMessageVisibility"
	if err := c.begin(ctx, op, in); err != nil {
		return nil, err
	}
	err := c.changeVisibilityOne(in.QueueUrl, in.ReceiptHandle, in.VisibilityTimeout)
	return finish(c, op, &sqs.ChangeMessageVisibilityOutput{}, opError(op, err))
}

func (c *Client) changeVisibilityOne(url, handle *string, secs int32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, err := c.queueFor(url)
	if err != nil {
		return err
	}
	return c.changeVisibility(q, handle, secs, c.now())
}

// changeVisibility applies one visibility change. c.mu must be held.
func (c *Client) changeVisibility(q *queue, handle *string, secs int32, now time.Time) error {
	if secs < 0 || secs > maxVisibilitySeconds {
		return invalidParameter("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.", secs)
	}
	m, st, err := resolve(q, handle)
	switch {
	case err != nil:
		return err
	case st == handleGone:
		return invalidParameter("Value %s for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.", *handle)
	case st == handleStale:
		return invalidParameter("Value %s for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.", *handle)
	case m.state(now) != StateInFlight:
		return messageNotInflight()
	}
	until := now.Add(time.Duration(secs) * time.Second)
	if until.After(m.lastReceive.Add(maxVisibilitySeconds * time.Second)) {
		return invalidParameter("Value %d for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]", secs)
	}
	m.visibleAt = until
	c.notify()
	return nil
}

// batchIDRE matches a valid batch entry ID.
var batchIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// ChangeMessageVisibilityBatch applies up to ten visibility changes, each
// as ChangeMessageVisibility does, and reports each entry in Successful or
// in Failed with the error's code and message. The whole call fails with
// EmptyBatchRequest, TooManyEntriesInBatchRequest, BatchEntryIdsNotDistinct
// or InvalidBatchEntryId when the entries are not a valid batch.
func (c *Client) ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	const op = "ChangeMessageVisibilityBatch"
	if err := c.begin(ctx, op, in); err != nil {
		return nil, err
	}
	out, err := c.changeVisibilityBatch(in)
	return finish(c, op, out, opError(op, err))
}

func (c *Client) changeVisibilityBatch(in *sqs.ChangeMessageVisibilityBatchInput) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	ids := make([]*string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.Id
	}
	if err := checkBatchIDs("ChangeMessageVisibilityBatchRequestEntry", ids); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	q, err := c.queueFor(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	now := c.now()
	out := &sqs.ChangeMessageVisibilityBatchOutput{
		Successful: []types.ChangeMessageVisibilityBatchResultEntry{},
		Failed:     []types.BatchResultErrorEntry{},
	}
	for _, e := range in.Entries {
		err := c.faults.entryFailure("ChangeMessageVisibilityBatch", aws.ToString(e.ReceiptHandle))
		if err == nil {
			err = c.changeVisibility(q, e.ReceiptHandle, e.VisibilityTimeout, now)
		}
		if err != nil {
			out.Failed = append(out.Failed, batchFailure(*e.Id, err))
			continue
		}
		out.Successful = append(out.Successful, types.ChangeMessageVisibilityBatchResultEntry{Id: aws.String(*e.Id)})
	}
	return out, nil
}

// checkBatchIDs checks the entry IDs of a batch request whose entries are
// named kind ("ChangeMessageVisibilityBatchRequestEntry").
func checkBatchIDs(kind string, ids []*string) error {
	switch {
	case len(ids) == 0:
		return &types.EmptyBatchRequest{Message: aws.String("There should be at least one " + kind + " in the request.")}
	case len(ids) > 10:
		return &types.TooManyEntriesInBatchRequest{Message: aws.String("Maximum number of entries per request are 10. You have sent " + strconv.Itoa(len(ids)) + ".")}
	}
	seen := make(map[string]bool, len(ids))
	for _, p := range ids {
		id := aws.ToString(p)
		if !batchIDRE.MatchString(id) {
			return &types.InvalidBatchEntryId{Message: aws.String("A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")}
		}
		if seen[id] {
			return &types.BatchEntryIdsNotDistinct{Message: aws.String("Id " + id + " repeated.")}
		}
		seen[id] = true
	}
	return nil
}
