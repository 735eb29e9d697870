package queue

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sqsdispatch/go-sqsdispatch/internal/envelope"
)

func TestIsFatal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil, want: false},
		{name: "plain error", err: errors.New("connection reset"), want: false},
		{name: "throttled", err: apiError("ThrottlingException"), want: false},
		{name: "server error", err: apiError("InternalError"), want: false},
		{name: "queue missing", err: apiError("QueueDoesNotExist"), want: true},
		{name: "queue missing, legacy code", err: apiError("AWS.SimpleQueueService.NonExistentQueue"), want: true},
		{name: "invalid address", err: apiError("InvalidAddress"), want: true},
		{name: "access denied", err: apiError("AccessDenied"), want: true},
		{name: "access denied exception", err: apiError("AccessDeniedException"), want: true},
		{name: "KMS access denied", err: apiError("KmsAccessDenied"), want: true},
		{name: "bad key id", err: apiError("InvalidClientTokenId"), want: true},
		{name: "unrecognized client", err: apiError("UnrecognizedClientException"), want: true},
		{name: "bad signature", err: apiError("SignatureDoesNotMatch"), want: true},
		{name: "expired token", err: apiError("ExpiredToken"), want: true},
		{name: "invalid security", err: apiError("InvalidSecurity"), want: true},
		{name: "signing failed", err: &v4.SigningError{Err: errors.New("no credentials")}, want: true},
		{name: "wrapped by the SDK", err: &smithy.OperationError{ServiceID: "SQS", OperationName: "ReceiveMessage", Err: apiError("AccessDenied")}, want: true},
		{name: "wrapped in OpError", err: opError(context.Background(), "ReceiveMessage", "q", "", apiError("QueueDoesNotExist")), want: true},
		{name: "wrapped with %w", err: fmt.Errorf("x: %w", apiError("ExpiredToken")), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := IsFatal(tt.err); got != tt.want {
				t.Errorf("IsFatal(%v) = %t; want %t", tt.err, got, tt.want)
			}
		})
	}
}

func TestLeaseGone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "invalid receipt handle", err: apiError("ReceiptHandleIsInvalid"), want: true},
		{name: "not in flight", err: apiError("AWS.SimpleQueueService.MessageNotInflight"), want: true},
		{name: "receipt parameter", err: &smithy.GenericAPIError{Code: "InvalidParameterValue", Message: "Value r for parameter ReceiptHandle is invalid"}, want: true},
		{name: "other parameter", err: &smithy.GenericAPIError{Code: "InvalidParameterValue", Message: "VisibilityTimeout too large"}, want: false},
		{name: "throttled", err: apiError("ThrottlingException"), want: false},
		{name: "plain error", err: errors.New("timeout"), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := LeaseGone(opError(context.Background(), "ChangeMessageVisibility", "q", "m", tt.err)); got != tt.want {
				t.Errorf("LeaseGone(%v) = %t; want %t", tt.err, got, tt.want)
			}
		})
	}
}

func TestOpError(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		op, q, m string
		err      error
		want     string
		wantIs   error
	}{
		{name: "queue and message", ctx: context.Background(), op: "DeleteMessage", q: "u", m: "m-1", err: errors.New("boom"),
			want: "sqsdispatch: DeleteMessage of message m-1 on u: boom"},
		{name: "fatal says why", ctx: context.Background(), op: "ReceiveMessage", q: "u", err: apiError("QueueDoesNotExist"),
			want: "sqsdispatch: ReceiveMessage on u: the queue does not exist: api error QueueDoesNotExist: test: QueueDoesNotExist"},
		{name: "inner prefix trimmed", ctx: context.Background(), op: "dead-letter", q: "u", err: ErrNoRedrivePolicy,
			want: "sqsdispatch: dead-letter on u: queue has no redrive policy", wantIs: ErrNoRedrivePolicy},
		{name: "ended context found", ctx: cancelled, op: "ReceiveMessage", q: "u", err: errors.New("request canceled"),
			want: "sqsdispatch: ReceiveMessage on u: context canceled: request canceled", wantIs: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := opError(tt.ctx, tt.op, tt.q, tt.m, tt.err)
			if err.Error() != tt.want {
				t.Errorf("Error() = %q; want %q", err.Error(), tt.want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
		})
	}
}

// response is an SDK error carrying an HTTP answer with status code.
func response(status int, code string) error {
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err: &smithy.GenericAPIError{Code: code}},
	}
}

func TestRejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil, want: false},
		{name: "a bad parameter (400)", err: response(400, "InvalidParameterValue"), want: true},
		{name: "throttled (400): not stored either", err: response(400, "ThrottlingException"), want: true},
		{name: "access denied (403)", err: response(403, "AccessDenied"), want: true},
		{name: "server error (500): its effect is unknown", err: response(500, "InternalError"), want: false},
		{name: "unavailable (503)", err: response(503, "ServiceUnavailable"), want: false},
		{name: "timed out", err: fmt.Errorf("send: %w", context.DeadlineExceeded), want: false},
		{name: "connection reset", err: errors.New("read: connection reset by peer"), want: false},
		{name: "a client fault without a response (an in-memory client)",
			err: &smithy.GenericAPIError{Code: "InvalidParameterValue", Fault: smithy.FaultClient}, want: true},
		{name: "a fault of unknown origin", err: apiError("Whatever"), want: false},
		{name: "a copy with too many attributes: never sent", err: fmt.Errorf("copy: %w", envelope.ErrTooManyAttributes), want: true},
		{name: "a copy too large: never sent", err: &OpError{Op: "SendMessage", Err: envelope.ErrTooLarge}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Rejected(tt.err); got != tt.want {
				t.Errorf("Rejected(%v) = %t; want %t", tt.err, got, tt.want)
			}
		})
	}
}
