package sqsdispatchtest

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// Error codes SQS uses that have no type of their own in the SDK.
const (
	codeInvalidParameterValue = "InvalidParameterValue"
	codeMissingParameter      = "MissingParameter"
)

// opError wraps an API error the way the SDK does, so that errors.As finds
// the smithy.APIError (or the SDK's typed error) inside.
func opError(op string, err error) error {
	if err == nil {
		return nil
	}
	return &smithy.OperationError{ServiceID: "SQS", OperationName: op, Err: err}
}

func invalidParameter(format string, args ...any) error {
	return &smithy.GenericAPIError{Code: codeInvalidParameterValue, Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}

func missingParameter(name string) error {
	return &smithy.GenericAPIError{Code: codeMissingParameter,
		Message: "The request must contain the parameter " + name + ".", Fault: smithy.FaultClient}
}

func queueDoesNotExist() error {
	return &types.QueueDoesNotExist{Message: aws.String("The specified queue does not exist.")}
}

func receiptHandleIsInvalid(handle string) error {
	return &types.ReceiptHandleIsInvalid{Message: aws.String(fmt.Sprintf("The input receipt handle %q is not a valid receipt handle.", handle))}
}

func messageNotInflight() error {
	return &types.MessageNotInflight{Message: aws.String("The message referred to isn't in flight.")}
}

func invalidAttributeName(name string) error {
	return &types.InvalidAttributeName{Message: aws.String("Unknown Attribute " + name + ".")}
}

func invalidAttributeValue(name, reason string) error {
	return &types.InvalidAttributeValue{Message: aws.String(fmt.Sprintf("Invalid value for the parameter %s. Reason: %s", name, reason))}
}

// batchFailure turns the error of one batch entry into its result.
func batchFailure(id string, err error) types.BatchResultErrorEntry {
	e := types.BatchResultErrorEntry{Id: aws.String(id), Code: aws.String("InternalError"), Message: aws.String(err.Error())}
	var api smithy.APIError
	if errors.As(err, &api) {
		e.Code = aws.String(api.ErrorCode())
		e.Message = aws.String(api.ErrorMessage())
		e.SenderFault = api.ErrorFault() != smithy.FaultServer
	}
	return e
}
