package s3payload_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/s3payload"
)

// httpError is what the SDK returns for a response with status code and
// an error code of code.
func httpError(status int, code string) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: "test"},
	}}
}

func TestStoreNotFound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		err          error
		wantNotFound bool
	}{
		{name: "NoSuchKey", err: &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: &types.NoSuchKey{}}, wantNotFound: true},
		{name: "NotFound", err: &types.NotFound{}, wantNotFound: true},
		{name: "generic API error NoSuchKey", err: &smithy.GenericAPIError{Code: "NoSuchKey"}, wantNotFound: true},
		{name: "404 API error", err: httpError(http.StatusNotFound, "NoSuchBucket"), wantNotFound: true},
		{name: "403 API error", err: httpError(http.StatusForbidden, "AccessDenied")},
		{name: "network error", err: errors.New("connection reset")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeS3()
			f.getErr, f.deleteErr = tt.err, tt.err
			store := s3payload.NewStore(f, s3payload.AllowBuckets("b"))
			_, _, err := store.OpenPayload(context.Background(), "b", "k")
			if !errors.Is(err, tt.err) || errors.Is(err, sqsdispatch.ErrPayloadNotFound) != tt.wantNotFound {
				t.Errorf("OpenPayload error = %v; want it to wrap %v, and ErrPayloadNotFound %t", err, tt.err, tt.wantNotFound)
			}
			if err == nil || !strings.Contains(err.Error(), "s3://b/k") {
				t.Errorf("OpenPayload error = %v; want it to name s3://b/k", err)
			}
			err = store.DeletePayload(context.Background(), "b", "k")
			if (err == nil) != tt.wantNotFound {
				t.Errorf("DeletePayload error = %v; want an error %t", err, !tt.wantNotFound)
			}
		})
	}
}

func TestStoreOpenPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		noLength bool
		wantErr  bool
	}{
		{name: "body and size"},
		{name: "no content length", noLength: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeS3()
			f.objects["b/k"] = []byte("the payload")
			f.noLength = tt.noLength
			body, size, err := s3payload.NewStore(f, s3payload.AllowBuckets("b")).OpenPayload(context.Background(), "b", "k")
			if tt.wantErr {
				if err == nil || errors.Is(err, sqsdispatch.ErrPayloadNotFound) {
					t.Fatalf("err = %v; want an error other than not found", err)
				}
				if !f.bodyClosed() {
					t.Errorf("the response body was not closed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = body.Close() })
			b, err := io.ReadAll(body)
			if err != nil || string(b) != "the payload" || size != int64(len(b)) {
				t.Errorf("read %q (%v), size %d; want the payload and its size", b, err, size)
			}
		})
	}
}

// TestStoreAllows: the store reads and deletes only the objects its
// options allow; for any other it makes no S3 call and returns an error
// wrapping ErrPayloadNotAllowed that names the object and what it may
// use.
func TestStoreAllows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        []s3payload.Option
		bucket, key string
		wantRefused string // in the error; "" when allowed
	}{
		{name: "no option refuses everything", bucket: "payloads", key: "k", wantRefused: "allows no bucket (see s3payload.AllowBuckets)"},
		{name: "an empty bucket name allows nothing", opts: []s3payload.Option{s3payload.AllowBuckets("")},
			bucket: "payloads", key: "k", wantRefused: "allows no bucket"},
		{name: "allowed bucket", opts: []s3payload.Option{s3payload.AllowBuckets("payloads", "more")}, bucket: "more", key: "k"},
		{name: "other bucket", opts: []s3payload.Option{s3payload.AllowBuckets("payloads")},
			bucket: "secrets", key: "k", wantRefused: "may use s3://payloads/*"},
		{name: "allowed prefix", opts: []s3payload.Option{s3payload.AllowPrefix("shared", "sqs/")}, bucket: "shared", key: "sqs/k"},
		{name: "other prefix", opts: []s3payload.Option{s3payload.AllowPrefix("shared", "sqs/")},
			bucket: "shared", key: "backups/k", wantRefused: "may use s3://shared/sqs/*"},
		{name: "dot-dot out of the prefix", opts: []s3payload.Option{s3payload.AllowPrefix("shared", "sqs/")},
			bucket: "shared", key: "sqs/../backups/k", wantRefused: `".." segment`},
		{name: "options add up", opts: []s3payload.Option{s3payload.AllowPrefix("shared", "sqs/"), s3payload.AllowBuckets("payloads")},
			bucket: "payloads", key: "k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFakeS3()
			f.objects[tt.bucket+"/"+tt.key] = []byte("the payload")
			store := s3payload.NewStore(f, tt.opts...)
			body, _, openErr := store.OpenPayload(ctx, tt.bucket, tt.key)
			if body != nil {
				_ = body.Close()
			}
			delErr := store.DeletePayload(ctx, tt.bucket, tt.key)
			if tt.wantRefused == "" {
				if openErr != nil || delErr != nil || f.readsAndDeletes() != 2 {
					t.Fatalf("OpenPayload = %v, DeletePayload = %v after %d S3 calls; want both done", openErr, delErr, f.readsAndDeletes())
				}
				return
			}
			for op, err := range map[string]error{"OpenPayload": openErr, "DeletePayload": delErr} {
				if !errors.Is(err, sqsdispatch.ErrPayloadNotAllowed) || !strings.HasPrefix(err.Error(), "sqsdispatch: s3payload: ") ||
					!strings.Contains(err.Error(), "s3://"+tt.bucket+"/"+tt.key) || !strings.Contains(err.Error(), tt.wantRefused) {
					t.Errorf("%s error = %v; want ErrPayloadNotAllowed naming the object and saying %q", op, err, tt.wantRefused)
				}
			}
			if n := f.readsAndDeletes(); n != 0 || body != nil {
				t.Errorf("%d S3 calls made, a body returned %t; want none", n, body != nil)
			}
			if objects, _ := f.snapshot(); len(objects) != 1 {
				t.Error("the refused object was deleted")
			}
		})
	}
}
