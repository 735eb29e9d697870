package sqsdispatchtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/sqsdispatch/go-sqsdispatch/internal/payload"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// PayloadStore is an in-memory sqsdispatch.PayloadStore: set it as
// Config.Payloads to run jobs on messages whose body points to a payload
// in S3 (see PayloadPointer) without S3. Its methods are safe for
// concurrent use.
type PayloadStore struct {
	mu      sync.Mutex
	objects map[string][]byte // by bucket + "/" + key
}

// NewPayloadStore returns an empty store.
func NewPayloadStore() *PayloadStore {
	return &PayloadStore{objects: make(map[string][]byte)}
}

// Put stores data as the object bucket/key.
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

// OpenPayload implements sqsdispatch.PayloadStore.
func (s *PayloadStore) OpenPayload(_ context.Context, bucket, key string) (io.ReadCloser, int64, error) {
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
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, bucket+"/"+key)
	return nil
}

// PayloadPointer returns the body of a message whose payload is the
// object bucket/key, in the format AWS's extended clients write.
func PayloadPointer(bucket, key string) string {
	return payload.Pointer{Bucket: bucket, Key: key}.Body()
}
