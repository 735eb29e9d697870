package sqsdispatchtest

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

const maxMessageAttributes = 10

var (
	attrNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,256}$`)
	numberRE   = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
)

// allowedRune reports whether SQS accepts r in a message body or string
// attribute.
func allowedRune(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// badRune returns the first character SQS rejects in s, if any.
func badRune(s string) (rune, bool) {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return r, true
			}
		}
		if !allowedRune(r) {
			return r, true
		}
	}
	return 0, false
}

func checkBody(body string) error {
	if r, bad := badRune(body); bad {
		return &types.InvalidMessageContents{Message: aws.String(fmt.Sprintf(
			"Invalid binary character '#x%X' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF", r))}
	}
	return nil
}

// checkMessageAttributes validates message attributes as SQS does and
// returns the bytes they count towards the message size.
func checkMessageAttributes(attrs map[string]types.MessageAttributeValue) (int, error) {
	if len(attrs) > maxMessageAttributes {
		return 0, invalidParameter("Number of message attributes [%d] exceeds the allowed maximum [%d].", len(attrs), maxMessageAttributes)
	}
	size := 0
	for name, v := range attrs {
		if err := checkAttrName(name); err != nil {
			return 0, err
		}
		dt := aws.ToString(v.DataType)
		if dt == "" {
			return 0, invalidParameter("The message attribute '%s' must contain non-empty message attribute type.", name)
		}
		base, _, _ := strings.Cut(dt, ".")
		if len(dt) > 256 || (base != "String" && base != "Number" && base != "Binary") {
			return 0, invalidParameter("The type of message attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
		}
		if len(v.StringListValues) > 0 || len(v.BinaryListValues) > 0 {
			return 0, invalidParameter("Message attribute list values in SendMessage operation are not supported.")
		}
		size += len(name) + len(dt)
		switch base {
		case "Binary":
			if len(v.BinaryValue) == 0 || v.StringValue != nil {
				return 0, invalidParameter("The message attribute '%s' with type 'Binary' must use field 'Binary'.", name)
			}
			size += len(v.BinaryValue)
		default:
			s := aws.ToString(v.StringValue)
			if s == "" || v.BinaryValue != nil {
				return 0, invalidParameter("The message attribute '%s' must contain a non-empty message attribute value for message attribute type '%s'.", name, base)
			}
			if _, bad := badRune(s); bad {
				return 0, invalidParameter("The message attribute '%s' contains a character that is not allowed.", name)
			}
			if base == "Number" && !numberRE.MatchString(s) {
				return 0, invalidParameter("Can't cast the value of message (user) attribute '%s' to a number.", name)
			}
			size += len(s)
		}
	}
	return size, nil
}

func checkAttrName(name string) error {
	lower := strings.ToLower(name)
	if !attrNameRE.MatchString(name) || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") ||
		strings.Contains(name, "..") || strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon.") {
		return invalidParameter("Message (user) attribute name '%s' is invalid.", name)
	}
	return nil
}

// checkSystemAttributes validates the message system attributes of a send
// (only AWSTraceHeader exists) and returns the trace header.
func checkSystemAttributes(attrs map[string]types.MessageSystemAttributeValue) (string, error) {
	trace := ""
	for name, v := range attrs {
		if name != string(types.MessageSystemAttributeNameForSendsAWSTraceHeader) {
			return "", invalidParameter("Message system attribute name '%s' is invalid.", name)
		}
		trace = aws.ToString(v.StringValue)
		if aws.ToString(v.DataType) != "String" || trace == "" {
			return "", invalidParameter("The message system attribute '%s' must have type String and a non-empty value.", name)
		}
	}
	return trace, nil
}
