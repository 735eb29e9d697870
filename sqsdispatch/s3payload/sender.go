package s3payload

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/payload"
	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
)

// DefaultThreshold is the message size in bytes, body and attributes,
// above which a Sender keeps the body in S3: 256 KiB, as the Python
// client, counted the same way.
const DefaultThreshold = payload.DefaultThreshold

// maxAttributes is the number of message attributes SQS allows.
const maxAttributes = 10

// SQSAPI is the part of *sqs.Client a Sender uses.
type SQSAPI interface {
	SendMessage(ctx context.Context, params *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Sender sends SQS messages as the Java and Python extended clients do: a
// message larger than Threshold has its body stored in Bucket and is sent
// as a pointer to it with the ExtendedPayloadSize attribute, in the
// current format (or the legacy one, with Legacy). Smaller messages are
// sent unchanged. Its SendMessage can stand in for
// (*sqs.Client).SendMessage.
type Sender struct {
	// SQS sends the messages. Required.
	SQS SQSAPI
	// S3 stores the bodies. Required for messages that go through S3.
	S3 S3API
	// Bucket is the S3 bucket the bodies are stored in. Required for
	// messages that go through S3.
	Bucket string
	// Threshold is the message size in bytes (body, and each attribute's
	// name, data type and value) above which the body goes to S3. Zero or
	// less means DefaultThreshold.
	Threshold int
	// AlwaysThroughS3 sends every body through S3, whatever its size.
	AlwaysThroughS3 bool
	// Legacy sends pointers in the format of the Java extended client 1.x,
	// as the Python client does with use_legacy_attribute: the class
	// com.amazon.sqs.javamessaging.MessageS3Pointer and the attribute
	// SQSLargePayloadSize, for consumers that read only that format.
	// Current clients, and this library, read both. Defaults to false.
	Legacy bool
}

// SendMessage sends in, through S3 when AlwaysThroughS3 is set or the
// message is larger than Threshold: the body is stored under a new random
// key and a copy of in carrying the pointer and ExtendedPayloadSize (or
// SQSLargePayloadSize, with Legacy) is sent; in itself is left as it was.
// If that send fails, the send's error is returned and the object stays:
// even a send that failed may have been stored (the SDK retries after
// timeouts), and a message may then point to it. Give the bucket a
// lifecycle rule to remove the objects no message needs. Each message
// gets a new key, so SQS's content-based deduplication does not see two
// sends of one payload as the same message: set MessageDeduplicationId on
// FIFO queues.
//
// It refuses a message that carries an ExtendedPayloadSize or
// SQSLargePayloadSize attribute of its own, and a message that needs S3
// when S3 or Bucket is unset or when the message already has the ten
// attributes SQS allows (leaving no room for the size attribute).
func (s *Sender) SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	if s.SQS == nil {
		return nil, errors.New("sqsdispatch: s3payload: Sender.SQS is not set")
	}
	if in == nil {
		return s.SQS.SendMessage(ctx, in, optFns...)
	}
	if name := payload.SizeAttr(in.MessageAttributes); name != "" {
		return nil, fmt.Errorf("sqsdispatch: s3payload: the message attribute %s is reserved for payloads kept in S3", name)
	}
	body := aws.ToString(in.MessageBody)
	if !s.AlwaysThroughS3 && queue.MessageSize(body, in.MessageAttributes) <= s.threshold() {
		return s.SQS.SendMessage(ctx, in, optFns...)
	}
	if s.S3 == nil || s.Bucket == "" {
		return nil, fmt.Errorf("sqsdispatch: s3payload: a message of %d bytes must go through S3 but Sender.S3 or Sender.Bucket is not set", len(body))
	}
	if len(in.MessageAttributes) >= maxAttributes {
		return nil, fmt.Errorf("sqsdispatch: s3payload: a message going through S3 may have at most %d message attributes, this one has %d",
			maxAttributes-1, len(in.MessageAttributes))
	}
	p := payload.Pointer{Bucket: s.Bucket, Key: payload.NewKey(), Legacy: s.Legacy}
	_, err := s.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(p.Bucket),
		Key:           aws.String(p.Key),
		Body:          strings.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
	})
	if err != nil {
		return nil, fmt.Errorf("sqsdispatch: s3payload: storing the body in s3://%s/%s: %w", p.Bucket, p.Key, err)
	}
	out, err := s.SQS.SendMessage(ctx, pointerMessage(in, p, len(body)), optFns...)
	if err != nil {
		return nil, fmt.Errorf("sqsdispatch: s3payload: sending the pointer to s3://%s/%s: %w", p.Bucket, p.Key, err)
	}
	return out, nil
}

func (s *Sender) threshold() int {
	if s.Threshold <= 0 {
		return DefaultThreshold
	}
	return s.Threshold
}

// pointerMessage returns a copy of in that carries p, and the size
// attribute of its format, instead of its body of size bytes.
func pointerMessage(in *sqs.SendMessageInput, p payload.Pointer, size int) *sqs.SendMessageInput {
	out := *in
	out.MessageBody = aws.String(p.Body())
	out.MessageAttributes = make(map[string]types.MessageAttributeValue, len(in.MessageAttributes)+1)
	maps.Copy(out.MessageAttributes, in.MessageAttributes)
	out.MessageAttributes[p.SizeAttr()] = types.MessageAttributeValue{
		DataType:    aws.String("Number"),
		StringValue: aws.String(strconv.Itoa(size)),
	}
	return &out
}
