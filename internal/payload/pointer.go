package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// PointerClass is the Java class name that heads a pointer body.
const PointerClass = "software.amazon.payloadoffloading.PayloadS3Pointer"

// AttrSize is the message attribute, of type Number, that carries the size
// in bytes of a payload kept in S3.
const AttrSize = "ExtendedPayloadSize"

// AttrLegacySize is the name older Java clients gave AttrSize.
const AttrLegacySize = "SQSLargePayloadSize"

// DefaultThreshold is the message size in bytes above which the Java
// client keeps the body in S3.
const DefaultThreshold = 262144

// Pointer names the S3 object that holds a message's payload.
type Pointer struct {
	Bucket, Key string
}

// pointerFields is the second element of a pointer body, in the order the
// Java client writes its fields.
type pointerFields struct {
	Bucket string `json:"s3BucketName"`
	Key    string `json:"s3Key"`
}

// classPrefix is what a pointer body starts with once JSON whitespace is
// left out.
const classPrefix = `"` + PointerClass + `"`

// Body returns the message body that stands for p, as the Java client
// writes it:
//
//	["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"BUCKET","s3Key":"KEY"}]
func (p Pointer) Body() string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	// Encoding a string and a struct of strings cannot fail.
	_ = enc.Encode([]any{PointerClass, pointerFields(p)})
	return strings.TrimSuffix(b.String(), "\n")
}

// Parse reads a message body. ok is false, and err nil, when body is not a
// pointer at all: it does not open, after JSON whitespace, with "[" and the
// quoted PointerClass. ok is true when it is one; err then says whether it
// is malformed (not a two-element array, the bucket or key missing or
// empty, anything after the array).
func Parse(body string) (p Pointer, ok bool, err error) {
	rest, found := strings.CutPrefix(trimSpace(body), "[")
	if !found || !strings.HasPrefix(trimSpace(rest), classPrefix) {
		return Pointer{}, false, nil
	}
	p, err = parse(body)
	if err != nil {
		return Pointer{}, true, fmt.Errorf("sqsdispatch: malformed payload pointer: %w", err)
	}
	return p, true, nil
}

func parse(body string) (Pointer, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal([]byte(body), &elems); err != nil {
		return Pointer{}, err
	}
	if len(elems) != 2 {
		return Pointer{}, fmt.Errorf("%d elements, want 2", len(elems))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(elems[1], &fields); err != nil {
		return Pointer{}, fmt.Errorf("second element: %w", err)
	}
	if fields == nil {
		return Pointer{}, errors.New("second element is null")
	}
	bucket, err := field(fields, "s3BucketName")
	if err != nil {
		return Pointer{}, err
	}
	key, err := field(fields, "s3Key")
	if err != nil {
		return Pointer{}, err
	}
	return Pointer{Bucket: bucket, Key: key}, nil
}

// field returns the non-empty string fields[name].
func field(fields map[string]json.RawMessage, name string) (string, error) {
	raw, found := fields[name]
	if !found {
		return "", fmt.Errorf("no %s", name)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	if s == "" {
		return "", fmt.Errorf("empty %s", name)
	}
	return s, nil
}

// trimSpace drops leading JSON whitespace.
func trimSpace(s string) string {
	return strings.TrimLeft(s, " \t\r\n")
}
