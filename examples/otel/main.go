// Command otel continues a producer's OpenTelemetry trace in a sqsdispatch
// job.
//
// The producer starts a "send" span and puts its W3C trace context on the
// message as the traceparent (and tracestate) message attributes, and an
// X-Ray header as the AWSTraceHeader system attribute. The job, which runs
// in a child process, reads them with sqsdispatch.TraceFromContext and
// starts a consumer span "process" as a child of the producer's span. The
// child writes its finished spans as JSON lines to the file named by
// SPAN_FILE, where this program reads them back and prints both spans.
// It runs against an in-memory SQS client, so it needs no server:
//
//	cd examples/otel && go run .
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// jobProcess is the name of the job that consumes the demo's messages.
const jobProcess = "process"

func registry() *sqsdispatch.Registry {
	reg := sqsdispatch.NewRegistry()
	reg.Register(jobProcess, process)
	return reg
}

func main() {
	sqsdispatch.Init(registry())
	if err := runDemo(); err != nil {
		fmt.Fprintln(os.Stderr, "otel example:", err)
		os.Exit(1)
	}
}

// runDemo names a span file in a temporary directory, unless SPAN_FILE
// already names one, and runs the demo with it. The variable is set before
// the dispatcher starts its children, which inherit it.
func runDemo() error {
	if os.Getenv(envSpanFile) == "" {
		dir, err := os.MkdirTemp("", "otel-example")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if err := os.Setenv(envSpanFile, filepath.Join(dir, "spans.jsonl")); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return run(ctx, os.Stdout, os.Getenv(envSpanFile))
}

// run sends one traced message, lets a dispatcher run its job, and prints
// the producer's span and the consumer spans the job wrote to spanFile.
func run(ctx context.Context, out io.Writer, spanFile string) error {
	client := sqsdispatchtest.NewClient()
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("otel-demo")})
	if err != nil {
		return err
	}
	queueURL := aws.ToString(q.QueueUrl)

	producerSpans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(producerSpans))
	defer tp.Shutdown(context.WithoutCancel(ctx))
	sent, err := send(ctx, client, queueURL, tp.Tracer(tracerName), headers{w3c: true, xray: true})
	if err != nil {
		return err
	}

	d, err := sqsdispatch.New(sqsdispatch.Config{Client: client, QueueURL: queueURL, Registry: registry(),
		Job: jobProcess, WaitTime: time.Second})
	if err != nil {
		return err
	}
	handled, err := d.DispatchOne(ctx)
	if err != nil {
		return err
	}
	if !handled {
		return errors.New("no message was received")
	}

	for _, s := range producerSpans.GetSpans() {
		fmt.Fprintf(out, "producer: %-8s kind=%s trace=%s span=%s\n", s.Name, s.SpanKind, s.SpanContext.TraceID(), s.SpanContext.SpanID())
	}
	consumed, err := readSpanFile(spanFile)
	if err != nil {
		return err
	}
	for _, s := range consumed {
		fmt.Fprintf(out, "consumer: %-8s kind=%s trace=%s span=%s parent=%s\n", s.Name, s.Kind, s.TraceID, s.SpanID, s.ParentSpanID)
		if h := s.Attributes[attrXRayHeader]; h != "" {
			fmt.Fprintf(out, "          %s=%s\n", attrXRayHeader, h)
		}
		child := s.TraceID == sent.TraceID().String() && s.ParentSpanID == sent.SpanID().String()
		fmt.Fprintf(out, "consumer span %q is a child of the producer span: %t\n", s.Name, child)
	}
	return nil
}
