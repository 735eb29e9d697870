package sqsdispatchtest

import (
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
)

// RunOption configures RunJob.
type RunOption interface {
	applyRun(*runSettings)
}

// QueueOption configures Server.CreateQueue and LocalServer.CreateQueue.
type QueueOption interface {
	applyQueue(*fauxqs.QueueSpec)
}

// QueueRunOption is an option of both RunJob and CreateQueue.
type QueueRunOption interface {
	RunOption
	QueueOption
}

// runSettings are RunJob's options.
type runSettings struct {
	maxReceives int
	fifo        bool
	stopWhen    []func() bool
	stopAfter   time.Duration
	timedStop   bool // StopAfter was given
}

type runOption func(*runSettings)

func (f runOption) applyRun(s *runSettings) { f(s) }

type queueOption func(*fauxqs.QueueSpec)

func (f queueOption) applyQueue(q *fauxqs.QueueSpec) { f(q) }

type bothOption struct {
	run   runOption
	queue queueOption
}

func (o bothOption) applyRun(s *runSettings)        { o.run(s) }
func (o bothOption) applyQueue(q *fauxqs.QueueSpec) { o.queue(q) }

// StopWhen makes RunJob stop the dispatcher, as a stop signal would, once
// cond returns true. RunJob starts asking once the job's child process
// holds the message, and asks every few milliseconds until DispatchOne
// returns; cond is called from another goroutine than RunJob's caller.
// With several StopWhen options, the first condition that holds stops
// the dispatcher.
func StopWhen(cond func() bool) RunOption {
	return runOption(func(s *runSettings) { s.stopWhen = append(s.stopWhen, cond) })
}

// StopAfter makes RunJob stop the dispatcher, as a stop signal would, d
// after the job's child process took the message, unless the job has
// finished by then. The last StopAfter given counts.
func StopAfter(d time.Duration) RunOption {
	return runOption(func(s *runSettings) { s.stopAfter, s.timedStop = d, true })
}

// MaxReceiveCount sets the maxReceiveCount of the redrive policy that
// sends the queue's messages to its dead-letter queue. For RunJob it
// defaults to MaxReceiveCountDefault; for Server.CreateQueue, which
// creates the dead-letter queue NAME-dlq only when this option is given,
// it is required for a dead-letter queue. SQS accepts 1 to 1000.
func MaxReceiveCount(n int) QueueRunOption {
	return bothOption{
		run:   func(s *runSettings) { s.maxReceives = n },
		queue: func(q *fauxqs.QueueSpec) { q.MaxReceiveCount = n },
	}
}

// FIFO makes the queue (and its dead-letter queue) a FIFO queue. RunJob
// then sends the message with Message.GroupID; Server.CreateQueue adds
// ".fifo" to the names.
func FIFO() QueueRunOption {
	return bothOption{
		run:   func(s *runSettings) { s.fifo = true },
		queue: func(q *fauxqs.QueueSpec) { q.FIFO = true },
	}
}

// WaitSeconds sets the queue's ReceiveMessageWaitTimeSeconds, the
// long-poll wait of a receive that does not give its own (0 to 20).
// Defaults to 0.
func WaitSeconds(n int) QueueOption {
	return queueOption(func(q *fauxqs.QueueSpec) { q.WaitSeconds = n })
}

// VisibilitySeconds sets the queue's default VisibilityTimeout. Defaults
// to SQS's 30 seconds.
func VisibilitySeconds(n int) QueueOption {
	return queueOption(func(q *fauxqs.QueueSpec) { q.VisibilitySeconds = n })
}
