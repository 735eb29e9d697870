package s3payload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/sqsdispatch/go-sqsdispatch/internal/payload"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// S3API is the part of *s3.Client this package uses.
type S3API interface {
	GetObject(ctx context.Context, params *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, params *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Option sets what a store built by NewStore may use.
type Option func(*store)

// AllowBuckets lets the store read and delete any object of the given
// buckets. Options add up.
func AllowBuckets(buckets ...string) Option {
	return func(s *store) {
		for _, b := range buckets {
			s.allow.Add(b, "")
		}
	}
}

// AllowPrefix lets the store read and delete the objects of bucket whose
// key begins with prefix, such as "sqs-payloads/". Options add up.
func AllowPrefix(bucket, prefix string) Option {
	return func(s *store) { s.allow.Add(bucket, prefix) }
}

// NewStore returns a sqsdispatch.PayloadStore that reads and deletes
// payloads with c, in the buckets and under the key prefixes its options
// allow and nowhere else:
//
//	s3payload.NewStore(s3.NewFromConfig(awsCfg), s3payload.AllowBuckets("my-payloads"))
//
// A pointer names whatever bucket and key its sender chose. For an object
// outside what the options allow, and for any object when they allow
// nothing, OpenPayload and DeletePayload return an error wrapping
// sqsdispatch.ErrPayloadNotAllowed and make no S3 call: the dispatcher
// dead-letters the message, pointer and all, and the object is neither
// read nor deleted. A key with a ".." segment is always refused.
func NewStore(c S3API, opts ...Option) sqsdispatch.PayloadStore {
	s := &store{s3: c}
	for _, o := range opts {
		o(s)
	}
	return s
}

type store struct {
	s3    S3API
	allow payload.Allowlist
}

// check returns the error for an object the store may not use, or nil.
func (s *store) check(bucket, key string) error {
	why := s.allow.Refusal(bucket, key)
	switch {
	case why == "":
		return nil
	case s.allow.Empty():
		why += " (see s3payload.AllowBuckets)"
	}
	return fmt.Errorf("%w: %s", sqsdispatch.ErrPayloadNotAllowed, why)
}

// OpenPayload implements sqsdispatch.PayloadStore.
func (s *store) OpenPayload(ctx context.Context, bucket, key string) (io.ReadCloser, int64, error) {
	if err := s.check(bucket, key); err != nil {
		return nil, 0, fmt.Errorf("sqsdispatch: s3payload: reading s3://%s/%s: %w", bucket, key, err)
	}
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		if notFound(err) {
			return nil, 0, fmt.Errorf("sqsdispatch: s3payload: reading s3://%s/%s: %w: %w", bucket, key, sqsdispatch.ErrPayloadNotFound, err)
		}
		return nil, 0, fmt.Errorf("sqsdispatch: s3payload: reading s3://%s/%s: %w", bucket, key, err)
	}
	if out.Body == nil {
		return nil, 0, fmt.Errorf("sqsdispatch: s3payload: reading s3://%s/%s: the response has no body", bucket, key)
	}
	if out.ContentLength == nil {
		_ = out.Body.Close()
		return nil, 0, fmt.Errorf("sqsdispatch: s3payload: reading s3://%s/%s: the response has no Content-Length", bucket, key)
	}
	return out.Body, *out.ContentLength, nil
}

// DeletePayload implements sqsdispatch.PayloadStore.
func (s *store) DeletePayload(ctx context.Context, bucket, key string) error {
	if err := s.check(bucket, key); err != nil {
		return fmt.Errorf("sqsdispatch: s3payload: deleting s3://%s/%s: %w", bucket, key, err)
	}
	_, err := s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil && !notFound(err) {
		return fmt.Errorf("sqsdispatch: s3payload: deleting s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// notFound reports whether err is S3 saying the object (or its bucket)
// does not exist.
func notFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return true
		}
	}
	var status interface{ HTTPStatusCode() int }
	return errors.As(err, &status) && status.HTTPStatusCode() == http.StatusNotFound
}
