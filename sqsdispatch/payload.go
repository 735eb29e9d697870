package sqsdispatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/payload"
)

// PayloadStore reads the payloads that producers stored in S3 because
// they were too large for SQS, in the format of AWS's extended clients
// for Java and Python: the message body is a pointer,
//
//	["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"…","s3Key":"…"}]
//
// with an ExtendedPayloadSize message attribute. Set Config.Payloads to
// one (package s3payload adapts an S3 client) and a job whose message is
// such a pointer receives the payload as its Body; the dispatcher itself
// never holds the payload whole, it streams it to the job's child.
type PayloadStore interface {
	// OpenPayload opens the object bucket/key for reading and returns its
	// size in bytes. It returns an error wrapping ErrPayloadNotFound when
	// the object does not exist.
	OpenPayload(ctx context.Context, bucket, key string) (body io.ReadCloser, size int64, err error)
	// DeletePayload deletes the object bucket/key. Deleting an object
	// that does not exist is not an error.
	DeletePayload(ctx context.Context, bucket, key string) error
}

// payloadBody is a payload being read from its store.
type payloadBody struct {
	r      io.ReadCloser
	size   int64
	cancel context.CancelFunc
}

// Close closes the payload and ends its read; nil is ready to close.
func (b *payloadBody) Close() {
	if b != nil {
		_ = b.r.Close()
		b.cancel()
	}
}

// payloadOpenTimeout bounds how long the store may take to start
// answering; the read that follows runs as long as the child reads.
const payloadOpenTimeout = time.Minute

// openPayload opens the message's payload when its body is a pointer and
// the dispatcher has a PayloadStore. It returns endExited when the job
// may start (with a nil body when there is no payload), or the ending
// that settles the message: a malformed pointer or a missing object
// cannot run (the message is dead-lettered, pointer and all); a store
// that does not answer leaves the message for a later try.
func (t *turn) openPayload(ctx context.Context) (*payloadBody, ending) {
	store := t.d.cfg.Payloads
	if store == nil {
		return nil, endExited
	}
	p, ok, err := payload.Parse(t.m.msg.Body)
	switch {
	case !ok:
		return nil, endExited
	case err != nil:
		t.cause = fmt.Errorf("sqsdispatch: the message's payload pointer: %w", err)
		return nil, endUnroutable
	}
	t.pointer = &p
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	timer := time.AfterFunc(payloadOpenTimeout, cancel)
	r, size, err := store.OpenPayload(rctx, p.Bucket, p.Key)
	if !timer.Stop() && err == nil {
		_ = r.Close()
		err = fmt.Errorf("no answer within %s", payloadOpenTimeout)
	}
	if err != nil {
		cancel()
		t.op, t.cause = "fetch payload", fmt.Errorf("s3://%s/%s: %w", p.Bucket, p.Key, err)
		if errors.Is(err, ErrPayloadNotFound) {
			return nil, endUnroutable
		}
		return nil, endNoPayload
	}
	return &payloadBody{r: r, size: size, cancel: cancel}, endExited
}

// deletePayload deletes the payload of a message whose job succeeded,
// when Config.DeletePayloads asks for it. The message is deleted first:
// a payload is never gone while its message may come back.
func (t *turn) deletePayload(ctx context.Context) {
	if t.pointer == nil || !t.d.cfg.DeletePayloads {
		return
	}
	ctx, cancel := t.callCtx(ctx)
	defer cancel()
	if err := t.d.cfg.Payloads.DeletePayload(ctx, t.pointer.Bucket, t.pointer.Key); err != nil {
		t.log.Warn("deleting the message's payload", zap.String("bucket", t.pointer.Bucket), zap.String("key", t.pointer.Key), zap.Error(err))
	}
}
