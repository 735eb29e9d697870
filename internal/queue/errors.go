package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/sqsdispatch/go-sqsdispatch/internal/envelope"
)

// ErrNoRedrivePolicy means a message had to go to the dead-letter queue but
// its queue has no RedrivePolicy. The message is left where it is.
var ErrNoRedrivePolicy = errors.New("sqsdispatch: queue has no redrive policy")

// ErrConfig is wrapped by the error Check returns when the queues'
// attributes and the configuration together would lose or duplicate work.
var ErrConfig = errors.New("sqsdispatch: queue configuration would lose or duplicate work")

// OpError is the failure of one SQS operation, or of a step built from
// several (a dead-letter move).
type OpError struct {
	// Op is the operation that failed, usually the SQS API name.
	Op        string
	Queue     string
	MessageID string
	Err       error
}

// Error says what failed, where and why.
func (e *OpError) Error() string {
	var b strings.Builder
	b.WriteString("sqsdispatch: ")
	b.WriteString(e.Op)
	if e.MessageID != "" {
		fmt.Fprintf(&b, " of message %s", e.MessageID)
	}
	if e.Queue != "" {
		fmt.Fprintf(&b, " on %s", e.Queue)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %s", strings.TrimPrefix(e.Err.Error(), "sqsdispatch: "))
	}
	return b.String()
}

// Unwrap returns Err.
func (e *OpError) Unwrap() error { return e.Err }

// IsFatal reports whether err will not go away by retrying: the queue is
// missing, access to it is denied, or the credentials are bad.
func IsFatal(err error) bool { return fatalReason(err) != "" }

// LeaseGone reports whether a visibility change failed because the receipt
// handle no longer holds the message.
func LeaseGone(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && LeaseGoneCode(api.ErrorCode(), api.ErrorMessage())
}

// LeaseGoneCode reports whether an SQS error with this code and message
// (for example a failed entry of ChangeMessageVisibilityBatch) means the
// receipt handle no longer holds the message.
func LeaseGoneCode(code, msg string) bool {
	switch code {
	case "ReceiptHandleIsInvalid", "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight":
		return true
	case "InvalidParameterValue":
		return strings.Contains(strings.ToLower(msg), "receipt")
	}
	return false
}

// errorCode returns the SQS error code of err, or "".
func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

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

// opError wraps the error of an SQS call made with ctx. It says in words
// why the error is fatal when it is, and makes errors.Is find ctx's error
// when ctx ended.
func opError(ctx context.Context, op, queue, msgID string, err error) *OpError {
	if why := fatalReason(err); why != "" {
		err = fmt.Errorf("%s: %w", why, err)
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	return &OpError{Op: op, Queue: queue, MessageID: msgID, Err: err}
}

// Rejected reports whether SQS answered a call with a refusal: a 4xx
// status (a bad parameter, a message too large, throttling, denied
// access), so that the call certainly had no effect; or whether the call
// was refused before it was made (a copy that does not fit). A timeout, a
// broken connection or a 5xx leaves the call's effect unknown.
func Rejected(err error) bool {
	if errors.Is(err, envelope.ErrTooManyAttributes) || errors.Is(err, envelope.ErrTooLarge) {
		return true
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode() >= 400 && re.HTTPStatusCode() < 500
	}
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorFault() == smithy.FaultClient
}

// Redact hides the receipt handle in an error message from SQS: it lets
// another holder change the message, so it stays out of logs and errors.
// Handles are long; a short one is left alone rather than mangle the text.
func Redact(msg, receipt string) string {
	if len(receipt) < 8 {
		return msg
	}
	return strings.ReplaceAll(msg, receipt, "<receipt handle>")
}
