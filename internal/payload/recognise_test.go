package payload

import (
	"strings"
	"testing"
)

// The pointer bodies AWS's extended clients publish, one per client and
// mode, each as that client writes it.
const (
	// javaPointer is what the Java extended client 2.x writes through
	// payload-offloading-java-common-lib-for-aws: PayloadS3Pointer
	// serialised by Jackson with default typing (a two-element array of
	// the class name and the fields s3BucketName then s3Key), compact.
	// It comes with ExtendedPayloadSize.
	javaPointer = `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"BUCKET","s3Key":"KEY"}]`
	// javaLegacyPointer is what the Java extended client 1.x writes:
	// its own MessageS3Pointer class, serialised the same way, with
	// SQSLargePayloadSize.
	javaLegacyPointer = `["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3BucketName":"BUCKET","s3Key":"KEY"}]`
	// pythonPointer is what amazon-sqs-python-extended-client-lib writes:
	// json.dumps of [MESSAGE_POINTER_CLASS, {"s3BucketName": …, "s3Key":
	// …}], whose default separators put a space after "," and ":". It
	// comes with ExtendedPayloadSize.
	pythonPointer = `["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": "BUCKET", "s3Key": "KEY"}]`
	// pythonLegacyPointer is the Python client with use_legacy_attribute
	// set: LEGACY_MESSAGE_POINTER_CLASS, with SQSLargePayloadSize.
	pythonLegacyPointer = `["com.amazon.sqs.javamessaging.MessageS3Pointer", {"s3BucketName": "BUCKET", "s3Key": "KEY"}]`
)

func TestRecognise(t *testing.T) {
	t.Parallel()
	current := Pointer{Bucket: "BUCKET", Key: "KEY"}
	legacy := Pointer{Bucket: "BUCKET", Key: "KEY", Legacy: true}
	tests := []struct {
		name          string
		body          string
		sizeAttr      string
		want          Pointer
		wantIsPointer bool
		wantErr       bool
	}{
		// The formats the clients publish.
		{name: "Java client 2.x", body: javaPointer, sizeAttr: AttrSize, want: current, wantIsPointer: true},
		{name: "Java client 1.x", body: javaLegacyPointer, sizeAttr: AttrLegacySize, want: legacy, wantIsPointer: true},
		{name: "Python client", body: pythonPointer, sizeAttr: AttrSize, want: current, wantIsPointer: true},
		{name: "Python client, legacy mode", body: pythonLegacyPointer, sizeAttr: AttrLegacySize, want: legacy, wantIsPointer: true},
		{name: "Python client, non-ASCII key escaped by json.dumps",
			body:     `["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": "b", "s3Key": "caf\u00e9/\u65e5"}]`,
			sizeAttr: AttrSize, want: Pointer{Bucket: "b", Key: "café/日"}, wantIsPointer: true},
		// The Java client 2.x reads either class with either attribute.
		{name: "current class, legacy attribute", body: javaPointer, sizeAttr: AttrLegacySize, want: current, wantIsPointer: true},
		{name: "legacy class, current attribute", body: javaLegacyPointer, sizeAttr: AttrSize, want: legacy, wantIsPointer: true},
		{name: "whitespace everywhere JSON allows it",
			body:     " \n\t[ \"software.amazon.payloadoffloading.PayloadS3Pointer\" ,\r\n { \"s3Key\" : \"k\", \"s3BucketName\" : \"b\" } ] \n",
			sizeAttr: AttrSize, want: Pointer{Bucket: "b", Key: "k"}, wantIsPointer: true},
		{name: "escaped characters in the key",
			body:     `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"a\"b\\c\u00e9\/d"}]`,
			sizeAttr: AttrSize, want: Pointer{Bucket: "b", Key: "a\"b\\c\u00e9/d"}, wantIsPointer: true},
		{name: "unknown fields are ignored, as Jackson and Python do",
			body:     `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k","extra":1}]`,
			sizeAttr: AttrSize, want: Pointer{Bucket: "b", Key: "k"}, wantIsPointer: true},

		// Without the attribute, any body is an ordinary one.
		{name: "Java pointer without the attribute", body: javaPointer},
		{name: "legacy pointer without the attribute", body: javaLegacyPointer},
		{name: "Python pointer without the attribute", body: pythonPointer},
		{name: "ordinary text", body: "hello"},
		{name: "empty body", body: ""},

		// With the attribute, a body that is not a valid pointer.
		{name: "ordinary text with the attribute", body: "hello", sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
		{name: "empty body with the legacy attribute", body: "", sizeAttr: AttrLegacySize, wantIsPointer: true, wantErr: true},
		{name: "JSON object", body: `{"s3BucketName":"b","s3Key":"k"}`, sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
		{name: "unknown class", body: `["a",{"s3BucketName":"b","s3Key":"k"}]`, sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
		{name: "longer class name",
			body:     `["software.amazon.payloadoffloading.PayloadS3PointerV2",{"s3BucketName":"b","s3Key":"k"}]`,
			sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
		{name: "class name not a string", body: `[1,{"s3BucketName":"b","s3Key":"k"}]`, sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
		{name: "class alone", body: `["software.amazon.payloadoffloading.PayloadS3Pointer"]`, sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
		{name: "three elements",
			body:     `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"},{}]`,
			sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
		{name: "missing bucket", body: `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3Key":"k"}]`,
			sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
		{name: "missing key", body: `["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3BucketName":"b"}]`,
			sizeAttr: AttrLegacySize, wantIsPointer: true, wantErr: true},
		{name: "empty bucket", body: `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"","s3Key":"k"}]`,
			sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
		{name: "empty key", body: `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":""}]`,
			sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
		{name: "null key", body: `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":null}]`,
			sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
		{name: "numeric key", body: `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":7}]`,
			sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
		{name: "field names in the wrong case",
			body:     `["software.amazon.payloadoffloading.PayloadS3Pointer",{"S3BucketName":"b","S3Key":"k"}]`,
			sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
		{name: "null fields", body: `["software.amazon.payloadoffloading.PayloadS3Pointer",null]`, sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
		{name: "fields not an object", body: `["software.amazon.payloadoffloading.PayloadS3Pointer",["b","k"]]`,
			sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
		{name: "trailing garbage", body: javaPointer + "x", sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
		{name: "second value after the array", body: javaPointer + "[]", sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
		{name: "truncated", body: javaPointer[:len(javaPointer)-2], sizeAttr: AttrSize, wantIsPointer: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, isPointer, err := Recognise(tt.body, tt.sizeAttr)
			if isPointer != tt.wantIsPointer || (err != nil) != tt.wantErr {
				t.Fatalf("Recognise(%q, %q) = %+v, %t, %v; want a pointer %t, an error %t",
					tt.body, tt.sizeAttr, got, isPointer, err, tt.wantIsPointer, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Recognise(%q, %q) = %+v; want %+v", tt.body, tt.sizeAttr, got, tt.want)
			}
			if err != nil {
				msg := err.Error()
				if !strings.HasPrefix(msg, "sqsdispatch: malformed payload pointer: ") || !strings.Contains(msg, tt.sizeAttr) {
					t.Errorf("error %q does not say the pointer is malformed and which attribute the message carries", msg)
				}
			}
		})
	}
}

func TestSizeAttr(t *testing.T) {
	t.Parallel()
	type attr struct{ dataType, value string }
	number := attr{"Number", "1024"}
	tests := []struct {
		name  string
		attrs map[string]attr
		want  string
	}{
		{name: "no attributes"},
		{name: "user attributes only", attrs: map[string]attr{"job": {"String", "resize"}}},
		{name: "ExtendedPayloadSize", attrs: map[string]attr{AttrSize: number, "job": {"String", "x"}}, want: AttrSize},
		{name: "SQSLargePayloadSize", attrs: map[string]attr{AttrLegacySize: number}, want: AttrLegacySize},
		{name: "both: ExtendedPayloadSize first, as the clients look",
			attrs: map[string]attr{AttrSize: number, AttrLegacySize: number}, want: AttrSize},
		{name: "the name counts, not the type", attrs: map[string]attr{AttrSize: {"String", "big"}}, want: AttrSize},
		{name: "names are case-sensitive", attrs: map[string]attr{"extendedpayloadsize": number}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := SizeAttr(tt.attrs); got != tt.want {
				t.Errorf("SizeAttr(%v) = %q; want %q", tt.attrs, got, tt.want)
			}
		})
	}
}

// TestRecogniseOrdinaryMessageIsCheap: a message without the size
// attribute is told apart without reading its body.
func TestRecogniseOrdinaryMessageIsCheap(t *testing.T) {
	body := strings.Repeat(javaPointer, 1000)
	attrs := map[string]struct{}{"job": {}}
	allocs := testing.AllocsPerRun(100, func() {
		if _, isPointer, err := Recognise(body, SizeAttr(attrs)); isPointer || err != nil {
			t.Fatalf("Recognise = _, %t, %v; want an ordinary body", isPointer, err)
		}
	})
	if allocs != 0 {
		t.Errorf("Recognise of an ordinary message allocates %v times; want 0", allocs)
	}
}
