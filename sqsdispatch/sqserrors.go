package sqsdispatch

import (
	"errors"
	"fmt"
	"strings"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
)

// errorCode returns the SQS error code of err, or "".
func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// isFatal reports whether an error will not go away by retrying: the
// queue is missing, access is denied, or the credentials are bad.
func isFatal(err error) bool { return fatalReason(err) != "" }

// fatalReason says in words why err will not go away by retrying, or "".
func fatalReason(err error) string {
	var signing *v4.SigningError
	if errors.As(err, &signing) {
		return "no usable AWS credentials"
	}
	switch errorCode(err) {
	case "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "InvalidAddress":
		return "the queue does not exist"
	case "AccessDenied", "AccessDeniedException", "KmsAccessDenied":
		return "access to the queue is denied"
	case "InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "ExpiredToken", "InvalidSecurity":
		return "the AWS credentials are invalid or expired"
	}
	return ""
}

// sqsError wraps an SQS call's error, saying in words why it is fatal when
// it is.
func sqsError(op, queue, msgID string, err error) *DispatcherError {
	if why := fatalReason(err); why != "" {
		err = fmt.Errorf("%s: %w", why, err)
	}
	return &DispatcherError{Op: op, Queue: queue, MessageID: msgID, Err: err}
}

// leaseGoneCode reports whether a visibility change failed with this code
// and message because the receipt handle no longer holds the message.
func leaseGoneCode(code, msg string) bool {
	switch code {
	case "ReceiptHandleIsInvalid", "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight":
		return true
	case "InvalidParameterValue":
		return strings.Contains(strings.ToLower(msg), "receipt")
	}
	return false
}
