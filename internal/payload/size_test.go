package payload

import "testing"

func TestMessageSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		body  string
		attrs map[string]Attr
		want  int
	}{
		{name: "empty", want: 0},
		{name: "body only", body: "hello", want: 5},
		{name: "body counted in UTF-8 bytes", body: "h\u00e9llo\u20ac", want: 9},
		{name: "string attribute", body: "abc",
			attrs: map[string]Attr{"colour": {DataType: "String", StringValue: "blue"}},
			want:  3 + 6 + 6 + 4},
		{name: "number attribute", body: "",
			attrs: map[string]Attr{"n": {DataType: "Number", StringValue: "12345"}},
			want:  1 + 6 + 5},
		{name: "binary attribute", body: "x",
			attrs: map[string]Attr{"blob": {DataType: "Binary.gz", BinaryValue: []byte{0, 1, 2}}},
			want:  1 + 4 + 9 + 3},
		{name: "several attributes", body: "body",
			attrs: map[string]Attr{
				"a": {DataType: "String", StringValue: "1"},
				"b": {DataType: "Binary", BinaryValue: []byte("22")},
			},
			want: 4 + (1 + 6 + 1) + (1 + 6 + 2)},
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
