package payload

// Attr is a message attribute's value.
type Attr struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// MessageSize returns the size in bytes the Java client compares with its
// threshold: the body's, plus for each attribute the bytes of its name,
// its data type and its value.
func MessageSize(body string, attrs map[string]Attr) int {
	n := len(body)
	for name, a := range attrs {
		n += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	return n
}
