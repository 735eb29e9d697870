package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

func TestMain(m *testing.M) {
	sqsdispatch.Init(registry())
	os.Exit(m.Run())
}

// TestConsumerSpanContinuesTrace sends one message with a producer span
// and checks the span the job started in its child process: a consumer
// span in the producer's trace with the producer's span as its parent when
// the message carried a traceparent, and the AWSTraceHeader as the job saw
// it through TraceFromContext.
func TestConsumerSpanContinuesTrace(t *testing.T) {
	tests := []struct {
		name     string
		headers  headers
		upstream string // tracestate of a remote span the producer continues; "" for none
	}{
		{name: "traceparent and AWSTraceHeader", headers: headers{w3c: true, xray: true}},
		{name: "traceparent only", headers: headers{w3c: true}},
		{name: "traceparent and tracestate", headers: headers{w3c: true, xray: true}, upstream: "vendor=1"},
		{name: "AWSTraceHeader only", headers: headers{xray: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: the span file is named in the environment the
			// child inherits.
			spanFile := filepath.Join(t.TempDir(), "spans.jsonl")
			t.Setenv(envSpanFile, spanFile)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			client := sqsdispatchtest.NewClient()
			q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("otel")})
			if err != nil {
				t.Fatal(err)
			}
			producerSpans := tracetest.NewInMemoryExporter()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(producerSpans))
			t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

			sendCtx := ctx
			if tt.upstream != "" {
				sendCtx = withRemoteParent(t, ctx, tt.upstream)
			}
			sent, err := send(sendCtx, client, aws.ToString(q.QueueUrl), tp.Tracer(tracerName), tt.headers)
			if err != nil {
				t.Fatal(err)
			}
			if got := producerSpans.GetSpans(); len(got) != 1 || got[0].Name != "send" || got[0].SpanKind != trace.SpanKindProducer {
				t.Fatalf("producer exported %+v, want one producer span \"send\"", got)
			}

			d, err := sqsdispatch.New(sqsdispatch.Config{Client: client, QueueURL: aws.ToString(q.QueueUrl),
				Registry: registry(), Job: jobProcess, WaitTime: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			handled, err := d.DispatchOne(ctx)
			if err != nil || !handled {
				t.Fatalf("DispatchOne = %t, %v; want true, nil", handled, err)
			}

			spans, err := readSpanFile(spanFile)
			if err != nil {
				t.Fatal(err)
			}
			if len(spans) != 1 {
				t.Fatalf("the job wrote %d spans, want 1: %+v", len(spans), spans)
			}
			got := spans[0]
			if got.Name != "process" || got.Kind != trace.SpanKindConsumer.String() {
				t.Errorf("consumer span is %q of kind %q, want \"process\" of kind %q", got.Name, got.Kind, trace.SpanKindConsumer)
			}
			if tt.headers.w3c {
				if got.TraceID != sent.TraceID().String() || got.ParentSpanID != sent.SpanID().String() {
					t.Errorf("consumer span has trace %s, parent %q; want trace %s, parent %s",
						got.TraceID, got.ParentSpanID, sent.TraceID(), sent.SpanID())
				}
				if got.TraceState != tt.upstream {
					t.Errorf("consumer span has tracestate %q, want %q", got.TraceState, tt.upstream)
				}
			} else if got.ParentSpanID != "" || got.TraceID == sent.TraceID().String() {
				t.Errorf("without a traceparent the consumer span has trace %s, parent %q; want a new trace and no parent",
					got.TraceID, got.ParentSpanID)
			}
			wantXRay := ""
			if tt.headers.xray {
				wantXRay = xrayHeader(sent)
			}
			if h := got.Attributes[attrXRayHeader]; h != wantXRay {
				t.Errorf("the job saw AWSTraceHeader %q, want %q", h, wantXRay)
			}
		})
	}
}

// withRemoteParent returns ctx with a sampled remote span context that
// carries the tracestate ts, as a producer that serves an incoming request
// would have.
func withRemoteParent(t *testing.T, ctx context.Context, ts string) context.Context {
	t.Helper()
	state, err := trace.ParseTraceState(ts)
	if err != nil {
		t.Fatal(err)
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
		TraceState: state,
		Remote:     true,
	})
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}

// TestDemo runs what `go run .` runs and checks that it reports the
// consumer span as the producer span's child.
func TestDemo(t *testing.T) {
	spanFile := filepath.Join(t.TempDir(), "spans.jsonl")
	t.Setenv(envSpanFile, spanFile)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, spanFile); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"producer: send     kind=producer",
		"consumer: process  kind=consumer",
		attrXRayHeader + "=Root=1-",
		`consumer span "process" is a child of the producer span: true`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
