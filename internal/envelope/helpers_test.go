package envelope

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func stringAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

// nAttrs returns n user attributes a0..a(n-1).
func nAttrs(n int) map[string]types.MessageAttributeValue {
	m := make(map[string]types.MessageAttributeValue, n)
	for i := range n {
		m[fmt.Sprintf("a%d", i)] = stringAttr("v")
	}
	return m
}

func attrValues(m map[string]types.MessageAttributeValue) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = aws.ToString(v.StringValue) + string(v.BinaryValue)
	}
	return out
}
