package envelope

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func TestMessageSize(t *testing.T) {
	t.Parallel()
	binary := func(dataType string, v []byte) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String(dataType), BinaryValue: v}
	}
	number := types.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String("12345")}
	tests := []struct {
		name  string
		body  string
		attrs map[string]types.MessageAttributeValue
		want  int
	}{
		{name: "empty", want: 0},
		{name: "body only", body: "hello", want: 5},
		{name: "body counted in UTF-8 bytes", body: "h\u00e9llo\u20ac", want: 9},
		{name: "string attribute", body: "abc",
			attrs: map[string]types.MessageAttributeValue{"colour": stringAttr("blue")}, want: 3 + 6 + 6 + 4},
		{name: "number attribute", attrs: map[string]types.MessageAttributeValue{"n": number}, want: 1 + 6 + 5},
		{name: "binary attribute", body: "x",
			attrs: map[string]types.MessageAttributeValue{"blob": binary("Binary.gz", []byte{0, 1, 2})}, want: 1 + 4 + 9 + 3},
		{name: "several attributes", body: "body",
			attrs: map[string]types.MessageAttributeValue{"a": stringAttr("1"), "b": binary("Binary", []byte("22"))},
			want:  4 + (1 + 6 + 1) + (1 + 6 + 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := MessageSize(tt.body, tt.attrs); got != tt.want {
				t.Errorf("MessageSize = %d; want %d", got, tt.want)
			}
		})
	}
}
