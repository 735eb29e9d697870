package wire

import (
	"encoding/binary"
	"errors"
	"sort"
)

// The frames are encoded by hand rather than with encoding/json: a child
// decodes exactly one request in a cold process, where reflection-based
// decoding costs more than the rest of the protocol together.

var errShort = errors.New("wire: truncated frame")

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

// count reads a collection length, bounded by what is left to read.
func (d *decoder) count() int {
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.err = errShort
		return 0
	}
	return int(n)
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
	}
	return e.b, nil
}

// UnmarshalBinary decodes a request.
func (r *Request) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	r.Magic = d.string()
	if d.err == nil && r.Magic != Magic {
		return errors.New("wire: not a request")
	}
	r.Version = int(d.uint())
	r.Mode, r.Job, r.TimeoutNS = d.string(), d.string(), d.int()
	m := &r.Message
	m.ID, m.Queue, m.Body, m.ReceiveCount = d.string(), d.string(), d.string(), int(d.int())
	if n := d.count(); n > 0 {
		m.Attributes = make(map[string]string, n)
		for range n {
			k := d.string()
			m.Attributes[k] = d.string()
		}
	}
	if n := d.count(); n > 0 {
		m.MessageAttributes = make(map[string]Attribute, n)
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
		r.Cause = &Cause{Signal: int(d.int()), Reason: d.string(), ChildRunning: d.bool(), Attempt: int(d.int())}
	}
	return d.err
}

// MarshalBinary encodes the result.
func (r Result) MarshalBinary() ([]byte, error) {
	var e encoder
	e.string(r.Kind)
	e.string(r.Error)
	e.int(r.RetryAfterNS)
	e.string(r.Stack)
	e.int(int64(r.Signal))
	return e.b, nil
}

// UnmarshalBinary decodes a result.
func (r *Result) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	r.Kind, r.Error, r.RetryAfterNS, r.Stack, r.Signal = d.string(), d.string(), d.int(), d.string(), int(d.int())
	return d.err
}
