// Package queue holds the dispatcher's SQS work: receiving from queues in
// priority order, deleting, changing visibility, moving messages to the
// dead-letter queue, and reading (and caching) queue attributes. Every
// call takes the caller's context, which should carry a deadline; nothing
// here waits beyond it, and no lock is held across a network call.
package queue
