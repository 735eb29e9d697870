package sqsdispatch_test

// Picking a message's job: by attribute, and typed jobs that decode the
// body. A message that cannot be routed or decoded is dead-lettered with
// the reason.

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

func TestRouteByAttribute(t *testing.T) {
	t.Parallel()
	forEachBackend(t, fauxqs.QueueSpec{MaxReceiveCount: 5}, func(t *testing.T, b *bundle) {
		resize := b.send("r", map[string]types.MessageAttributeValue{"job": strAttr("resize")})
		email := b.send("e", map[string]types.MessageAttributeValue{"job": strAttr("email")})
		b.send("missing", nil)
		b.send("unknown", map[string]types.MessageAttributeValue{"job": strAttr("fax")})
		b.send("binary", map[string]types.MessageAttributeValue{"job": {DataType: aws.String("Binary"), BinaryValue: []byte("resize")}})
		cfg := b.config("")
		cfg.Route = sqsdispatch.RouteByAttribute("job")
		d := b.dispatcher(cfg)

		runUntil(t, d, "every message to be handled", func() bool {
			dlqVisible, _ := counts(t, b.ctx, b.q.DLQURL)
			return fileSize(outFile(resize, "ran")) > 0 && fileSize(outFile(email, "ran")) > 0 && dlqVisible == 3
		})
		for id, want := range map[string]string{resize: "resize", email: "email"} {
			if got, _ := os.ReadFile(outFile(id, "ran")); string(got) != want {
				t.Errorf("message routed to %q ran %q", want, got)
			}
		}
		dlq := dlqMessages(t, b, 3)
		for body, want := range map[string]string{
			"missing": `no "job" attribute`,
			"unknown": `unknown job: "fax"`,
			"binary":  `"job" is not a non-empty string`,
		} {
			if r := reasonOf(dlq[body]); !strings.Contains(r, want) {
				t.Errorf("%s: DLQ reason = %q, want it to contain %q", body, r, want)
			}
			if got := aws.ToString(dlq[body].MessageAttributes[sqsdispatch.AttrSourceQueue].StringValue); got != b.q.URL {
				t.Errorf("%s: source queue attribute = %q", body, got)
			}
		}
	})
}

func TestTypedJobDecodesOrDeadLetters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, job, body string
		wantReason      string // "" when the job must get the value
	}{
		{"decodes, unknown fields allowed", "order", `{"id":"o-1","items":["a","b"],"extra":true}`, ""},
		{"malformed JSON", "order", `{"id": "o-1", "items": [`, "decoding the JSON body into sqsdispatch_test.order: unexpected EOF"},
		{"wrong type", "order", `{"id": 42}`, "cannot unmarshal number"},
		{"trailing data", "order", `{"id":"o-1"} {}`, "trailing data after the value"},
		{"strict rejects unknown fields", "order-strict", `{"id":"o-1","extra":true}`, `unknown field "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			forEachBackend(t, fauxqs.QueueSpec{MaxReceiveCount: 5}, func(t *testing.T, b *bundle) {
				id := b.send(tt.body, nil)
				_, err := b.dispatcher(b.config(tt.job)).DispatchOne(b.ctx)
				if tt.wantReason == "" {
					if err != nil {
						t.Fatal(err)
					}
					got, _ := os.ReadFile(outFile(id, "order"))
					if string(got) != `{"id":"o-1","items":["a","b"],"note":""}` {
						t.Fatalf("job got %s", got)
					}
					return
				}
				var je *sqsdispatch.JobError
				if !errors.As(err, &je) || !je.Permanent {
					t.Fatalf("err = %v; want a permanent *JobError", err)
				}
				m := dlqMessages(t, b, 1)[tt.body]
				if aws.ToString(m.Body) != tt.body || !strings.Contains(reasonOf(m), tt.wantReason) {
					t.Fatalf("DLQ body %q reason %q; want the body unchanged and a reason containing %q", aws.ToString(m.Body), reasonOf(m), tt.wantReason)
				}
			})
		})
	}
}
