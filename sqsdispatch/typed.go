package sqsdispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// JSONOption configures JSONJob.
type JSONOption func(*jsonOptions)

type jsonOptions struct{ strict bool }

// Strict makes JSONJob reject bodies with fields that T does not have.
func Strict() JSONOption { return func(o *jsonOptions) { o.strict = true } }

// JSONJob turns a function of a typed value into a JobFunc that decodes the
// message body as JSON into a T. Unknown fields are ignored unless Strict
// is given. A body that does not decode (or has trailing data) is a
// permanent failure: the message goes to the dead-letter queue with the
// decode error as the reason.
func JSONJob[T any](fn func(ctx context.Context, v T, msg *Message) error, opts ...JSONOption) JobFunc {
	var o jsonOptions
	for _, opt := range opts {
		opt(&o)
	}
	return func(ctx context.Context, msg *Message) error {
		var v T
		dec := json.NewDecoder(bytes.NewReader([]byte(msg.Body)))
		if o.strict {
			dec.DisallowUnknownFields()
		}
		if err := dec.Decode(&v); err != nil {
			return Permanent(fmt.Errorf("decoding the JSON body into %T: %w", v, err))
		}
		if _, err := dec.Token(); err != io.EOF {
			return Permanent(fmt.Errorf("decoding the JSON body into %T: trailing data after the value", v))
		}
		return fn(ctx, v, msg)
	}
}
