// Package payload holds the format of payloads kept in S3 by AWS's
// extended clients for Java and Python: the pointer that stands in for
// the message body, in its current class (PayloadS3Pointer, of
// payload-offloading-java-common-lib-for-aws) and its legacy one
// (MessageS3Pointer, of the Java client 1.x); the reserved message
// attributes that carry the payload's size and mark a body as a pointer;
// how a message is recognised as one; the keys of new payloads; and which
// objects a store may use. It knows nothing of AWS's SDK types.
package payload
