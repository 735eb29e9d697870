// Package payload holds the format of payloads kept in S3 by AWS's
// extended clients for Java and Python (payloadoffloading): the pointer
// that stands in for the message body, the message attribute that carries
// the payload's size, and the keys of new payloads. It knows nothing of
// AWS's SDK types.
package payload
