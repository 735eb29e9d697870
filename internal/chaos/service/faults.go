//go:build linux

package main

import (
	"context"
	"math/rand/v2"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// failingDeletes fails percent of the DeleteMessage calls before they
// reach SQS, with the error of a server that cannot answer for a moment.
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
