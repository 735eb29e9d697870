package sqsdispatchtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/sqsdispatch/go-sqsdispatch/internal/payload"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// PayloadStore is an in-memory sqsdispatch.PayloadStore: set it as
// Config.Payloads to run jobs on messages whose payload is kept in S3
// (see PayloadMessage) without S3. Built without options it uses every
// object. With AllowPayloadBuckets or AllowPayloadPrefix it uses only
// those, as s3payload.NewStore does: for any other object OpenPayload and
// DeletePayload return an error wrapping sqsdispatch.ErrPayloadNotAllowed
// and neither read nor delete it. Its methods are safe for concurrent
// use.
type PayloadStore struct {
	mu      sync.Mutex
	objects map[string][]byte // by bucket + "/" + key
	allow   payload.Allowlist
	limited bool // an Allow option was given: allow is the rule
}

// PayloadStoreOption configures NewPayloadStore.
type PayloadStoreOption func(*PayloadStore)

// AllowPayloadBuckets limits the store to the objects of the given
// buckets, and those other options allow, as s3payload.AllowBuckets does.
func AllowPayloadBuckets(buckets ...string) PayloadStoreOption {
	return func(s *PayloadStore) {
		s.limited = true
		for _, b := range buckets {
			s.allow.Add(b, "")
		}
	}
}

// AllowPayloadPrefix limits the store to the objects of bucket whose key
// begins with prefix, and those other options allow, as
// s3payload.AllowPrefix does.
func AllowPayloadPrefix(bucket, prefix string) PayloadStoreOption {
	return func(s *PayloadStore) {
		s.limited = true
		s.allow.Add(bucket, prefix)
	}
}

// NewPayloadStore returns an empty store.
func NewPayloadStore(opts ...PayloadStoreOption) *PayloadStore {
	s := &PayloadStore{objects: make(map[string][]byte)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Put stores data as the object bucket/key, whatever the store may use.
func (s *PayloadStore) Put(bucket, key string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[bucket+"/"+key] = bytes.Clone(data)
}

// Has reports whether the object bucket/key exists.
func (s *PayloadStore) Has(bucket, key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.objects[bucket+"/"+key]
	return ok
}

// check returns the error for an object the store may not use, or nil.
func (s *PayloadStore) check(bucket, key string) error {
	if !s.limited {
		return nil
	}
	if why := s.allow.Refusal(bucket, key); why != "" {
		return fmt.Errorf("sqsdispatchtest: s3://%s/%s: %w: %s", bucket, key, sqsdispatch.ErrPayloadNotAllowed, why)
	}
	return nil
}

// OpenPayload implements sqsdispatch.PayloadStore.
func (s *PayloadStore) OpenPayload(_ context.Context, bucket, key string) (io.ReadCloser, int64, error) {
	if err := s.check(bucket, key); err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.objects[bucket+"/"+key]
	if !ok {
		return nil, 0, fmt.Errorf("sqsdispatchtest: s3://%s/%s: %w", bucket, key, sqsdispatch.ErrPayloadNotFound)
	}
	return io.NopCloser(bytes.NewReader(data)), int64(len(data)), nil
}

// DeletePayload implements sqsdispatch.PayloadStore.
func (s *PayloadStore) DeletePayload(_ context.Context, bucket, key string) error {
	if err := s.check(bucket, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, bucket+"/"+key)
	return nil
}

// PayloadMessage returns a message whose payload, of size bytes, is the
// object bucket/key, as AWS's extended clients send it: the pointer
// ["software.amazon.payloadoffloading.PayloadS3Pointer",{…}] as its body
// and the Number attribute ExtendedPayloadSize, which is what makes it a
// pointer. Add the message's own attributes to its Attributes.
func PayloadMessage(bucket, key string, size int64) Message {
	return payloadMessage(payload.Pointer{Bucket: bucket, Key: key}, size)
}

// LegacyPayloadMessage is PayloadMessage in the legacy format of the Java
// extended client 1.x and of the Python client's legacy mode: the class
// com.amazon.sqs.javamessaging.MessageS3Pointer and the attribute
// SQSLargePayloadSize.
func LegacyPayloadMessage(bucket, key string, size int64) Message {
	return payloadMessage(payload.Pointer{Bucket: bucket, Key: key, Legacy: true}, size)
}

func payloadMessage(p payload.Pointer, size int64) Message {
	return Message{Body: p.Body(), Attributes: map[string]sqsdispatch.MessageAttribute{
		p.SizeAttr(): {DataType: "Number", StringValue: strconv.FormatInt(size, 10)},
	}}
}
