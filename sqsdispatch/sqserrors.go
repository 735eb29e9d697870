package sqsdispatch

import (
	"errors"
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

// isFatal reports whether a receive error will not go away by retrying:
// the queue is missing, access is denied, or the credentials are bad.
func isFatal(err error) bool {
	var signing *v4.SigningError
	if errors.As(err, &signing) {
		return true
	}
	switch errorCode(err) {
	case "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
		"AccessDenied", "AccessDeniedException", "InvalidClientTokenId",
		"UnrecognizedClientException", "SignatureDoesNotMatch", "ExpiredToken",
		"InvalidSecurity", "KmsAccessDenied", "InvalidAddress":
		return true
	}
	return false
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
