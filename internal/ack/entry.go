package ack

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
)

// Client is the SQS API the Batcher calls; *sqs.Client satisfies it.
type Client interface {
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// kind is what an entry asks for.
type kind uint8

const (
	deleteKind kind = iota
	visibilityKind
)

// op is the name the errors of an entry of k give its operation: the
// single call the entry stands for.
func (k kind) op() string {
	if k == deleteKind {
		return "DeleteMessage"
	}
	return "ChangeMessageVisibility"
}

// batchKey names the open batch of a queue and a kind.
type batchKey struct {
	queue string
	kind  kind
}

// batch is the entries of one call.
type batch struct {
	key     batchKey
	entries []*entry
	stop    chan struct{} // closed when the batch is taken: its window's goroutine ends
}

// entry is one acknowledgement, and the caller waiting for it.
type entry struct {
	kind     kind
	queue    string
	receipt  string
	msgID    string
	secs     int32     // visibilityKind: the visibility timeout
	deadline time.Time // of the caller's context; zero: none
	done     chan error
	sent     bool // taken out of its open batch to be sent; guarded by the Batcher's mu
}

// answer gives the caller its answer; an entry is answered once.
func (e *entry) answer(err error) { e.done <- err }

// fail returns err as the error of e's operation.
func (e *entry) fail(err error) error {
	return &queue.OpError{Op: e.kind.op(), Queue: e.queue, MessageID: e.msgID, Err: err}
}
