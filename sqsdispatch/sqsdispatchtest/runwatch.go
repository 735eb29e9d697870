package sqsdispatchtest

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsdispatch/go-sqsdispatch/internal/resume"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// stopPoll is how often RunJob asks the StopWhen conditions.
const stopPoll = 5 * time.Millisecond

// runWatch watches RunJob's dispatcher: as its Metrics it learns when the
// job's child took the message and the outcome the dispatcher reported;
// as the client's interceptor it records the visibility the dispatcher
// set last. Heartbeats use ChangeMessageVisibilityBatch, so the last
// ChangeMessageVisibility is the one that gave the message back.
type runWatch struct {
	sqsdispatch.Metrics // the caller's, called first

	started chan struct{} // closed when the job's child holds the message
	once    sync.Once

	mu         sync.Mutex
	reported   string // the Outcome... constant of JobFinished
	visibility time.Duration
	visSet     bool
}

func newRunWatch(m sqsdispatch.Metrics) *runWatch {
	if m == nil {
		m = sqsdispatch.NopMetrics{}
	}
	return &runWatch{Metrics: m, started: make(chan struct{})}
}

// ChildSpawned implements sqsdispatch.Metrics.
func (w *runWatch) ChildSpawned(job string, latency time.Duration) {
	w.Metrics.ChildSpawned(job, latency)
	w.once.Do(func() { close(w.started) })
}

// JobFinished implements sqsdispatch.Metrics.
func (w *runWatch) JobFinished(job, outcome string, d time.Duration) {
	w.Metrics.JobFinished(job, outcome, d)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.reported = outcome
}

// intercept records the visibility of each visibility change: the last
// is the outcome's, since the heartbeats stop before a message is settled.
func (w *runWatch) intercept(_ context.Context, _ string, in any) error {
	var secs int32
	switch v := in.(type) {
	case *sqs.ChangeMessageVisibilityInput:
		secs = v.VisibilityTimeout
	case *sqs.ChangeMessageVisibilityBatchInput:
		if len(v.Entries) == 0 {
			return nil
		}
		secs = v.Entries[len(v.Entries)-1].VisibilityTimeout // RunJob runs one message
	default:
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.visibility, w.visSet = time.Duration(secs)*time.Second, true
	return nil
}

// outcome reads the fate of the message with this ID from the queues.
// A message that is still in its queue was left in flight when the
// dispatcher said so (a crash, a lost lease, a failure without a retry
// policy), else given back with the visibility it set last.
func (w *runWatch) outcome(c *Client, q Queue, id string, retryPolicy bool) Outcome {
	if dl := c.Messages(q.DLQURL); len(dl) > 0 {
		return Outcome{DeadLettered: true, Reason: aws.ToString(dl[0].MessageAttributes[sqsdispatch.AttrReason].StringValue)}
	}
	stored, copies := false, c.Messages(q.URL)
	for _, m := range copies {
		stored = stored || m.ID == id
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.reported == sqsdispatch.OutcomeContinued && !stored && len(copies) == 1 {
		st, err := resume.Decode(copies[0].MessageAttributes[resume.Attr].BinaryValue)
		if err == nil {
			return Outcome{Continued: true, Checkpoint: string(st.Checkpoint)}
		}
	}
	left := w.reported == sqsdispatch.OutcomeCrashed || w.reported == sqsdispatch.OutcomeLeaseLost ||
		w.reported == sqsdispatch.OutcomeFailed && !retryPolicy || w.reported == sqsdispatch.OutcomeAgeLimit ||
		w.reported == sqsdispatch.OutcomeError
	switch {
	case !stored:
		return Outcome{Deleted: true}
	case left || !w.visSet:
		return Outcome{Left: true}
	default:
		return Outcome{GivenBack: true, VisibleAfter: w.visibility}
	}
}

// watchStop stops the dispatcher (calls stop) once a StopWhen condition
// holds or StopAfter's time has passed, counted from when the job's child
// took the message. It returns when done is closed.
func (s *runSettings) watchStop(started, done <-chan struct{}, stop func()) {
	if len(s.stopWhen) == 0 && !s.timedStop {
		return
	}
	select {
	case <-started:
	case <-done:
		return
	}
	var deadline, tick <-chan time.Time
	if s.timedStop {
		t := time.NewTimer(s.stopAfter)
		defer t.Stop()
		deadline = t.C
	}
	if len(s.stopWhen) > 0 {
		t := time.NewTicker(stopPoll)
		defer t.Stop()
		tick = t.C
	}
	for {
		for _, cond := range s.stopWhen {
			if cond() {
				stop()
				return
			}
		}
		select {
		case <-done:
			return
		case <-deadline:
			stop()
			return
		case <-tick:
		}
	}
}
