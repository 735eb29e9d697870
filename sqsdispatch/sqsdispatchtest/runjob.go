package sqsdispatchtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// MaxReceiveCountDefault is the maxReceiveCount of the queue RunJob
// creates unless MaxReceiveCount says otherwise.
const MaxReceiveCountDefault = 5

// Message is the message RunJob sends for the job to run on.
type Message struct {
	// Body is the message body. Required: SQS accepts no empty body.
	Body string
	// Attributes are the message attributes the sender sets, for example
	// the one a sqsdispatch.RouteByAttribute route reads.
	Attributes map[string]sqsdispatch.MessageAttribute
	// ReceiveCount is the delivery the job sees, this one included: the
	// message is received and made visible again ReceiveCount-1 times
	// before the dispatcher receives it. It must not exceed the queue's
	// maxReceiveCount. Defaults to 1.
	ReceiveCount int
	// GroupID is the message group on a FIFO queue (see FIFO). Defaults to
	// "sqsdispatchtest" there; on a standard queue it is sent only when
	// set.
	GroupID string
	// Checkpoint, when set, makes the message one that continues an
	// interrupted job: the job finds it in Message.Checkpoint and resumes
	// from it. At most sqsdispatch.MaxCheckpointBytes, as a job's
	// checkpoints are.
	Checkpoint []byte
	// Runs is the job's run count as the job sees it in Message.Runs:
	// with Runs above ReceiveCount the message continues a job that ran
	// Runs-ReceiveCount times before, as a message the dispatcher
	// continued after a stop does, so a test of a resumed job reads like
	// a real later run. A continued message whose Runs exceed the queue's
	// maxReceiveCount is dead-lettered instead of run. Defaults to
	// ReceiveCount.
	Runs int
}

// Outcome is what the dispatcher did with RunJob's message, read from the
// queues once DispatchOne returned. Exactly one of Deleted, DeadLettered,
// GivenBack, Left and Continued is true.
type Outcome struct {
	// Deleted is true when the job succeeded and the message was deleted.
	Deleted bool
	// DeadLettered is true when the message was moved to the dead-letter
	// queue.
	DeadLettered bool
	// Reason is the dead-lettered message's sqsdispatch.AttrReason
	// attribute: why it was moved (empty when the message's own attributes
	// left no room for it).
	Reason string
	// GivenBack is true when the message went back to its queue to be
	// delivered again after VisibleAfter: a RetryAfter, the retry policy
	// after a failure, or a stop.
	GivenBack bool
	// VisibleAfter is the visibility timeout the message was given back
	// with: the RetryAfter delay, the retry policy's delay, or 0 after a
	// stop.
	VisibleAfter time.Duration
	// Left is true when the message was left in flight until its
	// visibility timeout ends: a crash, a lost lease, a failure without a
	// retry policy, SQS's 12-hour limit, or an outcome the dispatcher
	// could not apply.
	Left bool
	// Continued is true when the job was interrupted after it recorded a
	// checkpoint (sqsdispatch.Checkpoint) and the message was replaced by
	// a copy that resumes from Checkpoint.
	Continued bool
	// Checkpoint holds the bytes of the checkpoint the copy carries when
	// Continued (a string keeps Outcome comparable).
	Checkpoint string
	// Err is what DispatchOne returned: nil on success, else a
	// *sqsdispatch.JobError, *sqsdispatch.WorkerProcessError,
	// *sqsdispatch.DispatcherError or, after a stop, a
	// *sqsdispatch.StoppedError.
	Err error
}

// String describes the message's fate in a few words, for test failures.
func (o Outcome) String() string {
	switch {
	case o.Deleted:
		return "deleted"
	case o.DeadLettered:
		return fmt.Sprintf("dead-lettered (%s)", o.Reason)
	case o.GivenBack && o.VisibleAfter == 0:
		return "given back, visible at once"
	case o.GivenBack:
		return fmt.Sprintf("given back, visible after %s", o.VisibleAfter)
	case o.Left:
		return "left in flight"
	case o.Continued:
		return fmt.Sprintf("continued from checkpoint %q", o.Checkpoint)
	default:
		return "no outcome"
	}
}

// RunJob sends msg to a new in-memory queue, lets a dispatcher built from
// cfg receive it with DispatchOne, and returns what became of it. The job
// runs in a child process exactly as under Run, so a panic, an os.Exit or
// a stop (see StopWhen and StopAfter: DispatchOne's context is cancelled,
// as a stop signal would stop Run) takes the real path: cleanup, retries,
// dead-lettering. No server is needed.
//
// cfg needs Registry and Job or Route, and may set anything else (Retry,
// timeouts, Logger, Metrics); RunJob sets Client and QueueURL (and clears
// QueueURLs): the queue is a standard queue, or a FIFO queue with FIFO(),
// with a dead-letter queue and a redrive policy whose maxReceiveCount is
// MaxReceiveCountDefault unless MaxReceiveCount says otherwise.
//
// The children are the test binary itself, so its TestMain must call
// sqsdispatch.Init first, with a registry that holds the same jobs; Main
// does that, and spares the children the race detector's second at exit:
//
//	func TestMain(m *testing.M) {
//		sqsdispatchtest.Main(m, registry())
//	}
//
// The error is RunJob's own, returned before the job runs: a Config that
// New refuses, an empty Body, a Checkpoint over
// sqsdispatch.MaxCheckpointBytes, Runs below ReceiveCount, a message it
// cannot send, a ReceiveCount above the maxReceiveCount; or after, a
// test binary that does not run the job (no sqsdispatch.Init in TestMain,
// or a registry there without the job). The job's own failure is in
// Outcome.Err.
func RunJob(ctx context.Context, cfg sqsdispatch.Config, msg Message, opts ...RunOption) (Outcome, error) {
	s := runSettings{maxReceives: MaxReceiveCountDefault}
	for _, o := range opts {
		o.applyRun(&s)
	}
	receives := cmp.Or(msg.ReceiveCount, 1)
	switch {
	case s.maxReceives < 1 || s.maxReceives > 1000:
		return Outcome{}, fmt.Errorf("sqsdispatchtest: RunJob: MaxReceiveCount (%d) must be between 1 and 1000", s.maxReceives)
	case receives < 1 || receives > s.maxReceives:
		return Outcome{}, fmt.Errorf("sqsdispatchtest: RunJob: Message.ReceiveCount (%d) must be between 1 and the maxReceiveCount (%d)",
			receives, s.maxReceives)
	}
	if err := checkMessage(msg, receives); err != nil {
		return Outcome{}, fmt.Errorf("sqsdispatchtest: RunJob: %w", err)
	}
	c := NewClient()
	q, err := runQueues(ctx, c, s)
	if err != nil {
		return Outcome{}, err
	}
	w := newRunWatch(cfg.Metrics)
	cfg.Client, cfg.QueueURL, cfg.QueueURLs, cfg.Metrics = c, q.URL, nil, w
	d, err := sqsdispatch.New(cfg)
	if err != nil {
		return Outcome{}, fmt.Errorf("sqsdispatchtest: RunJob: %w", err)
	}
	id, err := sendRunMessage(ctx, c, q.URL, msg, receives, s.fifo)
	if err != nil {
		return Outcome{}, err
	}
	if err := redeliver(ctx, c, q.URL, receives-1); err != nil {
		return Outcome{}, err
	}
	c.Intercept(w.intercept)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { s.watchStop(w.started, done, stop) })
	handled, err := d.DispatchOne(runCtx)
	close(done)
	wg.Wait()
	if !handled {
		return Outcome{Err: err}, fmt.Errorf("sqsdispatchtest: RunJob: the dispatcher received no message (%v)", err)
	}
	out := w.outcome(c, q, id, cfg.Retry != nil)
	out.Err = err
	return out, notRun(err)
}

// notRun explains an error that means the test binary's children did not
// run the job as the test meant: they did not call sqsdispatch.Init, or
// their registry lacks the job.
func notRun(err error) error {
	var (
		proc *sqsdispatch.WorkerProcessError
		job  *sqsdispatch.JobError
	)
	switch {
	case errors.As(err, &proc) && strings.Contains(string(proc.Stderr), "did not call sqsdispatch.Init"):
		return errors.New("sqsdispatchtest: RunJob: the test binary did not call sqsdispatch.Init(registry) " +
			"first thing in TestMain, so its child processes cannot run jobs")
	case errors.As(err, &job) && job.Err == nil && strings.HasPrefix(job.Message, sqsdispatch.ErrUnknownJob.Error()):
		return fmt.Errorf("sqsdispatchtest: RunJob: job %q is not in the registry the test binary passes to "+
			"sqsdispatch.Init in TestMain", job.Job)
	}
	return nil
}
