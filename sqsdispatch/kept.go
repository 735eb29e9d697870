package sqsdispatch

import (
	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/envelope"
	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
	"github.com/sqsdispatch/go-sqsdispatch/internal/resume"
)

// kept is the checkpoint an interrupted job's next run resumes from: the
// one its Cleanup is told of, and the one its message's copy carries.
type kept struct {
	set  bool   // the interruption chose it
	data []byte // nil: no checkpoint
	seq  uint64 // its number in the chain of checkpoints the message carries
	// next is the copy that continues the message from the job's last
	// checkpoint; nil when the message's own checkpoint is kept (the job
	// recorded none, or a copy could not carry it).
	next *queue.ContinueInput
	n    int // checkpoints the job recorded in this run
}

// keep stops the job's checkpoints from being kept any longer and chooses
// the checkpoint kept: the job's last one when it recorded one and a copy
// of the message can carry it on queue qi, else the message's own. qi is
// nil when the queue's attributes could not be read.
func (t *turn) keep(qi *queue.Info) kept {
	msg := t.m.msg
	k := kept{set: true, data: msg.Checkpoint, seq: msg.resume.Seq}
	data, n := t.c.FreezeCheckpoints()
	if k.n = n; n == 0 {
		return k
	}
	if qi == nil {
		t.log.Warn("the job's checkpoint cannot be kept: the queue's attributes are unknown", zap.Int("checkpoints", n))
		return k
	}
	st := msg.resume.Next(msg.ID, msg.FirstReceived, msg.ReceiveCount, n, data)
	in := &queue.ContinueInput{Queue: msg.Queue, MessageID: msg.ID, Copy: t.copyOf(st.Encode(), nil),
		FIFO: qi.FIFO, MaxSize: qi.MaxSize}
	if qi.FIFO {
		in.DedupID = resume.DedupID(st.Origin, st.Seq)
	}
	if _, err := in.Copy.MessageAttributes(qi.MaxSize); err != nil {
		t.log.Warn("the job's checkpoint cannot be kept", zap.Int("checkpoints", n), zap.Error(err))
		return k
	}
	k.data, k.seq, k.next = data, st.Seq, in
	return k
}

// copyOf is a copy of the message as the dispatcher sends it: to continue
// it (with its resume state), to dead-letter it (with the reasons), or to
// redrive it. Every copy carries the body, the user's attributes, the
// payload pointer's size attribute, the trace header and the group.
func (t *turn) copyOf(resumeState []byte, reasons []envelope.Reason) envelope.Copy {
	msg := t.m.msg
	return envelope.Copy{Body: msg.Body, Attributes: t.m.attrs, Resume: resumeState, Reasons: reasons,
		TraceHeader: msg.traceHeader(), GroupID: msg.groupID()}
}

// deadLetterResume is the resume state of the message's dead-letter copy:
// the checkpoint kept (or the message's own) with a fresh count of runs,
// so that the copy, moved back to its queue, resumes from it; the
// received attribute as it came when it could not be read; nil when there
// is nothing to carry.
func (t *turn) deadLetterResume() []byte {
	msg := t.m.msg
	if msg.resumeErr != nil {
		return t.m.attrs[envelope.AttrResume].BinaryValue
	}
	cp, seq := msg.Checkpoint, msg.resume.Seq
	if t.kept.set {
		cp, seq = t.kept.data, t.kept.seq
	}
	if cp == nil && msg.resume.Origin == "" {
		return nil
	}
	st := resume.State{Origin: msg.resume.Origin, Seq: seq, FirstReceived: msg.resume.FirstReceived, Checkpoint: cp}
	if st.Origin == "" {
		st.Origin, st.FirstReceived = msg.ID, msg.FirstReceived
	}
	return st.Encode()
}
