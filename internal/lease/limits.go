package lease

import (
	"errors"
	"strings"
	"time"
)

// ErrLost means a message's lease was lost: its receipt handle stopped
// holding the message, or its visibility timeout ran out before it could
// be extended. Another consumer may already have the message.
var ErrLost = errors.New("sqsdispatch: message lease lost")

const (
	// MaxAgeDefault is SQS's limit on a message's visibility, counted from
	// the receive that returned it.
	MaxAgeDefault = 12 * time.Hour
	// Margin is how long before the MaxAge limit every visibility capped
	// by Cap ends.
	Margin = 10 * time.Second
)

// Cap returns the visibility d, shortened so that it ends Margin before
// maxAge for a message received age ago; never negative.
func Cap(d, age, maxAge time.Duration) time.Duration {
	return max(0, min(d, maxAge-age-Margin))
}

// Gone reports whether a visibility change failed with this error code and
// message because the receipt handle no longer holds the message.
func Gone(code, message string) bool {
	switch code {
	case "ReceiptHandleIsInvalid", "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight":
		return true
	case "InvalidParameterValue":
		return strings.Contains(strings.ToLower(message), "receipt")
	}
	return false
}
