package sqsdispatch

import "github.com/sqsdispatch/go-sqsdispatch/internal/queue"

// Names of the attributes a dead-lettered message gains, in the order they
// are added while SQS's 10-attribute and size limits allow. The copy keeps
// the original body and attributes byte for byte.
const (
	// AttrReason says why the message was dead-lettered.
	AttrReason = queue.AttrReason
	// AttrSourceQueue is the URL of the queue it came from.
	AttrSourceQueue = queue.AttrSourceQueue
	// AttrJob is the job it was routed to, when it was.
	AttrJob = queue.AttrJob
	// AttrReceiveCount is how many times it had been received.
	AttrReceiveCount = queue.AttrReceiveCount
)
