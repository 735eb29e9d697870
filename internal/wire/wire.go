// Package wire is the protocol between a dispatcher and the child processes
// it re-executes: a version-stamped request that carries the job name and the
// message over a pipe, and a result that comes back as plain data.
//
// Frames are a 4-byte big-endian length followed by that many bytes of a
// compact binary encoding (codec.go). A request may be followed by its
// message's body as raw bytes (Request.BodyFollows), so that a body larger
// than a frame reaches the child without being held whole by the parent.
// A child writes any number of checkpoint frames (KindCheckpoint) while its
// job runs, then its one final result. A request with Reuse asks the child
// to wait, once it has reported, for its next request on the same pipes.
package wire

import (
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Version is the protocol version. A child refuses a request whose version
// differs, so a parent and a child built from different sources never
// misread each other.
const Version = 4

// Magic opens every request; a child that does not read it first refuses.
const Magic = "sqsdispatch-child"

// EnvChild names the environment variable that tells a re-executed binary
// it is a child. Its value is the protocol version. It carries nothing
// secret: the job name and message travel over the request pipe.
const EnvChild = "SQSDISPATCH_CHILD"

// maxFrame bounds a frame so that a corrupt length cannot make a reader
// allocate without limit. SQS messages are at most 1 MiB.
const maxFrame = 16 << 20

// Modes of a request.
const (
	ModeRun     = "run"
	ModeCleanup = "cleanup"
)

// Attribute is one SQS message attribute.
type Attribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// Message is the message as the child sees it.
type Message struct {
	ID                string
	Queue             string
	Body              string
	Attributes        map[string]string
	MessageAttributes map[string]Attribute
	ReceiveCount      int
}

// Cause tells a cleanup why it runs.
type Cause struct {
	Signal       int
	Reason       string
	ChildRunning bool
	Attempt      int
	// Checkpoint is the checkpoint the next run of the job resumes from,
	// at most MaxCheckpointBytes; an empty one decodes as nil.
	Checkpoint []byte
}

// Request is what the parent sends a child first.
type Request struct {
	Magic     string
	Version   int
	Mode      string
	Job       string
	TimeoutNS int64
	Message   Message
	Cause     *Cause
	// GuardPGID, when set on a cleanup request, names the process group of
	// the interrupted job. The cleanup child guards it: it suspends the
	// group itself once it is ready to kill it should the dispatcher die,
	// and kills it after the cleanup, so that a suspended job never
	// outlives the dispatcher.
	GuardPGID int
	// BodyFollows says that Message.Body is empty in the frame and that
	// exactly BodySize raw bytes of it follow the frame on the request
	// pipe.
	BodyFollows bool
	// BodySize is the length of the body that follows the frame; it is 0
	// unless BodyFollows is set.
	BodySize int64
	// Reuse says that after reporting this job's result the child waits
	// for another request instead of exiting, unless the job panicked or a
	// stop signal reached it (the child then exits after its report).
	Reuse bool
}

// Result kinds.
const (
	KindOK        = "ok"
	KindError     = "error"
	KindPermanent = "permanent"
	KindRetry     = "retry"
	KindPanic     = "panic"
	// KindJobFinished is what a cleanup child that guards a job reports
	// when it found, once the job was suspended, that the job had already
	// returned: the cleanup did not run, and the job was resumed to report
	// its own result.
	KindJobFinished = "job-finished"
	// KindCheckpoint marks a frame that carries a checkpoint the job
	// recorded (Result.Checkpoint). A child may write any number of them
	// before its one final result, which is of another kind.
	KindCheckpoint = "checkpoint"
)

// Limits on the free text of a Result, so that every result fits in a
// frame. Fit cuts longer texts and marks the cut.
const (
	MaxErrorBytes = 64 << 10
	MaxStackBytes = 1 << 20
)

// MaxCheckpointBytes bounds a checkpoint. A checkpoint is opaque and is
// never cut: a longer one is refused.
const MaxCheckpointBytes = 64 << 10

// Result is what a child reports before it exits.
type Result struct {
	Kind         string
	Error        string
	RetryAfterNS int64
	Stack        string
	// Signal is the number of the signal that made the child stop its
	// job early, when one did.
	Signal int
	// Checkpoint is the data of a KindCheckpoint frame, at most
	// MaxCheckpointBytes; an empty checkpoint decodes as nil.
	Checkpoint []byte
}

// Write writes v as one frame.
func Write(w io.Writer, v encoding.BinaryMarshaler) error {
	buf, err := Frame(v)
	if err != nil {
		return err
	}
	_, err = w.Write(buf)
	return err
}

// Frame encodes v as one frame, ready to be written.
func Frame(v encoding.BinaryMarshaler) ([]byte, error) {
	b, err := v.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode frame: %w", err)
	}
	if len(b) > maxFrame {
		return nil, fmt.Errorf("frame of %d bytes exceeds %d", len(b), maxFrame)
	}
	buf := make([]byte, 4+len(b))
	binary.BigEndian.PutUint32(buf, uint32(len(b)))
	copy(buf[4:], b)
	return buf, nil
}

// ErrVersion is returned when a request was encoded by a build that speaks
// another protocol version; the request holds the version it was sent
// with.
var ErrVersion = errors.New("wire: protocol version mismatch")

// ErrNoFrame is returned by Read when the stream ends before a frame starts.
var ErrNoFrame = errors.New("no frame")

// Read reads one frame into v.
func Read(r io.Reader, v encoding.BinaryUnmarshaler) error {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return ErrNoFrame
		}
		return fmt.Errorf("read frame header: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxFrame {
		return fmt.Errorf("frame of %d bytes exceeds %d", n, maxFrame)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("read frame body: %w", err)
	}
	return v.UnmarshalBinary(b)
}
