package sqsdispatchtest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// TestPayloadStoreAllows: without options the store uses every object;
// with them, only those they allow, and it reads and deletes nothing
// else.
func TestPayloadStoreAllows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        []sqsdispatchtest.PayloadStoreOption
		bucket, key string
		wantRefused bool
	}{
		{name: "no options: every object", bucket: "any", key: "k"},
		{name: "allowed bucket", opts: []sqsdispatchtest.PayloadStoreOption{sqsdispatchtest.AllowPayloadBuckets("a", "b")},
			bucket: "b", key: "k"},
		{name: "other bucket", opts: []sqsdispatchtest.PayloadStoreOption{sqsdispatchtest.AllowPayloadBuckets("a")},
			bucket: "b", key: "k", wantRefused: true},
		{name: "allowed prefix", opts: []sqsdispatchtest.PayloadStoreOption{sqsdispatchtest.AllowPayloadPrefix("a", "in/")},
			bucket: "a", key: "in/k"},
		{name: "other prefix", opts: []sqsdispatchtest.PayloadStoreOption{sqsdispatchtest.AllowPayloadPrefix("a", "in/")},
			bucket: "a", key: "out/k", wantRefused: true},
		{name: "options add up", opts: []sqsdispatchtest.PayloadStoreOption{
			sqsdispatchtest.AllowPayloadPrefix("a", "in/"), sqsdispatchtest.AllowPayloadBuckets("b")},
			bucket: "b", key: "k"},
		{name: "an empty bucket name allows nothing", opts: []sqsdispatchtest.PayloadStoreOption{sqsdispatchtest.AllowPayloadBuckets("")},
			bucket: "a", key: "k", wantRefused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := sqsdispatchtest.NewPayloadStore(tt.opts...)
			store.Put(tt.bucket, tt.key, []byte("data"))
			r, size, err := store.OpenPayload(ctx, tt.bucket, tt.key)
			if tt.wantRefused {
				if !errors.Is(err, sqsdispatch.ErrPayloadNotAllowed) || r != nil {
					t.Errorf("OpenPayload = %v, %v; want no reader and ErrPayloadNotAllowed", r, err)
				}
			} else {
				if err != nil {
					t.Fatalf("OpenPayload: %v", err)
				}
				b, _ := io.ReadAll(r)
				if string(b) != "data" || size != 4 {
					t.Errorf("OpenPayload read %q, size %d; want the object", b, size)
				}
			}
			err = store.DeletePayload(ctx, tt.bucket, tt.key)
			if errors.Is(err, sqsdispatch.ErrPayloadNotAllowed) != tt.wantRefused || (err != nil && !tt.wantRefused) {
				t.Errorf("DeletePayload = %v; want refused %t", err, tt.wantRefused)
			}
			if store.Has(tt.bucket, tt.key) != tt.wantRefused {
				t.Errorf("after DeletePayload the object is there %t; want %t", store.Has(tt.bucket, tt.key), tt.wantRefused)
			}
		})
	}
}

// TestRunJobReadsBothPayloadFormats: a message in the current format and
// one in the legacy format each reach the job as the payload, whose
// object is then deleted; a body that reads as a pointer without its size
// attribute is an ordinary body, and its object is left alone.
func TestRunJobReadsBothPayloadFormats(t *testing.T) {
	t.Parallel()
	current := sqsdispatchtest.PayloadMessage("bucket", "greeting", int64(len(greeting)))
	tests := []struct {
		name        string
		msg         sqsdispatchtest.Message
		wantPayload bool
	}{
		{name: "current format", msg: current, wantPayload: true},
		{name: "legacy format", msg: sqsdispatchtest.LegacyPayloadMessage("bucket", "greeting", int64(len(greeting))), wantPayload: true},
		{name: "no size attribute", msg: sqsdispatchtest.Message{Body: current.Body}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := greetingStore()
			cfg := sqsdispatch.Config{Registry: testRegistry(), Job: "greeting", Payloads: store, DeletePayloads: true}
			out, err := sqsdispatchtest.RunJob(context.Background(), cfg, tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantPayload {
				if !out.Deleted || store.Has("bucket", "greeting") {
					t.Errorf("outcome %v (%v), object left %t; want the job given the payload and the object deleted",
						out, out.Err, store.Has("bucket", "greeting"))
				}
				return
			}
			// The greeting job fails for good on any other body, naming it.
			if !out.DeadLettered || !strings.Contains(out.Reason, fmt.Sprintf("body %q", current.Body)) || !store.Has("bucket", "greeting") {
				t.Errorf("outcome %v (reason %q), object left %t; want the job given the pointer as its body and the object kept",
					out, out.Reason, store.Has("bucket", "greeting"))
			}
		})
	}
}

// TestRunJobRefusesPayloadsOutsideTheStore: a pointer to an object the
// store may not use is dead-lettered with the reason, and its object is
// neither read nor deleted.
func TestRunJobRefusesPayloadsOutsideTheStore(t *testing.T) {
	t.Parallel()
	store := greetingStore(sqsdispatchtest.AllowPayloadBuckets("payloads"))
	cfg := sqsdispatch.Config{Registry: testRegistry(), Job: "greeting", Payloads: store, DeletePayloads: true}
	out, err := sqsdispatchtest.RunJob(context.Background(), cfg, greetingMessage(""))
	if err != nil {
		t.Fatal(err)
	}
	if !out.DeadLettered || !errors.Is(out.Err, sqsdispatch.ErrPayloadNotAllowed) || !strings.Contains(out.Reason, "s3://bucket/greeting") {
		t.Errorf("outcome %v (%v), reason %q; want dead-lettered as not allowed, naming the object", out, out.Err, out.Reason)
	}
	if !store.Has("bucket", "greeting") {
		t.Error("the object outside the store was deleted")
	}
}
