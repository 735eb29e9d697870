package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// tracerName names the tracers of the producer and of the job.
const tracerName = "github.com/sqsdispatch/go-sqsdispatch/examples/otel"

// headers says which trace headers send puts on a message.
type headers struct {
	w3c  bool // traceparent and tracestate message attributes
	xray bool // AWSTraceHeader system attribute
}

// send starts a producer span "send" and sends a message to queueURL that
// carries the span's trace context as h says. It returns the span's
// context.
func send(ctx context.Context, client sqsdispatch.Client, queueURL string, tracer trace.Tracer, h headers) (trace.SpanContext, error) {
	ctx, span := tracer.Start(ctx, "send", trace.WithSpanKind(trace.SpanKindProducer))
	defer span.End()
	in := &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(`{"order":42}`)}
	if h.w3c {
		// Inject writes traceparent, and tracestate when it is not empty.
		carrier := propagation.MapCarrier{}
		propagation.TraceContext{}.Inject(ctx, carrier)
		in.MessageAttributes = make(map[string]types.MessageAttributeValue, len(carrier))
		for k, v := range carrier {
			in.MessageAttributes[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	if h.xray {
		in.MessageSystemAttributes = map[string]types.MessageSystemAttributeValue{
			sqsdispatch.AttrAWSTraceHeader: {DataType: aws.String("String"), StringValue: aws.String(xrayHeader(span.SpanContext()))},
		}
	}
	if _, err := client.SendMessage(ctx, in); err != nil {
		return trace.SpanContext{}, fmt.Errorf("send message: %w", err)
	}
	return span.SpanContext(), nil
}

// xrayHeader writes sc in the format of the AWSTraceHeader attribute. X-Ray
// itself expects the first 8 hex digits of the trace ID to be the Unix
// time of the trace's start, which OpenTelemetry's default ID generator
// does not ensure; a producer that reports to X-Ray uses an X-Ray ID
// generator and propagator. Here the header only shows how it travels.
func xrayHeader(sc trace.SpanContext) string {
	tid := sc.TraceID().String()
	sampled := 0
	if sc.IsSampled() {
		sampled = 1
	}
	return fmt.Sprintf("Root=1-%s-%s;Parent=%s;Sampled=%d", tid[:8], tid[8:], sc.SpanID(), sampled)
}
