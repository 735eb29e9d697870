package sqsdispatch_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// The examples run against the in-memory SQS of sqsdispatchtest; a
// service passes sqs.NewFromConfig(awsCfg) instead. Their jobs (greet,
// sendInvoice, flaky) print what the child does.

func ExampleRegistry_Register() {
	// In a service this registry is built by a function that main calls,
	// and sqsdispatch.Init(reg) is main's first line (here: TestMain's).
	reg := sqsdispatch.NewRegistry()
	reg.Register("greet", greet)

	ctx := context.Background()
	c := sqsdispatchtest.NewClient()
	queue := exampleQueue(ctx, c, "greetings")
	exampleSend(ctx, c, queue, "world", "")

	d, err := sqsdispatch.New(sqsdispatch.Config{Client: c, QueueURL: queue, Registry: reg, Job: "greet", WaitTime: time.Second})
	if err != nil {
		panic(err)
	}
	handled, err := d.DispatchOne(ctx)
	fmt.Println("parent: handled", handled, "error", err)
	// Output:
	// child: hello, world
	// parent: handled true error <nil>
}

func ExampleJSONJob() {
	reg := sqsdispatch.NewRegistry()
	reg.Register("invoice", sqsdispatch.JSONJob(sendInvoice))

	ctx := context.Background()
	c := sqsdispatchtest.NewClient()
	queue := exampleQueue(ctx, c, "invoices")
	exampleSend(ctx, c, queue, `{"number": "F-17", "total": 99.5}`, "")
	exampleSend(ctx, c, queue, `{"number": `, "")

	d, err := sqsdispatch.New(sqsdispatch.Config{Client: c, QueueURL: queue, Registry: reg, Job: "invoice", WaitTime: time.Second})
	if err != nil {
		panic(err)
	}
	for range 2 {
		_, err := d.DispatchOne(ctx)
		var je *sqsdispatch.JobError
		if errors.As(err, &je) && je.Permanent {
			fmt.Println("parent: dead-lettered:", je.Message)
		}
	}
	// Output:
	// child: invoice F-17 for 99.50 sent
	// parent: dead-lettered: decoding the JSON body into sqsdispatch_test.Invoice: unexpected EOF
}

func ExampleRouteByAttribute() {
	reg := sqsdispatch.NewRegistry()
	reg.Register("greet", greet)
	reg.Register("invoice", sqsdispatch.JSONJob(sendInvoice))

	ctx := context.Background()
	c := sqsdispatchtest.NewClient()
	queue := exampleQueue(ctx, c, "mixed")
	exampleSend(ctx, c, queue, "router", "greet")
	exampleSend(ctx, c, queue, `{"number": "F-18", "total": 12}`, "invoice")

	d, err := sqsdispatch.New(sqsdispatch.Config{Client: c, QueueURL: queue, Registry: reg,
		Route: sqsdispatch.RouteByAttribute("job"), WaitTime: time.Second})
	if err != nil {
		panic(err)
	}
	for range 2 {
		if _, err := d.DispatchOne(ctx); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// child: hello, router
	// child: invoice F-18 for 12.00 sent
}

func ExampleRetryAfter() {
	reg := sqsdispatch.NewRegistry()
	reg.Register("flaky", flaky)

	ctx := context.Background()
	c := sqsdispatchtest.NewClient()
	queue := exampleQueue(ctx, c, "flaky")
	exampleSend(ctx, c, queue, "x", "")

	d, err := sqsdispatch.New(sqsdispatch.Config{Client: c, QueueURL: queue, Registry: reg, Job: "flaky",
		VisibilityTimeout: 30 * time.Second, WaitTime: 5 * time.Second})
	if err != nil {
		panic(err)
	}
	_, err = d.DispatchOne(ctx)
	var je *sqsdispatch.JobError
	if errors.As(err, &je) {
		fmt.Println("parent: retry after", je.RetryAfter)
	}
	_, err = d.DispatchOne(ctx) // the long poll returns once the message is visible again
	fmt.Println("parent: second delivery error", err)
	// Output:
	// child: upstream busy, retry in 1s
	// parent: retry after 1s
	// child: done on delivery 2
	// parent: second delivery error <nil>
}

// exampleQueue creates a queue named name, with a dead-letter queue, and
// returns its URL.
func exampleQueue(ctx context.Context, c *sqsdispatchtest.Client, name string) string {
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	if err != nil {
		panic(err)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		panic(err)
	}
	policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"5"}`, attrs.Attributes["QueueArn"])
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name),
		Attributes: map[string]string{"RedrivePolicy": policy}})
	if err != nil {
		panic(err)
	}
	return aws.ToString(q.QueueUrl)
}

// exampleSend sends body to queue, with a "job" attribute unless job is empty.
func exampleSend(ctx context.Context, c *sqsdispatchtest.Client, queue, body, job string) {
	in := &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(body)}
	if job != "" {
		in.MessageAttributes = map[string]types.MessageAttributeValue{
			"job": {DataType: aws.String("String"), StringValue: aws.String(job)}}
	}
	if _, err := c.SendMessage(ctx, in); err != nil {
		panic(err)
	}
}
