package sqsdispatch

import (
	"errors"
	"fmt"
	"time"
)

// Permanent marks err as a failure that no retry can fix: the dispatcher
// moves the message to the dead-letter queue at once, with err's text as the
// reason. Permanent(nil) returns nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// RetryAfter asks for the message to be delivered again after d: its
// visibility timeout is set to d (capped below SQS's 12-hour limit). err
// says why and may be nil.
func RetryAfter(d time.Duration, err error) error {
	if err == nil {
		err = errors.New("retry requested")
	}
	return &retryError{after: d, err: err}
}

type retryError struct {
	after time.Duration
	err   error
}

func (e *retryError) Error() string {
	return fmt.Sprintf("retry after %s: %s", e.after, e.err.Error())
}
func (e *retryError) Unwrap() error { return e.err }

// IsPermanent reports whether err, or an error it wraps, was made by
// Permanent: a failure the dispatcher dead-letters at once.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// RetryDelay returns the delay err asks for when it, or an error it
// wraps, was made by RetryAfter.
func RetryDelay(err error) (time.Duration, bool) {
	var r *retryError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}
