package sqsdispatch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// memoryBase begins the URLs of the in-memory queues, so that a URL tells
// which backend holds its queue.
const memoryBase = "http://memory.invalid/000000000000"

// memory is the in-memory SQS the behaviour tests also run against; its
// queues are named after their tests, as on the local server.
var memory = sqsdispatchtest.NewClient(sqsdispatchtest.WithBaseURL(memoryBase))

// sqsAPI is what the tests use of an SQS service: the dispatcher's calls,
// and creating and configuring queues.
type sqsAPI interface {
	sqsdispatch.Client
	CreateQueue(ctx context.Context, in *sqs.CreateQueueInput, optFns ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error)
	SetQueueAttributes(ctx context.Context, in *sqs.SetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.SetQueueAttributesOutput, error)
}

// backend is an SQS service for the behaviour tests.
type backend struct {
	name string
	api  sqsAPI
}

// backends returns the local server (first) and the in-memory client.
func backends() []backend {
	return []backend{{"fauxqs", client}, {"memory", memory}}
}

// apiFor returns the backend holding the queue at url.
func apiFor(url string) sqsAPI {
	if strings.HasPrefix(url, memoryBase+"/") {
		return memory
	}
	return client
}

// forEachBackend runs fn once per backend, each in a parallel subtest
// named after it, on fresh queues made to spec.
func forEachBackend(t *testing.T, spec fauxqs.QueueSpec, fn func(t *testing.T, b *bundle)) {
	t.Helper()
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			fn(t, setupOn(t, be, spec))
		})
	}
}

// createQueues creates spec's queue on api, and first its dead-letter
// queue when spec.MaxReceiveCount > 0, as fauxqs.CreateQueues does.
func createQueues(ctx context.Context, api sqsAPI, spec fauxqs.QueueSpec) (fauxqs.Queues, error) {
	var q fauxqs.Queues
	suffix, attrs, dlqAttrs := "", map[string]string{"ReceiveMessageWaitTimeSeconds": strconv.Itoa(spec.WaitSeconds)}, map[string]string{}
	if spec.VisibilitySeconds > 0 {
		attrs["VisibilityTimeout"] = strconv.Itoa(spec.VisibilitySeconds)
	}
	if spec.FIFO {
		suffix, attrs["FifoQueue"], dlqAttrs["FifoQueue"] = ".fifo", "true", "true"
	}
	create := func(name string, attrs map[string]string) (string, error) {
		out, err := api.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + suffix), Attributes: attrs})
		if err != nil {
			return "", fmt.Errorf("creating queue %s: %w", name+suffix, err)
		}
		return aws.ToString(out.QueueUrl), nil
	}
	if spec.MaxReceiveCount > 0 {
		url, err := create(spec.Name+"-dlq", dlqAttrs)
		if err != nil {
			return q, err
		}
		q.DLQURL = url
		out, err := api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
		if err != nil {
			return q, fmt.Errorf("reading the DLQ's ARN: %w", err)
		}
		policy, _ := json.Marshal(map[string]string{"deadLetterTargetArn": out.Attributes["QueueArn"],
			"maxReceiveCount": strconv.Itoa(spec.MaxReceiveCount)})
		attrs["RedrivePolicy"] = string(policy)
	}
	url, err := create(spec.Name, attrs)
	q.URL = url
	return q, err
}
