package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// attrXRayHeader is the span attribute in which the job records the
// message's AWSTraceHeader.
const attrXRayHeader = "aws.xray.trace_header"

// process is the job. It runs in a child process, so it sets up its own
// tracer provider, which writes each span to the span file as it ends, and
// shuts it down before it returns. It continues the producer's trace: its
// "process" span is a child of the span whose context the message carried.
func process(ctx context.Context, msg *sqsdispatch.Message) error {
	path := os.Getenv(envSpanFile)
	if path == "" {
		return sqsdispatch.Permanent(errors.New(envSpanFile + " is not set"))
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(fileExporter{path: path}))
	defer func() {
		// Telemetry that cannot be written does not fail the job.
		if err := tp.Shutdown(context.WithoutCancel(ctx)); err != nil {
			fmt.Fprintln(os.Stderr, "otel example: flushing spans:", err)
		}
	}()

	tc, _ := sqsdispatch.TraceFromContext(ctx)
	ctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{
		sqsdispatch.AttrTraceParent: tc.TraceParent,
		sqsdispatch.AttrTraceState:  tc.TraceState,
	})
	attrs := []attribute.KeyValue{
		attribute.String("messaging.system", "aws_sqs"),
		attribute.String("messaging.message.id", msg.ID),
	}
	if tc.AWSTraceHeader != "" {
		attrs = append(attrs, attribute.String(attrXRayHeader, tc.AWSTraceHeader))
	}
	_, span := tp.Tracer(tracerName).Start(ctx, "process",
		trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...))
	defer span.End()

	// ... the work itself, passing on the span's context ...
	return nil
}
