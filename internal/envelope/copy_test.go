package envelope

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// TestCopyAttributes: what every copy of a message carries, from the
// attributes it was received with.
func TestCopyAttributes(t *testing.T) {
	t.Parallel()
	received := map[string]types.MessageAttributeValue{
		"job":                 stringAttr("resize"),
		"ExtendedPayloadSize": {DataType: aws.String("Number"), StringValue: aws.String("300000")},
		AttrResume:            {DataType: aws.String("Binary"), BinaryValue: []byte("old")},
		AttrReason:            stringAttr("an earlier move"),
		AttrJob:               stringAttr("an earlier job"),
	}
	tests := []struct {
		name    string
		resume  []byte
		reasons []Reason
		want    map[string]string
	}{
		{name: "a continuation: the user's, the payload size, the new resume state; no stale reasons", resume: []byte("new"),
			want: map[string]string{"job": "resize", "ExtendedPayloadSize": "300000", AttrResume: "new"}},
		{name: "no resume state: the received one is not carried over",
			want: map[string]string{"job": "resize", "ExtendedPayloadSize": "300000"}},
		{name: "a dead-letter copy: fresh reasons replace the received ones", resume: []byte("old"),
			reasons: DeadLetterReasons("bad input", "https://q", "resize", 3),
			want: map[string]string{"job": "resize", "ExtendedPayloadSize": "300000", AttrResume: "old",
				AttrReason: "bad input", AttrSourceQueue: "https://q", AttrJob: "resize", AttrReceiveCount: "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Copy{Body: "body", Attributes: received, Resume: tt.resume, Reasons: tt.reasons}
			got, err := c.MessageAttributes(256 << 10)
			if err != nil {
				t.Fatal(err)
			}
			if g := attrValues(got); !maps.Equal(g, tt.want) {
				t.Errorf("attributes = %v\nwant         %v", g, tt.want)
			}
			if got[AttrResume].DataType != nil && aws.ToString(got[AttrResume].DataType) != "Binary" {
				t.Errorf("resume attribute of type %q; want Binary", aws.ToString(got[AttrResume].DataType))
			}
			if len(received) != 5 {
				t.Errorf("the received attributes were modified: %v", received)
			}
		})
	}
}

func TestCopyThatDoesNotFit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		attrs   map[string]types.MessageAttributeValue
		resume  []byte
		maxSize int
		wantIs  error
	}{
		{name: "ten attributes and a resume state", attrs: nAttrs(10), resume: []byte("x"), wantIs: ErrTooManyAttributes},
		{name: "ten attributes, nothing added", attrs: nAttrs(10), maxSize: 1 << 10},
		{name: "larger than the queue allows", attrs: nAttrs(1), resume: []byte(strings.Repeat("x", 100)), maxSize: 100, wantIs: ErrTooLarge},
		{name: "no size check", attrs: nAttrs(1), resume: []byte(strings.Repeat("x", 100))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Copy{Body: "body", Attributes: tt.attrs, Resume: tt.resume}.MessageAttributes(tt.maxSize)
			if tt.wantIs == nil && err != nil || tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v; want %v", err, tt.wantIs)
			}
		})
	}
}

// TestCopyReasons: reasons are added in order while SQS's attribute count
// and the queue's size limit leave room.
func TestCopyReasons(t *testing.T) {
	t.Parallel()
	all := []string{AttrReason, AttrSourceQueue, AttrJob, AttrReceiveCount}
	// Room for the reason alone: len(name)+len("String")+len(value).
	reasonOnly := len("body") + len("a0") + len("String") + len("v") + len(AttrReason) + len("String") + len("bad input")
	tests := []struct {
		name    string
		attrs   map[string]types.MessageAttributeValue
		maxSize int
		reason  string
		want    []string
	}{
		{name: "room for all", attrs: nAttrs(1), maxSize: 1 << 10, reason: "bad input", want: all},
		{name: "ten attributes already", attrs: nAttrs(10), maxSize: 1 << 10, reason: "bad input"},
		{name: "room for two", attrs: nAttrs(8), maxSize: 1 << 10, reason: "bad input", want: all[:2]},
		{name: "no room in the size limit", attrs: nAttrs(1), maxSize: reasonOnly - 1, reason: "bad input"},
		{name: "room for the reason only", attrs: nAttrs(1), maxSize: reasonOnly, reason: "bad input", want: all[:1]},
		{name: "empty reason skipped", attrs: nAttrs(1), maxSize: 1 << 10, want: all[1:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Copy{Body: "body", Attributes: tt.attrs, Reasons: DeadLetterReasons(tt.reason, "https://q", "resize", 3)}
			got, err := c.MessageAttributes(tt.maxSize)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) > MaxAttributes {
				t.Errorf("%d attributes; SQS allows %d", len(got), MaxAttributes)
			}
			var added []string
			for _, name := range all {
				if _, ok := got[name]; ok {
					added = append(added, name)
				}
			}
			if !slices.Equal(added, tt.want) {
				t.Errorf("reason attributes = %v; want %v", added, tt.want)
			}
		})
	}
}

func TestCopySystemAttributes(t *testing.T) {
	t.Parallel()
	if got := (Copy{}).SystemAttributes(); got != nil {
		t.Errorf("no trace header: %v; want none", got)
	}
	got := Copy{TraceHeader: "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"}.SystemAttributes()
	if v := got["AWSTraceHeader"]; aws.ToString(v.StringValue) != "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1" || aws.ToString(v.DataType) != "String" {
		t.Errorf("system attributes = %+v; want the AWSTraceHeader as a String", got)
	}
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{name: "plain", in: "bad input\n\tline 2", want: "bad input\n\tline 2"},
		{name: "control characters", in: "a\x00b\x1fc", want: "a?b?c"},
		{name: "beyond the BMP", in: "a\U0001F600b", want: "a?b"},
		{name: "bounded on a rune boundary", in: strings.Repeat("é", maxReasonBytes), want: strings.Repeat("é", maxReasonBytes/2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sanitize(tt.in); got != tt.want {
				t.Errorf("sanitize(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}
