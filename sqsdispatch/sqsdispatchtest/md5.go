package sqsdispatchtest

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// md5OfAttributes returns the MD5 digest SQS computes over message
// attributes, or nil if there are none: for each attribute in name order,
// the name, the data type and the value, each preceded by its length as a
// 4-byte big-endian integer, with a transport byte (1 for a string value,
// 2 for a binary one) before the value.
func md5OfAttributes(attrs map[string]types.MessageAttributeValue) *string {
	if len(attrs) == 0 {
		return nil
	}
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	h := md5.New()
	field := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, k := range names {
		v := attrs[k]
		field([]byte(k))
		field([]byte(aws.ToString(v.DataType)))
		if v.BinaryValue != nil {
			h.Write([]byte{2})
			field(v.BinaryValue)
		} else {
			h.Write([]byte{1})
			field([]byte(aws.ToString(v.StringValue)))
		}
	}
	return aws.String(hex.EncodeToString(h.Sum(nil)))
}

// md5OfTraceHeader returns the MD5 digest of the system attributes of a
// send carrying this trace header, or nil without one.
func md5OfTraceHeader(trace string) *string {
	if trace == "" {
		return nil
	}
	return md5OfAttributes(map[string]types.MessageAttributeValue{
		string(types.MessageSystemAttributeNameForSendsAWSTraceHeader): {DataType: aws.String("String"), StringValue: aws.String(trace)},
	})
}
