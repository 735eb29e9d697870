package sqsdispatch_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap/zaptest"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// TestTraceContextReachesTheJob: the AWSTraceHeader system attribute and
// the W3C traceparent/tracestate message attributes become the job's
// trace context.
func TestTraceContextReachesTheJob(t *testing.T) {
	t.Parallel()
	ctx, mem, url := memQueue(t, "trace", nil)
	ledger := filepath.Join(t.TempDir(), "ledger")
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	_, err := mem.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(gateMsg(ledger, "t")),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"traceparent": {DataType: aws.String("String"), StringValue: aws.String(parent)},
			"tracestate":  {DataType: aws.String("String"), StringValue: aws.String("vendor=1")}},
		MessageSystemAttributes: map[string]types.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String("Root=1-5759e988-bd862e3fe1be46a994272793")}}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: mem, QueueURL: url, Registry: testRegistry(),
		Job: "trace", WaitTime: time.Second, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.DispatchOne(ctx); err != nil {
		t.Fatal(err)
	}
	got := ledgerLines(t, ledger, "trace")
	want := "trace true Root=1-5759e988-bd862e3fe1be46a994272793|" + parent + "|vendor=1"
	if len(got) != 1 || got[0] != want {
		t.Fatalf("the job saw %q, want %q", got, want)
	}
}
