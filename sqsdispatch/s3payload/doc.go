// Package s3payload keeps SQS message payloads in Amazon S3 in the format
// of AWS's extended clients for Java (amazon-sqs-java-extended-client-lib)
// and Python (amazon-sqs-python-extended-client-lib), so that messages
// larger than SQS allows can be sent and dispatched.
//
// A payload kept in S3 travels as a pointer. The message carries the
// reserved Number attribute ExtendedPayloadSize, the payload's size in
// bytes, and its body is
//
//	["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"BUCKET","s3Key":"KEY"}]
//
// The Java client 1.x, and the Python client in its legacy mode, write
// the legacy format instead: the attribute SQSLargePayloadSize and the
// class com.amazon.sqs.javamessaging.MessageS3Pointer. The object's
// content is the original body, byte for byte; its key is a random UUID.
//
// A message is recognised as a pointer the way the clients recognise it:
// by the size attribute, either name, and then its body must be a pointer
// of either class (else the dispatcher dead-letters it with the reason). A
// body that reads as a pointer without the attribute is an ordinary body.
//
// The format works in both directions. Messages that the Java or Python
// extended client sent are dispatched by a dispatcher whose
// Config.Payloads is a [NewStore]: the job receives the payload as its
// body. Messages that a [Sender] sent are read by the Java or Python
// extended client configured with payload support, as by this library.
//
// A pointer names whatever bucket and key its sender chose. The store
// reads and deletes only in the buckets (and under the key prefixes) it
// is given, with [AllowBuckets] or [AllowPrefix]; without them it refuses
// every pointer. A pointer outside them is dead-lettered with the reason,
// and its object is neither read nor deleted: whoever can send to the
// queue cannot make the service read, or delete, other objects its role
// can reach.
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
//		Payloads:       s3payload.NewStore(s3.NewFromConfig(awsCfg), s3payload.AllowBuckets("my-payloads")),
//		DeletePayloads: true,
//	})
//
// Wiring a producer: a [Sender] stands in for the SQS client's
// SendMessage and moves bodies past the threshold (256 KiB, as the Python
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
