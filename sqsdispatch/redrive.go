package sqsdispatch

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/envelope"
	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
)

// RedriveConfig says which dead-lettered messages Redrive moves, and
// where.
type RedriveConfig struct {
	// Client makes the SQS calls. Required.
	Client Client
	// DeadLetterQueueURL is the queue to move messages from. Required.
	DeadLetterQueueURL string
	// Destination is the queue every message moved goes to. Defaults to
	// "": each goes back to the queue it was dead-lettered from, as its
	// AttrSourceQueue attribute names; a message without one (moved by
	// the queue's redrive policy, not by a dispatcher) is left alone.
	Destination string
	// Jobs, when not empty, moves only messages dead-lettered from one of
	// these jobs (AttrJob).
	Jobs []string
	// ReasonContains, when not empty, moves only messages whose
	// dead-letter reason (AttrReason) contains it.
	ReasonContains string
	// DryRun lists what would be moved and moves nothing.
	DryRun bool
	// PerSecond bounds how many messages are moved per second. Defaults
	// to RedrivePerSecondDefault.
	PerSecond float64
	// Max bounds how many messages are moved (or listed). Defaults to 0:
	// no bound.
	Max int
	// Visibility is how long each message received from the dead-letter
	// queue stays hidden while Redrive holds it; those it does not move
	// are made visible again before it returns. Defaults to
	// RedriveVisibilityDefault.
	Visibility time.Duration
	// Progress, when set, is called after each message looked at, with
	// the counts so far.
	Progress func(RedriveResult)
	// Logger receives a line per message moved and per failure. Defaults
	// to zap.NewNop().
	Logger *zap.Logger
}

// Defaults of RedriveConfig.
const (
	// RedrivePerSecondDefault is the default RedriveConfig.PerSecond.
	RedrivePerSecondDefault = 10
	// RedriveVisibilityDefault is the default RedriveConfig.Visibility.
	RedriveVisibilityDefault = 5 * time.Minute
)

// RedriveResult says what Redrive did.
type RedriveResult struct {
	// Seen counts the dead-lettered messages looked at.
	Seen int
	// Moved counts the messages moved (with DryRun: that would be).
	Moved int
	// Moves lists them.
	Moves []RedriveMove
}

// RedriveMove is one message moved (or, with DryRun, to be moved).
type RedriveMove struct {
	// MessageID is the message's ID in the dead-letter queue.
	MessageID string
	// CopyID is the ID of its copy in the destination; empty with DryRun.
	CopyID string
	// Destination is the queue it goes to.
	Destination string
	// DeadLetter is why and from where it was dead-lettered.
	DeadLetter DeadLetterInfo
	// Checkpoint is the checkpoint its next run resumes from, or nil.
	Checkpoint []byte
}

// Redrive moves messages from a dead-letter queue back to the queue they
// were dead-lettered from (or to RedriveConfig.Destination), those a
// dispatcher dead-lettered with its reason attributes, filtered by job and
// reason. SQS's own redrive to source cannot: it knows the source only of
// the messages its redrive policy moved.
//
// Each message moves as a dead-letter move does, copy first: the copy
// keeps the body, the user's attributes, the payload pointer, the
// checkpoint with its runs counted afresh, the trace header and the
// message group (with a deduplication ID of its own on a FIFO queue), and
// drops the dead-letter reasons; only once SQS has confirmed the copy is
// the dead-lettered message deleted. A process that dies in between
// leaves the message in both queues: at most a duplicate, which a
// DryRun lists, never a loss.
//
// Redrive returns when the queue has nothing more to show it, when Max
// messages were moved, or when ctx ends; a move under way when ctx ends
// is finished (its original deleted), and the messages it looked at and
// did not move are made visible again.
func Redrive(ctx context.Context, cfg RedriveConfig) (RedriveResult, error) {
	switch {
	case cfg.Client == nil:
		return RedriveResult{}, errors.New("sqsdispatch: RedriveConfig.Client is required")
	case cfg.DeadLetterQueueURL == "":
		return RedriveResult{}, errors.New("sqsdispatch: RedriveConfig.DeadLetterQueueURL is required")
	case cfg.PerSecond < 0:
		return RedriveResult{}, fmt.Errorf("sqsdispatch: RedriveConfig.PerSecond (%g) must not be negative", cfg.PerSecond)
	}
	cfg.PerSecond = cmp.Or(cfg.PerSecond, RedrivePerSecondDefault)
	cfg.Visibility = cmp.Or(cfg.Visibility, RedriveVisibilityDefault)
	cfg.Logger = cmp.Or(cfg.Logger, zap.NewNop())
	r := &redrive{cfg: cfg, q: queue.New(cfg.Client, queue.Config{Visibility: cfg.Visibility, WaitTime: time.Second, Logger: cfg.Logger}),
		seen: map[string]bool{}, pace: time.Duration(float64(time.Second) / cfg.PerSecond)}
	err := r.run(ctx)
	r.giveBack(ctx)
	return r.res, err
}

// redrive is one Redrive under way.
type redrive struct {
	cfg  RedriveConfig
	q    *queue.Queues
	res  RedriveResult
	seen map[string]bool
	held []queue.Received // looked at and not moved: made visible again at the end
	pace time.Duration
	last time.Time // of the last move
}

// run receives from the dead-letter queue until it shows nothing new.
func (r *redrive) run(ctx context.Context) error {
	for empty := 0; empty < 2; {
		if r.cfg.Max > 0 && r.res.Moved >= r.cfg.Max {
			return nil
		}
		msgs, err := r.q.Receive(ctx, []string{r.cfg.DeadLetterQueueURL}, queue.MaxReceive, nil)
		if err != nil {
			return dispatcherError(err)
		}
		fresh := false
		for i, rcv := range msgs {
			id := aws.ToString(rcv.Message.MessageId)
			if r.seen[id] {
				r.held = append(r.held, rcv)
				continue
			}
			fresh, r.seen[id] = true, true
			r.res.Seen++
			if err := r.consider(ctx, rcv); err != nil {
				r.held = append(r.held, msgs[i+1:]...)
				return err
			}
			if r.cfg.Progress != nil {
				r.cfg.Progress(r.res)
			}
		}
		if fresh {
			empty = 0
		} else {
			empty++
		}
	}
	return nil
}

// consider moves rcv when it matches, or holds it.
func (r *redrive) consider(ctx context.Context, rcv queue.Received) error {
	msg := fromSQS(r.cfg.DeadLetterQueueURL, rcv.Message)
	dl := cmp.Or(msg.DeadLetter, &DeadLetterInfo{})
	dest := cmp.Or(r.cfg.Destination, dl.SourceQueue)
	switch {
	case dest == "",
		len(r.cfg.Jobs) > 0 && !slices.Contains(r.cfg.Jobs, dl.Job),
		r.cfg.ReasonContains != "" && !strings.Contains(dl.Reason, r.cfg.ReasonContains),
		r.cfg.Max > 0 && r.res.Moved >= r.cfg.Max:
		r.held = append(r.held, rcv)
		return nil
	}
	mv := RedriveMove{MessageID: msg.ID, Destination: dest, DeadLetter: *dl, Checkpoint: msg.Checkpoint}
	if r.cfg.DryRun {
		r.held = append(r.held, rcv)
		r.moved(mv)
		return nil
	}
	if err := r.wait(ctx); err != nil {
		r.held = append(r.held, rcv)
		return err
	}
	id, err := r.move(ctx, msg, rcv, dest)
	if err != nil {
		return err
	}
	mv.CopyID = id
	r.moved(mv)
	r.cfg.Logger.Info("dead-lettered message redriven", zap.String("message_id", msg.ID), zap.String("copy_id", id),
		zap.String("destination", dest), zap.String("job", dl.Job), zap.String("reason", dl.Reason))
	return nil
}

func (r *redrive) moved(mv RedriveMove) {
	r.res.Moved++
	r.res.Moves = append(r.res.Moves, mv)
}

// move sends the copy of msg to dest and, once it is confirmed, deletes
// msg from the dead-letter queue, retrying for as long as msg stays
// hidden, even once ctx has ended: a Redrive stopped mid-move does not
// leave the message in both queues.
func (r *redrive) move(ctx context.Context, msg *Message, rcv queue.Received, dest string) (string, error) {
	qi, err := r.q.Info(ctx, dest)
	if err != nil {
		r.held = append(r.held, rcv)
		return "", dispatcherError(err)
	}
	c := envelope.Copy{Body: msg.Body, Attributes: rcv.Message.MessageAttributes, Resume: redriveResume(msg, rcv),
		TraceHeader: msg.traceHeader(), GroupID: msg.groupID()}
	in := queue.ContinueInput{Queue: dest, MessageID: msg.ID, Copy: c, FIFO: qi.FIFO, MaxSize: qi.MaxSize}
	if qi.FIFO {
		sum := sha256.Sum256([]byte(r.cfg.DeadLetterQueueURL + "\x00" + msg.ID))
		in.DedupID = "redrive-" + hex.EncodeToString(sum[:])
	}
	id, err := r.q.SendCopy(ctx, in)
	if err != nil {
		r.held = append(r.held, rcv)
		return "", dispatcherError(err)
	}
	err = r.q.DeleteRetried(context.WithoutCancel(ctx), r.cfg.DeadLetterQueueURL, aws.ToString(rcv.Message.ReceiptHandle), msg.ID,
		queue.DeleteRetry{
			Until:   earliest(rcv.At.Add(r.cfg.Visibility-time.Second), time.Now().Add(copyDeleteWindow)),
			PerCall: maxCallTime,
			Failed: func(attempt int, err error) {
				r.cfg.Logger.Warn("deleting a redriven message from the dead-letter queue", zap.String("message_id", msg.ID),
					zap.String("copy_id", id), zap.Int("attempt", attempt), zap.Error(err))
			},
		})
	if err != nil {
		return id, fmt.Errorf("sqsdispatch: message %s was copied to %s as %s but stays in the dead-letter queue: %w",
			msg.ID, dest, id, dispatcherError(err))
	}
	return id, nil
}

// redriveResume is the resume state a redriven copy carries: the one the
// dead-letter copy carries with its runs counted afresh, or the attribute
// as it came when it cannot be read.
func redriveResume(msg *Message, rcv queue.Received) []byte {
	raw := rcv.Message.MessageAttributes[envelope.AttrResume].BinaryValue
	if msg.resumeErr != nil || raw == nil {
		return raw
	}
	st := msg.resume
	st.Runs = 0
	return st.Encode()
}

// wait paces the moves at PerSecond.
func (r *redrive) wait(ctx context.Context) error {
	if d := time.Until(r.last.Add(r.pace)); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.last = time.Now()
	return nil
}

// giveBack makes the messages held visible again, also when ctx has
// ended.
func (r *redrive) giveBack(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), maxCallTime)
	defer cancel()
	for _, rcv := range r.held {
		id := aws.ToString(rcv.Message.MessageId)
		if err := r.q.SetVisibility(ctx, r.cfg.DeadLetterQueueURL, aws.ToString(rcv.Message.ReceiptHandle), id, 0); err != nil {
			r.cfg.Logger.Warn("making a dead-lettered message visible again", zap.String("message_id", id), zap.Error(err))
		}
	}
}
