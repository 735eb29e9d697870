package sqsdispatch

import "context"

// Names of the attributes a trace context is read from.
const (
	// AttrAWSTraceHeader is the system attribute that carries an AWS X-Ray
	// trace header.
	AttrAWSTraceHeader = "AWSTraceHeader"
	// AttrTraceParent is the message attribute that carries a W3C
	// traceparent (what OpenTelemetry's propagators write).
	AttrTraceParent = "traceparent"
	// AttrTraceState is the message attribute that carries a W3C
	// tracestate.
	AttrTraceState = "tracestate"
)

// TraceContext is the trace context a message carried from its producer:
// the X-Ray header and the W3C traceparent and tracestate, as they came.
// A job finds it in its context with TraceFromContext and can continue the
// producer's trace, for example with OpenTelemetry:
//
//	tc, _ := sqsdispatch.TraceFromContext(ctx)
//	ctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{
//		"traceparent": tc.TraceParent, "tracestate": tc.TraceState})
//	ctx, span := tracer.Start(ctx, "process", trace.WithSpanKind(trace.SpanKindConsumer))
//
// The library itself depends on no tracing package.
type TraceContext struct {
	AWSTraceHeader string
	TraceParent    string
	TraceState     string
}

type traceKey struct{}

// TraceFromContext returns the trace context of the message whose job ctx
// belongs to, and whether the message carried one.
func TraceFromContext(ctx context.Context) (TraceContext, bool) {
	tc, ok := ctx.Value(traceKey{}).(TraceContext)
	return tc, ok
}

// withTrace adds msg's trace context, if it has one, to ctx.
func withTrace(ctx context.Context, msg *Message) context.Context {
	tc := TraceContext{AWSTraceHeader: msg.Attributes[AttrAWSTraceHeader]}
	if a, ok := msg.MessageAttributes[AttrTraceParent]; ok {
		tc.TraceParent = a.StringValue
	}
	if a, ok := msg.MessageAttributes[AttrTraceState]; ok {
		tc.TraceState = a.StringValue
	}
	if tc == (TraceContext{}) {
		return ctx
	}
	return context.WithValue(ctx, traceKey{}, tc)
}
