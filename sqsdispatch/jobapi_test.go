package sqsdispatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// runUntil runs a dispatcher until cond holds, then stops it.
func runUntil(t *testing.T, d *sqsdispatch.Dispatcher, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, sqsdispatch.ErrStopped) {
			t.Errorf("Run = %v; want ErrStopped", err)
		}
	}()
	waitFor(t, time.Minute, what, func() bool {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("Run returned early: %v", err)
		default:
		}
		return cond()
	})
}

// dlqReasons receives every message in the DLQ and maps body → reason.
func dlqReasons(t *testing.T, b *bundle, want int) map[string]types.Message {
	t.Helper()
	got := map[string]types.Message{}
	waitFor(t, 10*time.Second, "messages in the DLQ", func() bool {
		for _, m := range receive(t, b.ctx, b.q.DLQURL, 1) {
			got[aws.ToString(m.Body)] = m
		}
		return len(got) >= want
	})
	return got
}

func reasonOf(m types.Message) string {
	return aws.ToString(m.MessageAttributes[sqsdispatch.AttrReason].StringValue)
}

func TestRouteByAttribute(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	resize := b.send("r", map[string]types.MessageAttributeValue{"job": strAttr("resize")})
	email := b.send("e", map[string]types.MessageAttributeValue{"job": strAttr("email")})
	b.send("missing", nil)
	b.send("unknown", map[string]types.MessageAttributeValue{"job": strAttr("fax")})
	cfg := b.config("")
	cfg.Route = sqsdispatch.RouteByAttribute("job")
	d := b.dispatcher(cfg)

	var dlq map[string]types.Message
	runUntil(t, d, "all four messages to be handled", func() bool {
		dlqVisible, _ := counts(t, b.ctx, b.q.DLQURL)
		return fileSize(outFile(resize, "ran")) > 0 && fileSize(outFile(email, "ran")) > 0 && dlqVisible == 2
	})
	for id, want := range map[string]string{resize: "resize", email: "email"} {
		if got, _ := os.ReadFile(outFile(id, "ran")); string(got) != want {
			t.Errorf("message routed to %q ran %q", want, got)
		}
	}
	dlq = dlqReasons(t, b, 2)
	if r := reasonOf(dlq["missing"]); !strings.Contains(r, `no "job" attribute`) {
		t.Errorf("missing attribute: DLQ reason = %q", r)
	}
	if r := reasonOf(dlq["unknown"]); !strings.Contains(r, `unknown job: "fax"`) {
		t.Errorf("unknown job: DLQ reason = %q", r)
	}
	for body, m := range dlq {
		if got := aws.ToString(m.MessageAttributes[sqsdispatch.AttrSourceQueue].StringValue); got != b.q.URL {
			t.Errorf("%s: source queue attribute = %q", body, got)
		}
	}
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
		{"strict rejects unknown fields", "order-strict", `{"id":"o-1","extra":true}`, `unknown field "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
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
			m := dlqReasons(t, b, 1)[tt.body]
			if aws.ToString(m.Body) != tt.body || !strings.Contains(reasonOf(m), tt.wantReason) {
				t.Fatalf("DLQ body %q reason %q; want the body unchanged and a reason containing %q", aws.ToString(m.Body), reasonOf(m), tt.wantReason)
			}
		})
	}
}

func TestRetryAfterDelaysTheNextDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	id := b.send("x", nil)
	cfg := b.config("retry3s")
	cfg.VisibilityTimeout = 30 * time.Second
	_, err := b.dispatcher(cfg).DispatchOne(b.ctx)
	failedAt := time.Now()
	var je *sqsdispatch.JobError
	if !errors.As(err, &je) || je.RetryAfter != 3*time.Second {
		t.Fatalf("err = %v; want a *JobError with RetryAfter 3s", err)
	}
	// Invisible for about 3 s: not there for the first 2 s ...
	for time.Since(failedAt) < 2*time.Second {
		if msgs := receive(t, b.ctx, b.q.URL, 1); len(msgs) > 0 {
			t.Fatalf("message visible again after %s; want about 3s", time.Since(failedAt))
		}
	}
	// ... and back well before the 30 s visibility timeout.
	msgs := receiveWithin(t, b.ctx, b.q.URL, 5*time.Second)
	if len(msgs) != 1 || aws.ToString(msgs[0].MessageId) != id || msgs[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("message did not come back with receive count 2 after the delay: %v", msgs)
	}
	if took := time.Since(failedAt); took > 6*time.Second {
		t.Fatalf("message came back after %s; want about 3s", took)
	}
}

func TestRetryPolicyAppliesToJobErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	b.send("x", nil)
	cfg := b.config("fail")
	cfg.VisibilityTimeout = 30 * time.Second
	cfg.Retry = sqsdispatch.ExponentialBackoff{Base: time.Second, Max: time.Minute}
	if _, err := b.dispatcher(cfg).DispatchOne(b.ctx); err == nil {
		t.Fatal("want the job's error")
	}
	// First failure: 1 s (not the 30 s visibility timeout).
	if msgs := receiveWithin(t, b.ctx, b.q.URL, 5*time.Second); len(msgs) != 1 {
		t.Fatal("message not back after the policy's 1 s delay")
	}
}

func TestExponentialBackoffDelays(t *testing.T) {
	t.Parallel()
	b := sqsdispatch.ExponentialBackoff{Base: 2 * time.Second, Max: 30 * time.Second}
	want := []time.Duration{2, 4, 8, 16, 30, 30}
	for i, w := range want {
		if got := b.Delay(i + 1); got != w*time.Second {
			t.Errorf("Delay(%d) = %s, want %s", i+1, got, w*time.Second)
		}
	}
	if got := b.Delay(1000); got != 30*time.Second {
		t.Errorf("Delay(1000) = %s, want the cap", got)
	}
	jittered := sqsdispatch.ExponentialBackoff{Base: 2 * time.Second, Max: 30 * time.Second, Jitter: 0.5}
	for rc := 1; rc < 40; rc++ {
		full := b.Delay(rc)
		if got := jittered.Delay(rc); got < full/2 || got > full {
			t.Errorf("jittered Delay(%d) = %s, want within [%s, %s]", rc, got, full/2, full)
		}
	}
	def := sqsdispatch.ExponentialBackoff{}
	if def.Delay(1) != sqsdispatch.RetryBaseDefault || def.Delay(100) != sqsdispatch.RetryMaxDefault {
		t.Errorf("defaults: Delay(1) = %s, Delay(100) = %s", def.Delay(1), def.Delay(100))
	}
}

func TestFIFOPermanentFailureKeepsItsGroup(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5, FIFO: true})
	sendTo(t, b.ctx, b.q.URL, "fifo-body", nil, "group-7")
	_, err := b.dispatcher(b.config("permanent")).DispatchOne(b.ctx)
	var je *sqsdispatch.JobError
	if !errors.As(err, &je) || !je.Permanent {
		t.Fatalf("err = %v; want a permanent *JobError", err)
	}
	msgs := receiveWithin(t, b.ctx, b.q.DLQURL, 5*time.Second)
	if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "fifo-body" || msgs[0].Attributes["MessageGroupId"] != "group-7" {
		t.Fatalf("FIFO DLQ holds %+v; want the body with group-7", msgs)
	}
}

func TestLargeBinaryMessageSurvivesRoutingDecodingAndDLQ(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	note := strings.Repeat("Grüße aus 東京 ☃ ", 256<<10/24)
	body, _ := json.Marshal(order{ID: "big", Items: []string{"x"}, Note: note})
	for len(body) < 256<<10 { // pad with JSON whitespace to exactly 256 KiB
		body = append(body, ' ')
	}
	body = body[:256<<10]
	bin := make([]byte, 1024)
	for i := range bin {
		bin[i] = byte(i)
	}
	id := b.send(string(body), map[string]types.MessageAttributeValue{
		"job":  strAttr("order-reject"),
		"blob": {DataType: aws.String("Binary.raw"), BinaryValue: bin},
	})
	cfg := b.config("")
	cfg.Route = sqsdispatch.RouteByAttribute("job")
	handled, err := b.dispatcher(cfg).DispatchOne(b.ctx)
	var je *sqsdispatch.JobError
	if !handled || !errors.As(err, &je) || !je.Permanent {
		t.Fatalf("DispatchOne = %v, %v; want the job's permanent rejection", handled, err)
	}
	msgs := receiveWithin(t, b.ctx, b.q.DLQURL, 5*time.Second)
	if len(msgs) != 1 {
		t.Fatal("message not in the DLQ")
	}
	m := msgs[0]
	if aws.ToString(m.Body) != string(body) {
		t.Fatalf("DLQ body differs (%d bytes, want %d)", len(aws.ToString(m.Body)), len(body))
	}
	if a := m.MessageAttributes["blob"]; !bytes.Equal(a.BinaryValue, bin) || aws.ToString(a.DataType) != "Binary.raw" {
		t.Fatalf("binary attribute changed: %s, %d bytes", aws.ToString(a.DataType), len(a.BinaryValue))
	}
	if reasonOf(m) != "order rejected" {
		t.Fatalf("reason = %q", reasonOf(m))
	}
	var decoded order
	recorded, _ := os.ReadFile(outFile(id, "order"))
	if err := json.Unmarshal(recorded, &decoded); err != nil || decoded.ID != "big" || decoded.Note != note {
		t.Fatalf("the typed job did not get the decoded value intact (%v)", err)
	}
}
