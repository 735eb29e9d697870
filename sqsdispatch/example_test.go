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
)

func ExampleRegistry_Register() {
	// In a service this registry is built by a function that main calls,
	// and sqsdispatch.Init(reg) is main's first line (here: TestMain's).
	reg := sqsdispatch.NewRegistry()
	reg.Register("greet", greet)

	queue := exampleQueue("example-register")
	ctx := context.Background()
	client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String("world")})

	d, err := sqsdispatch.New(sqsdispatch.Config{Client: client, QueueURL: queue, Registry: reg, Job: "greet", WaitTime: time.Second})
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

	queue := exampleQueue("example-jsonjob")
	ctx := context.Background()
	for _, body := range []string{`{"number": "F-17", "total": 99.5}`, `{"number": `} {
		client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(body)})
	}
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: client, QueueURL: queue, Registry: reg, Job: "invoice", WaitTime: time.Second})
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

	queue := exampleQueue("example-route")
	ctx := context.Background()
	for _, m := range []struct{ job, body string }{{"greet", "router"}, {"invoice", `{"number": "F-18", "total": 12}`}} {
		client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(m.body),
			MessageAttributes: map[string]types.MessageAttributeValue{
				"job": {DataType: aws.String("String"), StringValue: aws.String(m.job)}}})
	}
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: client, QueueURL: queue, Registry: reg,
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

	queue := exampleQueue("example-retryafter")
	ctx := context.Background()
	client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String("x")})
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: client, QueueURL: queue, Registry: reg, Job: "flaky",
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
