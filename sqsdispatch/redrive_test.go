package sqsdispatch_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/internal/resume"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// deadLetterThree dead-letters three messages for three reasons through
// a dispatcher: a job's Permanent error (carrying a checkpoint), a job
// that is not registered, and a resume state that cannot be read. It
// returns their bodies by reason.
func deadLetterThree(t *testing.T, b *bundle) {
	t.Helper()
	routed := func(job string) map[string]types.MessageAttributeValue {
		return map[string]types.MessageAttributeValue{"job": strAttr(job)}
	}
	withCheckpoint := routed("permanent")
	withCheckpoint[resume.Attr] = resumeAttr(resume.State{Origin: "m-0", Seq: 3, Runs: 2, Checkpoint: []byte("3")}.Encode())
	b.send("permanent", withCheckpoint)
	b.send("unknown", routed("nosuchjob"))
	unreadable := routed("seen")
	unreadable[resume.Attr] = resumeAttr([]byte("{"))
	b.send("unreadable", unreadable)
	cfg := b.config("")
	cfg.Job, cfg.Route = "", sqsdispatch.RouteByAttribute("job")
	d := b.dispatcher(cfg)
	for range 3 {
		_ = dispatchNext(t, b.ctx, d, time.Minute)
	}
	waitFor(t, time.Minute, "the three to be visible in the dead-letter queue", func() bool {
		v, f := counts(t, b.ctx, b.q.DLQURL)
		return v == 3 && f == 0
	})
}

// TestRedriveByReason dead-letters three messages for three reasons, and
// redrives them back to their source queue one reason at a time: the
// dry run lists without moving, each redrive moves only its reason, and
// the message with a checkpoint comes back runnable from it, its runs
// counted afresh, the reasons gone.
func TestRedriveByReason(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	deadLetterThree(t, b)
	base := sqsdispatch.RedriveConfig{Client: client, DeadLetterQueueURL: b.q.DLQURL, Visibility: 10 * time.Second}

	dry := base
	dry.DryRun, dry.ReasonContains = true, "bad input"
	res, err := sqsdispatch.Redrive(b.ctx, dry)
	if err != nil || res.Seen != 3 || res.Moved != 1 || res.Moves[0].DeadLetter.Job != "permanent" || string(res.Moves[0].Checkpoint) != "3" ||
		res.Moves[0].Destination != b.q.URL || res.Moves[0].CopyID != "" {
		t.Fatalf("dry run = %+v, %v; want the permanent one listed, with its checkpoint, to its source", res, err)
	}
	if v, _ := counts(t, b.ctx, b.q.URL); v != 0 {
		t.Fatalf("the dry run moved %d messages", v)
	}

	for _, tt := range []struct{ reason, body string }{
		{"bad input", "permanent"}, {"unknown job", "unknown"}, {resume.Attr, "unreadable"},
	} {
		cfg := base
		cfg.ReasonContains = tt.reason
		res, err := sqsdispatch.Redrive(b.ctx, cfg)
		if err != nil || res.Moved != 1 || res.Moves[0].CopyID == "" {
			t.Fatalf("redrive of %q = %+v, %v; want one moved", tt.reason, res, err)
		}
		msgs := receiveWithin(t, b.ctx, b.q.URL, 10*time.Second)
		if len(msgs) != 1 || aws.ToString(msgs[0].Body) != tt.body {
			t.Fatalf("redrive of %q: the source queue holds %d messages; want %q", tt.reason, len(msgs), tt.body)
		}
		m := msgs[0]
		for name := range m.MessageAttributes {
			if name != "job" && name != resume.Attr {
				t.Errorf("the redriven %q carries %s", tt.body, name)
			}
		}
		if tt.body == "permanent" {
			st, err := resume.Decode(m.MessageAttributes[resume.Attr].BinaryValue)
			if err != nil || string(st.Checkpoint) != "3" || st.Runs != 0 || st.Origin != "m-0" {
				t.Errorf("the redriven message carries %+v (%v); want its checkpoint, runs counted afresh", st, err)
			}
			// Runnable: it resumes from its checkpoint, its runs those of
			// the redriven message alone (the test's receive, the job's).
			setVisible(t, b, m)
			if err := dispatchNext(t, b.ctx, b.dispatcher(b.config("seen")), time.Minute); err != nil {
				t.Fatal(err)
			}
			if s := readSeen(t, aws.ToString(m.MessageId)); s.Checkpoint != "3" || s.Runs != 2 || s.DeadLetter != nil {
				t.Errorf("the redriven job saw %+v; want checkpoint 3, run 2, no dead-letter reasons", s)
			}
		} else {
			deleteMessage(t, b, m)
		}
	}
	if !drained(t, b.ctx, b.q.DLQURL) {
		t.Error("the dead-letter queue is not empty")
	}
}

func deleteMessage(t *testing.T, b *bundle, m types.Message) {
	t.Helper()
	if _, err := client.DeleteMessage(b.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(b.q.URL), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
}

// cancelAfterSend ends the redrive's context once a copy has been sent,
// before its original's delete. With crashed, every delete after that
// fails too: a process that died there makes no more calls.
type cancelAfterSend struct {
	sqsdispatch.Client
	cancel  context.CancelFunc
	crashed bool
	once    sync.Once
	sent    atomic.Bool
}

func (c *cancelAfterSend) SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	out, err := c.Client.SendMessage(ctx, in, opts...)
	if err == nil {
		c.once.Do(func() {
			c.sent.Store(true)
			c.cancel()
		})
	}
	return out, err
}

func (c *cancelAfterSend) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	if c.crashed && c.sent.Load() {
		return nil, errors.New("the process is gone")
	}
	return c.Client.DeleteMessage(ctx, in, opts...)
}

// TestRedriveStoppedFinishesTheMoveUnderWay: a redrive stopped (its
// context ended, as Ctrl-C does) between a copy's send and its original's
// delete still deletes the original, so the message is in one queue and
// not both, and every other message it received is visible again at once.
func TestRedriveStoppedFinishesTheMoveUnderWay(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	deadLetterThree(t, b)
	ctx, stop := context.WithCancel(b.ctx)
	_, err := sqsdispatch.Redrive(ctx, sqsdispatch.RedriveConfig{Client: &cancelAfterSend{Client: client, cancel: stop},
		DeadLetterQueueURL: b.q.DLQURL, Visibility: 10 * time.Minute})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Redrive = %v; want it ended by the stop", err)
	}
	if v, f := counts(t, b.ctx, b.q.DLQURL); v != 2 || f != 0 {
		t.Errorf("the dead-letter queue holds %d visible, %d hidden; want the two not moved, visible", v, f)
	}
	if v, f := counts(t, b.ctx, b.q.URL); v+f != 1 {
		t.Errorf("the source queue holds %d messages; want the one moved", v+f)
	}
}

// TestRedriveCrashLosesNothing: a redrive that ends between a copy's send
// and its original's delete loses nothing: every message is in one queue
// or the other, and the one left in both is listed by a dry run.
func TestRedriveCrashLosesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	deadLetterThree(t, b)
	ctx, crash := context.WithCancel(b.ctx)
	_, err := sqsdispatch.Redrive(ctx, sqsdispatch.RedriveConfig{Client: &cancelAfterSend{Client: client, cancel: crash, crashed: true},
		DeadLetterQueueURL: b.q.DLQURL, Visibility: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "stays in the dead-letter queue") {
		t.Fatalf("Redrive = %v; want the delete after the crash to have failed", err)
	}
	var inSource []types.Message
	waitFor(t, time.Minute, "the copy in the source queue", func() bool {
		inSource = append(inSource, receive(t, b.ctx, b.q.URL, 1)...)
		return len(inSource) > 0
	})
	if len(inSource) != 1 {
		t.Fatalf("%d copies in the source queue; want the one sent before the crash", len(inSource))
	}
	dup := aws.ToString(inSource[0].Body)
	// The three are still in the dead-letter queue once the crashed
	// redrive's hold on them ends.
	var res sqsdispatch.RedriveResult
	waitFor(t, time.Minute, "a dry run to list all three", func() bool {
		var err error
		res, err = sqsdispatch.Redrive(b.ctx, sqsdispatch.RedriveConfig{Client: client, DeadLetterQueueURL: b.q.DLQURL, DryRun: true,
			Visibility: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return res.Moved == 3
	})
	var listed []string
	for _, mv := range res.Moves {
		listed = append(listed, mv.DeadLetter.Reason)
	}
	if !strings.Contains(strings.Join(listed, "\n"), map[string]string{"permanent": "bad input", "unknown": "unknown job", "unreadable": resume.Attr}[dup]) {
		t.Errorf("the dry run lists %q; want the duplicate %q among them", listed, dup)
	}
}
