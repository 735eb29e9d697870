// Package s3payload keeps SQS message payloads in Amazon S3 in the format
// of AWS's extended clients for Java (amazon-sqs-java-extended-client-lib)
// and Python (amazon-sqs-python-extended-client-lib), so that messages
// larger than SQS allows can be sent and dispatched.
//
// A payload kept in S3 travels as a pointer: the message body is
//
//	["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"BUCKET","s3Key":"KEY"}]
//
// and the message carries the Number attribute ExtendedPayloadSize, the
// payload's size in bytes (older Java clients named it
// SQSLargePayloadSize). The object's content is the original body, byte
// for byte; its key is a random UUID.
//
// The format works in both directions. Messages that the Java or Python
// extended client sent are dispatched by a dispatcher whose
// Config.Payloads is a [NewStore]: the job receives the payload as its
// body. Messages that a [Sender] sent are read by the Java or Python
// extended client configured with payload support, as by this library.
//
// Wiring a consumer: with Config.DeletePayloads, the object is deleted
// once its job has succeeded; a message dead-lettered keeps its pointer
// and its object.
//
//	awsCfg, err := config.LoadDefaultConfig(ctx)
//	if err != nil {
//		log.Fatal(err)
//	}
//	d, err := sqsdispatch.New(sqsdispatch.Config{
//		Client:         sqs.NewFromConfig(awsCfg),
//		QueueURL:       os.Getenv("QUEUE_URL"),
//		Registry:       reg,
//		Job:            "report",
//		Payloads:       s3payload.NewStore(s3.NewFromConfig(awsCfg)),
//		DeletePayloads: true,
//	})
//
// Wiring a producer: a [Sender] stands in for the SQS client's
// SendMessage and moves bodies past the threshold (256 KiB, as the Java
// client) to the bucket.
//
//	sender := &s3payload.Sender{
//		SQS:    sqs.NewFromConfig(awsCfg),
//		S3:     s3.NewFromConfig(awsCfg),
//		Bucket: "my-payloads",
//	}
//	_, err = sender.SendMessage(ctx, &sqs.SendMessageInput{
//		QueueUrl:    aws.String(queueURL),
//		MessageBody: aws.String(bigBody),
//	})
//
// Only programs that import this package link the S3 client.
package s3payload
