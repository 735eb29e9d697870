package sqsdispatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/payload"
)

// PayloadStore reads the payloads that producers stored in S3 because
// they were too large for SQS, in the format of AWS's extended clients
// for Java and Python. Such a message carries the reserved Number
// attribute ExtendedPayloadSize (SQSLargePayloadSize from the Java client
// 1.x and the Python client's legacy mode), and its body is a pointer,
//
//	["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"…","s3Key":"…"}]
//
// or, from the same older clients,
//
//	["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3BucketName":"…","s3Key":"…"}]
//
// The attribute is what makes a message a pointer, as for the clients:
// a body that reads as a pointer without it is an ordinary body, and a
// message that carries it with a body that is not a pointer of either
// class is dead-lettered with the reason. Set Config.Payloads to a store
// (package s3payload adapts an S3 client) and a job whose message is a
// pointer receives the payload as its Body; the dispatcher itself never
// holds the payload whole, it streams it to the job's child.
//
// A pointer names whatever bucket and key its sender chose, so a store
// must use only the objects it was told it may (s3payload.AllowBuckets):
// otherwise whoever can send to the queue could have the service read,
// or delete, any object its role can reach.
type PayloadStore interface {
	// OpenPayload opens the object bucket/key for reading and returns its
	// size in bytes. It returns an error wrapping ErrPayloadNotFound when
	// the object does not exist, and one wrapping ErrPayloadNotAllowed,
	// without reading it, when the object is outside what the store may
	// use.
	OpenPayload(ctx context.Context, bucket, key string) (body io.ReadCloser, size int64, err error)
	// DeletePayload deletes the object bucket/key. Deleting an object
	// that does not exist is not an error. It returns an error wrapping
	// ErrPayloadNotAllowed, without deleting it, when the object is
	// outside what the store may use.
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

// How long the store may take to start answering, for a job and for a
// Cleanup (whose visibility counts it); the read that follows runs as long
// as the child reads.
const (
	payloadOpenTimeout = time.Minute
	payloadCleanupOpen = 10 * time.Second
)

// openPayload opens the message's payload when it is a pointer: body is
// nil when it is not. When the job cannot start, ok is false and end
// settles the message: a malformed pointer, a pointer without a
// Config.Payloads to read it, an object missing, outside what the store
// may use or past MaxPayloadBytes cannot run (the message is
// dead-lettered, pointer and all); a store that does not answer leaves
// the message for a later try.
func (t *turn) openPayload(ctx context.Context) (body *payloadBody, end ending, ok bool) {
	p, isPointer, err := payload.Recognise(t.m.msg.Body, payload.SizeAttr(t.m.msg.own))
	switch {
	case !isPointer:
		return nil, 0, true
	case err == nil && t.d.cfg.Payloads == nil:
		err = fmt.Errorf("sqsdispatch: the message's payload is in S3 (s3://%s/%s) and Config.Payloads is not set to read it", p.Bucket, p.Key)
	}
	if err != nil {
		t.cause = err
		return nil, endRefused, false
	}
	t.pointer = &p
	body, err = t.reopenPayload(ctx, payloadOpenTimeout, t.r.halted())
	if errors.Is(err, errOpenStopped) {
		return nil, endNotStarted, false // the stop came first: the job does not start
	}
	if err != nil {
		t.pointer = nil // no job runs on it: nothing opens, or deletes, the object again
		t.op, t.cause = "fetch payload", err
		if errors.Is(err, ErrPayloadNotFound) || errors.Is(err, ErrPayloadNotAllowed) || errors.Is(err, ErrPayloadTooLarge) {
			return nil, endRefused, false
		}
		return nil, endNoPayload, false
	}
	return body, 0, true
}

// errOpenStopped is what reopenPayload returns when the dispatcher began
// to stop before the store answered.
var errOpenStopped = errors.New("sqsdispatch: the dispatcher is stopping: the payload was not opened")

// reopenPayload opens the payload openPayload found, for the job or for
// its Cleanup, giving the store within to start answering, and giving up
// (errOpenStopped) when stop closes first (nil: never); nil when the
// message has none. The read that follows is not cut short by either.
func (t *turn) reopenPayload(ctx context.Context, within time.Duration, stop <-chan struct{}) (*payloadBody, error) {
	p := t.pointer
	if p == nil {
		return nil, nil
	}
	rctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	timer := time.AfterFunc(within, func() { cancel(nil) })
	opened, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-stop:
			cancel(errOpenStopped)
		case <-opened:
		}
	}()
	r, size, err := t.d.cfg.Payloads.OpenPayload(rctx, p.Bucket, p.Key)
	close(opened)
	<-watched
	switch {
	case errors.Is(context.Cause(rctx), errOpenStopped):
		if err == nil {
			_ = r.Close()
		}
		timer.Stop()
		return nil, errOpenStopped
	case !timer.Stop() && err == nil:
		_ = r.Close()
		err = fmt.Errorf("no answer within %s", within)
	}
	if err == nil && size > t.d.cfg.MaxPayloadBytes {
		_ = r.Close()
		err = fmt.Errorf("%w: %d bytes, more than Config.MaxPayloadBytes (%d)", ErrPayloadTooLarge, size, t.d.cfg.MaxPayloadBytes)
	}
	if err != nil {
		cancel(nil)
		if loc := "s3://" + p.Bucket + "/" + p.Key; !strings.Contains(err.Error(), loc) {
			err = fmt.Errorf("%s: %w", loc, err)
		}
		return nil, err
	}
	return &payloadBody{r: r, size: size, cancel: func() { cancel(nil) }}, nil
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
