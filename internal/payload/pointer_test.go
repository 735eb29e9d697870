package payload

import (
	"encoding/json"
	"strings"
	"testing"
)

const example = `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"BUCKET","s3Key":"KEY"}]`

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		want    Pointer
		wantOK  bool
		wantErr bool
	}{
		{name: "the Java client's pointer", body: example, want: Pointer{"BUCKET", "KEY"}, wantOK: true},
		{name: "whitespace everywhere JSON allows it",
			body:   " \n\t[ \"software.amazon.payloadoffloading.PayloadS3Pointer\" ,\r\n { \"s3Key\" : \"k\", \"s3BucketName\" : \"b\" } ] \n",
			want:   Pointer{"b", "k"},
			wantOK: true},
		{name: "escaped characters in the key",
			body:   `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"a\"b\\c\u00e9\/d"}]`,
			want:   Pointer{"b", "a\"b\\c\u00e9/d"},
			wantOK: true},
		{name: "unknown fields are ignored",
			body:   `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k","extra":1}]`,
			want:   Pointer{"b", "k"},
			wantOK: true},
		{name: "ordinary text", body: "hello"},
		{name: "empty body", body: ""},
		{name: "ordinary JSON array", body: `["a",{"s3BucketName":"b","s3Key":"k"}]`},
		{name: "ordinary JSON object", body: `{"s3BucketName":"b","s3Key":"k"}`},
		{name: "class name not first", body: `[1,"software.amazon.payloadoffloading.PayloadS3Pointer"]`},
		{name: "longer class name", body: `["software.amazon.payloadoffloading.PayloadS3PointerV2",{"s3BucketName":"b","s3Key":"k"}]`},
		{name: "class name unquoted", body: `[software.amazon.payloadoffloading.PayloadS3Pointer]`},
		{name: "class alone", body: `["software.amazon.payloadoffloading.PayloadS3Pointer"]`, wantOK: true, wantErr: true},
		{name: "three elements",
			body:   `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"},{}]`,
			wantOK: true, wantErr: true},
		{name: "missing bucket", body: `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3Key":"k"}]`, wantOK: true, wantErr: true},
		{name: "missing key", body: `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b"}]`, wantOK: true, wantErr: true},
		{name: "empty bucket",
			body:   `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"","s3Key":"k"}]`,
			wantOK: true, wantErr: true},
		{name: "empty key",
			body:   `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":""}]`,
			wantOK: true, wantErr: true},
		{name: "null key",
			body:   `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":null}]`,
			wantOK: true, wantErr: true},
		{name: "numeric key",
			body:   `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":7}]`,
			wantOK: true, wantErr: true},
		{name: "field names in the wrong case",
			body:   `["software.amazon.payloadoffloading.PayloadS3Pointer",{"S3BucketName":"b","S3Key":"k"}]`,
			wantOK: true, wantErr: true},
		{name: "null fields", body: `["software.amazon.payloadoffloading.PayloadS3Pointer",null]`, wantOK: true, wantErr: true},
		{name: "fields not an object", body: `["software.amazon.payloadoffloading.PayloadS3Pointer",["b","k"]]`, wantOK: true, wantErr: true},
		{name: "trailing garbage", body: example + "x", wantOK: true, wantErr: true},
		{name: "second value after the array", body: example + "[]", wantOK: true, wantErr: true},
		{name: "truncated", body: example[:len(example)-2], wantOK: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := Parse(tt.body)
			if ok != tt.wantOK || (err != nil) != tt.wantErr {
				t.Fatalf("Parse(%q) = %+v, %t, %v; want ok %t, error %t", tt.body, got, ok, err, tt.wantOK, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Parse(%q) = %+v; want %+v", tt.body, got, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "sqsdispatch: malformed payload pointer: ") {
				t.Errorf("Parse(%q) error %q does not say the pointer is malformed", tt.body, err)
			}
		})
	}
}

func TestBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    Pointer
		want string // "" when only the round trip is checked
	}{
		{name: "the Java client's format", p: Pointer{"BUCKET", "KEY"}, want: example},
		{name: "a generated key", p: Pointer{"my-bucket", "3f1e2d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"},
			want: `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"my-bucket","s3Key":"3f1e2d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"}]`},
		{name: "key with a prefix", p: Pointer{"b", "prefix/of/key"},
			want: `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"prefix/of/key"}]`},
		{name: "characters JSON escapes", p: Pointer{"b", "q\"b\\s\nt<&>\u00e9\x01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := tt.p.Body()
			if tt.want != "" && body != tt.want {
				t.Errorf("Body() = %s; want %s", body, tt.want)
			}
			if !json.Valid([]byte(body)) {
				t.Errorf("Body() = %s is not valid JSON", body)
			}
			got, ok, err := Parse(body)
			if !ok || err != nil || got != tt.p {
				t.Errorf("Parse(Body()) = %+v, %t, %v; want %+v", got, ok, err, tt.p)
			}
		})
	}
}

// TestParseOrdinaryBodyIsCheap: a body that is not a pointer is told
// apart without decoding it.
func TestParseOrdinaryBodyIsCheap(t *testing.T) {
	body := `[{"job":"resize","width":640,"height":480}]`
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok, err := Parse(body); ok || err != nil {
			t.Fatalf("Parse(%q) = _, %t, %v; want not a pointer", body, ok, err)
		}
	})
	if allocs != 0 {
		t.Errorf("Parse of an ordinary body allocates %v times; want 0", allocs)
	}
}
