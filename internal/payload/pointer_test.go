package payload

import (
	"encoding/json"
	"testing"
)

func TestBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    Pointer
		want string // "" when only the round trip is checked
	}{
		{name: "the Java client 2.x's format", p: Pointer{Bucket: "BUCKET", Key: "KEY"}, want: javaPointer},
		{name: "the Java client 1.x's format", p: Pointer{Bucket: "BUCKET", Key: "KEY", Legacy: true}, want: javaLegacyPointer},
		{name: "a generated key", p: Pointer{Bucket: "my-bucket", Key: "3f1e2d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"},
			want: `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"my-bucket","s3Key":"3f1e2d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"}]`},
		{name: "key with a prefix", p: Pointer{Bucket: "b", Key: "prefix/of/key"},
			want: `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"prefix/of/key"}]`},
		{name: "characters JSON escapes", p: Pointer{Bucket: "b", Key: "q\"b\\s\nt<&>\u00e9\x01"}},
		{name: "characters JSON escapes, legacy", p: Pointer{Bucket: "b", Key: "q\"b\\s\nt<&>\u00e9\x01", Legacy: true}},
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
			got, isPointer, err := Recognise(body, tt.p.SizeAttr())
			if !isPointer || err != nil || got != tt.p {
				t.Errorf("Recognise(Body(), %s) = %+v, %t, %v; want %+v", tt.p.SizeAttr(), got, isPointer, err, tt.p)
			}
		})
	}
}
