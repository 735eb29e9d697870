package s3payload_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/s3payload"
)

// A producer sends a report too large for SQS: the Sender stores it in
// the bucket and sends a pointer, which a dispatcher with
// Config.Payloads, or the Java or Python extended client, reads back.
func ExampleSender() {
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	sender := &s3payload.Sender{
		SQS:    sqs.NewFromConfig(awsCfg),
		S3:     s3.NewFromConfig(awsCfg),
		Bucket: os.Getenv("PAYLOAD_BUCKET"),
	}
	report := strings.Repeat("row\n", 1<<20) // 4 MiB, past the 256 KiB threshold
	out, err := sender.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(os.Getenv("QUEUE_URL")),
		MessageBody: aws.String(report),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"job": {DataType: aws.String("String"), StringValue: aws.String("report")},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sent", aws.ToString(out.MessageId))
}

// A consumer reads the payloads of one bucket, and of one prefix of a
// shared bucket; a pointer to any other object is dead-lettered with the
// reason, and that object is neither read nor deleted.
func ExampleNewStore() {
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	reg := sqsdispatch.NewRegistry() // built by the same function in every process
	reg.Register("report", func(_ context.Context, m *sqsdispatch.Message) error {
		fmt.Println("report of", len(m.Body), "bytes") // the payload, whatever its size
		return nil
	})
	d, err := sqsdispatch.New(sqsdispatch.Config{
		Client:   sqs.NewFromConfig(awsCfg),
		QueueURL: os.Getenv("QUEUE_URL"),
		Registry: reg,
		Job:      "report",
		Payloads: s3payload.NewStore(s3.NewFromConfig(awsCfg),
			s3payload.AllowBuckets("my-payloads"),
			s3payload.AllowPrefix("shared-bucket", "sqs-payloads/")),
		DeletePayloads: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := d.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
