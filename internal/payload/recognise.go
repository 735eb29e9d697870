package payload

import "fmt"

// SizeAttr returns the name of the reserved size attribute among attrs, a
// message's attributes by name: AttrSize when present, else
// AttrLegacySize when present, else "". Only the name counts, not the
// attribute's type or value, as for the Java and Python clients.
func SizeAttr[V any](attrs map[string]V) string {
	for _, name := range [...]string{AttrSize, AttrLegacySize} {
		if _, ok := attrs[name]; ok {
			return name
		}
	}
	return ""
}

// Recognise tells whether a message is a pointer to a payload in S3, the
// way AWS's extended clients do: by the reserved size attribute it
// carries, sizeAttr (see SizeAttr; "" when it carries none), not by the
// shape of its body.
//
// Without the attribute, isPointer is false and err nil: the body is an
// ordinary one, even when it reads as a pointer. With it, isPointer is
// true, and err, when not nil, says why body is not a valid pointer of
// either class (a message whose attribute and body disagree). The class
// and the attribute need not match: the clients read either class with
// either attribute.
func Recognise(body, sizeAttr string) (p Pointer, isPointer bool, err error) {
	if sizeAttr == "" {
		return Pointer{}, false, nil
	}
	p, err = parse(body)
	if err != nil {
		return Pointer{}, true, fmt.Errorf("sqsdispatch: malformed payload pointer: the message carries %s but its body is not a pointer: %w", sizeAttr, err)
	}
	return p, true, nil
}
