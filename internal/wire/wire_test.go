package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	t.Parallel()
	in := Request{Magic: Magic, Version: Version, Mode: ModeRun, Job: "j", Message: Message{
		ID: "id", Body: strings.Repeat("ü", 1<<17),
		MessageAttributes: map[string]Attribute{"b": {DataType: "Binary", BinaryValue: []byte{0, 255}}},
	}}
	var buf bytes.Buffer
	if err := Write(&buf, in); err != nil {
		t.Fatal(err)
	}
	var out Request
	if err := Read(&buf, &out); err != nil {
		t.Fatal(err)
	}
	if out.Message.Body != in.Message.Body || !bytes.Equal(out.Message.MessageAttributes["b"].BinaryValue, []byte{0, 255}) {
		t.Fatal("frame did not round-trip byte for byte")
	}
}

func TestReadRejectsBadFrames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"empty stream", nil, ErrNoFrame},
		{"oversized length", binary.BigEndian.AppendUint32(nil, maxFrame+1), nil},
		{"truncated body", append(binary.BigEndian.AppendUint32(nil, 10), '{'), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var v Result
			err := Read(bytes.NewReader(tt.input), &v)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Read = %v; want an error (%v)", err, tt.want)
			}
		})
	}
}
