package sqsdispatch

import (
	"context"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// MaxCheckpointBytes bounds the data of one checkpoint.
const MaxCheckpointBytes = wire.MaxCheckpointBytes

// Checkpoint records the progress of the job that ctx was given to: data
// is opaque to the dispatcher, at most MaxCheckpointBytes. Checkpoint
// returns nil once the dispatcher holds data: a checkpoint it returned
// nil for is kept, even if the job's process is killed right after. Once
// the dispatcher has begun to interrupt the job it keeps no more: a call
// then waits until the job is suspended, or returns an error wrapping
// ErrCheckpointNotKept if ctx ends first (the job was asked to stop) and
// no answer comes soon after.
//
// When the job is interrupted (a stop signal, or its process killed from
// outside) after it recorded a checkpoint, its Cleanup runs with the
// checkpoint in Cause.Checkpoint, and the dispatcher continues the job as
// a new message: it hides the original, sends a copy of the message (same
// body and attributes, plus the checkpoint, the time the work was first
// received and its run count) and deletes the original once the copy is
// confirmed. The next run finds the checkpoint in Message.Checkpoint. The
// same happens to a job still running as its message nears SQS's 12-hour
// limit on visibility, so a job that checkpoints can run for longer; one
// that does not is stopped then (see ErrAgeLimit). A copy SQS refuses
// gives the original back at once; a send whose fate is unknown leaves the
// original hidden, to come back later. Either way it runs again from its
// own checkpoint, so work after that one may be done twice. After a job
// fails or crashes on its own, its next run resumes from the checkpoint
// its message carried.
//
// Record a checkpoint once the work it stands for is done and durable,
// and make the Cleanup undo what was done after it: a run resumes from
// the last checkpoint kept, so work after it is done again.
//
// On a FIFO queue the copy keeps the message group, with a deduplication
// ID derived from the first message's ID and the checkpoint's number; it
// joins the end of its group.
//
// Checkpoint returns an error when data is too large, when ctx is not a
// job's (a Cleanup cannot checkpoint), when the job has returned, or when
// the dispatcher is gone. A checkpoint is kept for an interrupted job
// only: a job that fails or crashes on its own, runs past its Timeout or
// MaxRSS, or loses its lease, runs next from the checkpoint its message
// carried.
func Checkpoint(ctx context.Context, data []byte) error {
	return child.Checkpoint(ctx, data)
}
