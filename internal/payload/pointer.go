package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// PointerClass is the Java class name that heads the pointer body the
// current clients write: the Java extended client 2.x (through
// payload-offloading-java-common-lib-for-aws) and the Python client.
const PointerClass = "software.amazon.payloadoffloading.PayloadS3Pointer"

// LegacyPointerClass is the Java class name that heads the pointer body
// of the Java extended client 1.x, which the Python client also writes in
// its legacy mode (use_legacy_attribute).
const LegacyPointerClass = "com.amazon.sqs.javamessaging.MessageS3Pointer"

// AttrSize is the reserved message attribute, of type Number, that the
// current clients set to the payload's size in bytes. Its presence is
// what marks the body as a pointer.
const AttrSize = "ExtendedPayloadSize"

// AttrLegacySize is the reserved attribute of the Java client 1.x and of
// the Python client's legacy mode, in place of AttrSize.
const AttrLegacySize = "SQSLargePayloadSize"

// DefaultThreshold is the message size in bytes, body and attributes,
// above which the Python client keeps the body in S3.
const DefaultThreshold = 262144

// Pointer names the S3 object that holds a message's payload.
type Pointer struct {
	Bucket, Key string
	// Legacy is true for a pointer of LegacyPointerClass, false for one
	// of PointerClass.
	Legacy bool
}

// pointerFields is the second element of a pointer body, in the order the
// Java client writes its fields.
type pointerFields struct {
	Bucket string `json:"s3BucketName"`
	Key    string `json:"s3Key"`
}

// Class returns the class name p's body opens with.
func (p Pointer) Class() string {
	if p.Legacy {
		return LegacyPointerClass
	}
	return PointerClass
}

// SizeAttr returns the reserved attribute a message carrying p is sent
// with: AttrLegacySize for a legacy pointer, else AttrSize.
func (p Pointer) SizeAttr() string {
	if p.Legacy {
		return AttrLegacySize
	}
	return AttrSize
}

// Body returns the message body that stands for p, as the Java client
// writes it (Jackson, compact):
//
//	["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"BUCKET","s3Key":"KEY"}]
//
// or, for a legacy pointer, the same with
// "com.amazon.sqs.javamessaging.MessageS3Pointer".
func (p Pointer) Body() string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	// Encoding a string and a struct of strings cannot fail.
	_ = enc.Encode([]any{p.Class(), pointerFields{Bucket: p.Bucket, Key: p.Key}})
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// parse reads a pointer body as the Java client does: a JSON array of two
// elements, the class name (PointerClass or LegacyPointerClass) and an
// object whose s3BucketName and s3Key are non-empty strings; other fields
// are ignored, whitespace is allowed where JSON allows it, and nothing may
// follow the array.
func parse(body string) (Pointer, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal([]byte(body), &elems); err != nil {
		if syntax := (*json.SyntaxError)(nil); errors.As(err, &syntax) {
			return Pointer{}, fmt.Errorf("not a JSON array: %w", err)
		}
		return Pointer{}, errors.New("not a JSON array")
	}
	if len(elems) != 2 {
		return Pointer{}, fmt.Errorf("%d elements, want 2", len(elems))
	}
	var class string
	if err := json.Unmarshal(elems[0], &class); err != nil {
		return Pointer{}, errors.New("the first element is not a class name")
	}
	var p Pointer
	switch class {
	case PointerClass:
	case LegacyPointerClass:
		p.Legacy = true
	default:
		return Pointer{}, fmt.Errorf("class %q, want %s or %s", class, PointerClass, LegacyPointerClass)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(elems[1], &fields); err != nil || fields == nil {
		return Pointer{}, errors.New("the second element is not an object")
	}
	var err error
	if p.Bucket, err = field(fields, "s3BucketName"); err != nil {
		return Pointer{}, err
	}
	if p.Key, err = field(fields, "s3Key"); err != nil {
		return Pointer{}, err
	}
	return p, nil
}

// field returns the non-empty string fields[name].
func field(fields map[string]json.RawMessage, name string) (string, error) {
	raw, found := fields[name]
	if !found {
		return "", fmt.Errorf("no %s", name)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || string(raw) == "null" {
		return "", fmt.Errorf("%s is not a string", name)
	}
	if s == "" {
		return "", fmt.Errorf("empty %s", name)
	}
	return s, nil
}
