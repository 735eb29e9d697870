package queue

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func TestSetVisibility(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    time.Duration
		want int32
	}{
		{name: "zero", d: 0, want: 0},
		{name: "whole seconds", d: 30 * time.Second, want: 30},
		{name: "rounded up", d: 30*time.Second + time.Millisecond, want: 31},
		{name: "under a second", d: time.Nanosecond, want: 1},
		{name: "negative", d: -time.Second, want: 0},
		{name: "past the limit", d: 13 * time.Hour, want: 43200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Config{})
			if err := b.q.SetVisibility(b.ctx, "u", "r", "m", tt.d); err != nil {
				t.Fatal(err)
			}
			in := inputsOf[*sqs.ChangeMessageVisibilityInput](b.client)[0]
			if in.VisibilityTimeout != tt.want || aws.ToString(in.QueueUrl) != "u" || aws.ToString(in.ReceiptHandle) != "r" {
				t.Errorf("ChangeMessageVisibility(%+v); want %d s on u with receipt r", in, tt.want)
			}
		})
	}
}

func TestSetVisibilityLeaseGone(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	b.client.visibility = func(context.Context, *sqs.ChangeMessageVisibilityInput) error {
		return apiError("ReceiptHandleIsInvalid")
	}
	err := b.q.SetVisibility(b.ctx, "u", "r", "m-1", time.Second)
	var oe *OpError
	if !errors.As(err, &oe) || oe.Op != "ChangeMessageVisibility" || oe.MessageID != "m-1" || !LeaseGone(err) {
		t.Fatalf("err = %v; want an *OpError of ChangeMessageVisibility of m-1 that LeaseGone recognises", err)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{name: "deleted"},
		{name: "failed", err: apiError("ServiceUnavailable"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Config{})
			b.client.del = func(context.Context, *sqs.DeleteMessageInput) error { return tt.err }
			err := b.q.Delete(b.ctx, "u", "r", "m-1")
			var oe *OpError
			if (err != nil) != tt.wantErr || (err != nil && (!errors.As(err, &oe) || oe.Op != "DeleteMessage" || oe.MessageID != "m-1")) {
				t.Fatalf("Delete: err = %v; want error %t (an *OpError of DeleteMessage of m-1)", err, tt.wantErr)
			}
			in := inputsOf[*sqs.DeleteMessageInput](b.client)[0]
			if aws.ToString(in.QueueUrl) != "u" || aws.ToString(in.ReceiptHandle) != "r" {
				t.Errorf("DeleteMessage(%+v); want u with receipt r", in)
			}
		})
	}
}

func TestCapVisibility(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		d       time.Duration
		elapsed time.Duration // since the receive
		want    time.Duration
	}{
		{name: "well inside the limit", d: time.Minute, elapsed: time.Hour, want: time.Minute},
		{name: "capped near the limit", d: time.Hour, elapsed: 11*time.Hour + 30*time.Minute, want: 30*time.Minute - visibilityLimitMargin},
		{name: "nothing left", d: time.Minute, elapsed: MaxVisibility, want: 0},
		{name: "past the limit", d: time.Minute, elapsed: 13 * time.Hour, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := CapVisibility(tt.d, testStart, testStart.Add(tt.elapsed)); got != tt.want {
				t.Errorf("CapVisibility(%v, +%v) = %v; want %v", tt.d, tt.elapsed, got, tt.want)
			}
		})
	}
}
