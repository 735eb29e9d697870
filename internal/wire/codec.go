package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"unicode/utf8"
)

// The frames are encoded by hand rather than with encoding/json: a child
// decodes exactly one request in a cold process, where reflection-based
// decoding costs more than the rest of the protocol together.

var (
	errShort    = errors.New("wire: truncated frame")
	errTrailing = errors.New("wire: trailing bytes after the frame's value")
)

type encoder struct{ b []byte }

func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) bytes(p []byte) {
	e.uint(uint64(len(p)))
	e.b = append(e.b, p...)
}
func (e *encoder) string(s string) {
	e.uint(uint64(len(s)))
	e.b = append(e.b, s...)
}
func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// sortedKeys makes the encoding deterministic.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) raw() []byte {
	n := d.uint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errShort
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) bytes() []byte {
	p := d.raw()
	if p == nil {
		return nil
	}
	return append([]byte{}, p...)
}

// optBytes reads a byte slice that is nil when empty.
func (d *decoder) optBytes() []byte {
	if p := d.raw(); len(p) > 0 {
		return append([]byte(nil), p...)
	}
	return nil
}

func (d *decoder) string() string { return string(d.raw()) }

func (d *decoder) bool() bool {
	if d.err != nil {
		return false
	}
	if len(d.b) == 0 {
		d.err = errShort
		return false
	}
	v := d.b[0] != 0
	d.b = d.b[1:]
	return v
}

// Smallest encodings of one collection entry: each string or byte slice
// takes at least its one-byte length, a bool one byte.
const (
	minAttributeBytes        = 2 // key, value
	minMessageAttributeBytes = 5 // key, data type, string value, bool, binary value
)

// maxPrealloc caps the capacity allocated up front for a collection: a
// frame's entry count is only a claim until its entries have been read.
// SQS messages carry at most 10 message attributes.
const maxPrealloc = 16

// count reads a collection length. Each entry takes at least minEntry
// bytes, so a count larger than the bytes left allow is an error.
func (d *decoder) count(minEntry int) int {
	n := d.uint()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.b)/minEntry) {
		d.err = errShort
		return 0
	}
	return int(n)
}

// end makes bytes left after the value an error.
func (d *decoder) end() error {
	if d.err == nil && len(d.b) > 0 {
		return fmt.Errorf("%w (%d)", errTrailing, len(d.b))
	}
	return d.err
}

// MarshalBinary encodes the request.
func (r Request) MarshalBinary() ([]byte, error) {
	var e encoder
	e.string(r.Magic)
	e.uint(uint64(r.Version))
	e.string(r.Mode)
	e.string(r.Job)
	e.int(r.TimeoutNS)
	m := r.Message
	e.string(m.ID)
	e.string(m.Queue)
	e.string(m.Body)
	e.int(int64(m.ReceiveCount))
	e.uint(uint64(len(m.Attributes)))
	for _, k := range sortedKeys(m.Attributes) {
		e.string(k)
		e.string(m.Attributes[k])
	}
	e.uint(uint64(len(m.MessageAttributes)))
	for _, k := range sortedKeys(m.MessageAttributes) {
		a := m.MessageAttributes[k]
		e.string(k)
		e.string(a.DataType)
		e.string(a.StringValue)
		e.bool(a.BinaryValue != nil)
		e.bytes(a.BinaryValue)
	}
	e.bool(r.Cause != nil)
	if c := r.Cause; c != nil {
		e.int(int64(c.Signal))
		e.string(c.Reason)
		e.bool(c.ChildRunning)
		e.int(int64(c.Attempt))
		e.bytes(c.Checkpoint)
		if err := checkCheckpoint(c.Checkpoint); err != nil {
			return nil, err
		}
	}
	e.int(int64(r.GuardPGID))
	e.bool(r.BodyFollows)
	e.int(r.BodySize)
	e.bool(r.Reuse)
	if err := r.checkBody(); err != nil {
		return nil, err
	}
	return e.b, nil
}

// checkBody rejects a request whose body fields contradict each other.
func (r *Request) checkBody() error {
	switch {
	case r.BodySize < 0:
		return fmt.Errorf("wire: negative body size %d", r.BodySize)
	case !r.BodyFollows && r.BodySize != 0:
		return fmt.Errorf("wire: a body size of %d without a body that follows", r.BodySize)
	case r.BodyFollows && r.Message.Body != "":
		return errors.New("wire: a body in the frame as well as one that follows it")
	}
	return nil
}

// UnmarshalBinary decodes a request.
func (r *Request) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	r.Magic = d.string()
	if d.err == nil && r.Magic != Magic {
		return errors.New("wire: not a request")
	}
	r.Version = int(d.uint())
	if d.err == nil && r.Version != Version {
		// The rest may be laid out differently: read no further.
		return fmt.Errorf("%w: the request is of version %d, this build's is %d", ErrVersion, r.Version, Version)
	}
	r.Mode, r.Job, r.TimeoutNS = d.string(), d.string(), d.int()
	m := &r.Message
	m.ID, m.Queue, m.Body, m.ReceiveCount = d.string(), d.string(), d.string(), int(d.int())
	if n := d.count(minAttributeBytes); n > 0 {
		m.Attributes = make(map[string]string, min(n, maxPrealloc))
		for range n {
			k := d.string()
			m.Attributes[k] = d.string()
		}
	}
	if n := d.count(minMessageAttributeBytes); n > 0 {
		m.MessageAttributes = make(map[string]Attribute, min(n, maxPrealloc))
		for range n {
			k := d.string()
			a := Attribute{DataType: d.string(), StringValue: d.string()}
			if d.bool() {
				a.BinaryValue = d.bytes()
			} else {
				d.raw()
			}
			m.MessageAttributes[k] = a
		}
	}
	if d.bool() {
		r.Cause = &Cause{Signal: int(d.int()), Reason: d.string(), ChildRunning: d.bool(), Attempt: int(d.int()),
			Checkpoint: d.optBytes()}
		if err := checkCheckpoint(r.Cause.Checkpoint); err != nil {
			return err
		}
	}
	r.GuardPGID = int(d.int())
	r.BodyFollows, r.BodySize = d.bool(), d.int()
	r.Reuse = d.bool()
	if err := d.end(); err != nil {
		return err
	}
	return r.checkBody()
}

// MarshalBinary encodes the result.
func (r Result) MarshalBinary() ([]byte, error) {
	var e encoder
	e.string(r.Kind)
	e.string(r.Error)
	e.int(r.RetryAfterNS)
	e.string(r.Stack)
	e.int(int64(r.Signal))
	e.bytes(r.Checkpoint)
	if err := checkCheckpoint(r.Checkpoint); err != nil {
		return nil, err
	}
	return e.b, nil
}

// UnmarshalBinary decodes a result.
func (r *Result) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	r.Kind, r.Error, r.RetryAfterNS, r.Stack, r.Signal = d.string(), d.string(), d.int(), d.string(), int(d.int())
	r.Checkpoint = d.optBytes()
	if err := d.end(); err != nil {
		return err
	}
	return checkCheckpoint(r.Checkpoint)
}

func checkCheckpoint(p []byte) error {
	if len(p) > MaxCheckpointBytes {
		return fmt.Errorf("wire: checkpoint of %d bytes exceeds %d", len(p), MaxCheckpointBytes)
	}
	return nil
}

// Fit returns the result with its Error cut to MaxErrorBytes and its Stack
// to MaxStackBytes, each cut marked, and without a Checkpoint longer than
// MaxCheckpointBytes (which cannot be cut), so that the result always fits
// in a frame.
func (r Result) Fit() Result {
	r.Error = cut(r.Error, MaxErrorBytes)
	r.Stack = cut(r.Stack, MaxStackBytes)
	if checkCheckpoint(r.Checkpoint) != nil {
		r.Checkpoint = nil
	}
	return r
}

// cut keeps the head of s within max bytes, marker included, ending on a
// whole UTF-8 sequence.
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const marker = "\n... [cut: %d of %d bytes omitted]"
	// The omitted count has no more digits than len(s).
	n := max - len(fmt.Sprintf(marker, len(s), len(s)))
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + fmt.Sprintf(marker, len(s)-n, len(s))
}
