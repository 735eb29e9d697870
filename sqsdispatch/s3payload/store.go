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

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// S3API is the part of *s3.Client this package uses.
type S3API interface {
	GetObject(ctx context.Context, params *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, params *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// NewStore returns a sqsdispatch.PayloadStore that reads and deletes
// payloads with c.
func NewStore(c S3API) sqsdispatch.PayloadStore {
	return &store{s3: c}
}

type store struct {
	s3 S3API
}

// OpenPayload implements sqsdispatch.PayloadStore.
func (s *store) OpenPayload(ctx context.Context, bucket, key string) (io.ReadCloser, int64, error) {
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		if notFound(err) {
			return nil, 0, fmt.Errorf("s3payload: reading s3://%s/%s: %w: %w", bucket, key, sqsdispatch.ErrPayloadNotFound, err)
		}
		return nil, 0, fmt.Errorf("s3payload: reading s3://%s/%s: %w", bucket, key, err)
	}
	if out.Body == nil {
		return nil, 0, fmt.Errorf("s3payload: reading s3://%s/%s: the response has no body", bucket, key)
	}
	if out.ContentLength == nil {
		_ = out.Body.Close()
		return nil, 0, fmt.Errorf("s3payload: reading s3://%s/%s: the response has no Content-Length", bucket, key)
	}
	return out.Body, *out.ContentLength, nil
}

// DeletePayload implements sqsdispatch.PayloadStore.
func (s *store) DeletePayload(ctx context.Context, bucket, key string) error {
	_, err := s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil && !notFound(err) {
		return fmt.Errorf("s3payload: deleting s3://%s/%s: %w", bucket, key, err)
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
