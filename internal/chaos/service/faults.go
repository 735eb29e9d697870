//go:build linux

package main

import (
	"context"
	"math/rand/v2"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// failingDeletes fails percent of the deletes before they reach SQS, with
// the error of a server that cannot answer for a moment: whole
// DeleteMessage calls (the delete after a continuation) and single
// entries of DeleteMessageBatch calls (the deletes of succeeded jobs).
type failingDeletes struct {
	sqsdispatch.Client
	percent int
}

func (f *failingDeletes) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	if rand.IntN(100) < f.percent {
		return nil, &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: "chaos: injected delete failure", Fault: smithy.FaultServer}
	}
	return f.Client.DeleteMessage(ctx, in, opts...)
}

func (f *failingDeletes) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	var keep []types.DeleteMessageBatchRequestEntry
	var failed []types.BatchResultErrorEntry
	for _, e := range in.Entries {
		if rand.IntN(100) < f.percent {
			failed = append(failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"),
				Message: aws.String("chaos: injected delete failure"), SenderFault: false})
		} else {
			keep = append(keep, e)
		}
	}
	out := &sqs.DeleteMessageBatchOutput{}
	if len(keep) > 0 {
		sent := *in
		sent.Entries = keep
		o, err := f.Client.DeleteMessageBatch(ctx, &sent, opts...)
		if err != nil {
			return nil, err
		}
		out = o
	}
	out.Failed = append(out.Failed, failed...)
	return out, nil
}
