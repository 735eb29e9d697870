package sqsdispatchtest_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

func ExampleClient() {
	ctx := context.Background()
	c := sqsdispatchtest.NewClient()

	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String("reports"),
		Attributes: map[string]string{"VisibilityTimeout": "60"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(aws.ToString(q.QueueUrl))

	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    q.QueueUrl,
		MessageBody: aws.String(`{"report":42}`),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"job": {DataType: aws.String("String"), StringValue: aws.String("report")},
		},
	}); err != nil {
		panic(err)
	}

	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    q.QueueUrl,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
		WaitTimeSeconds:             1,
	})
	if err != nil {
		panic(err)
	}
	m := out.Messages[0]
	fmt.Println(aws.ToString(m.Body), aws.ToString(m.MessageAttributes["job"].StringValue),
		"receive", m.Attributes["ApproximateReceiveCount"])
	visible, inflight := c.Counts(aws.ToString(q.QueueUrl))
	fmt.Println("visible", visible, "in flight", inflight)

	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
		panic(err)
	}
	fmt.Println("left", len(c.Messages(aws.ToString(q.QueueUrl))))
	// Output:
	// https://sqs.us-east-1.amazonaws.com/000000000000/reports
	// {"report":42} report receive 1
	// visible 0 in flight 1
	// left 0
}

// ExampleClient_FailEntry fails one entry of a batch call, as SQS may,
// while the call and its other entries succeed.
func ExampleClient_FailEntry() {
	ctx := context.Background()
	mem := sqsdispatchtest.NewClient()
	q, _ := mem.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")})
	for _, body := range []string{"a", "b"} {
		_, _ = mem.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(body)})
	}
	got, _ := mem.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 2})
	first := aws.ToString(got.Messages[0].ReceiptHandle)
	mem.FailEntry("DeleteMessageBatch", func(receipt string) bool { return receipt == first },
		&smithy.GenericAPIError{Code: "InternalError", Message: "try again", Fault: smithy.FaultServer})
	out, _ := mem.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: q.QueueUrl, Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("0"), ReceiptHandle: got.Messages[0].ReceiptHandle},
		{Id: aws.String("1"), ReceiptHandle: got.Messages[1].ReceiptHandle},
	}})
	fmt.Println(len(out.Successful), "deleted;", aws.ToString(out.Failed[0].Id), aws.ToString(out.Failed[0].Code))
	fmt.Println(len(mem.Messages(aws.ToString(q.QueueUrl))), "left")
	// Output:
	// 1 deleted; 0 InternalError
	// 1 left
}
