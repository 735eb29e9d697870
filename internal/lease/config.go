package lease

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// Client is the one SQS call the manager makes; *sqs.Client satisfies it.
type Client interface {
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// Config configures a Manager.
type Config struct {
	// Visibility is what each extension sets the visibility timeout to,
	// in whole seconds (a fraction is dropped). Required: at least 1 s.
	Visibility time.Duration
	// Interval is the time between extensions of one lease; it must be
	// shorter than Visibility. Defaults to a third of Visibility.
	Interval time.Duration
	// MaxAge is SQS's limit on a message's visibility, counted from its
	// receive. Defaults to MaxAgeDefault.
	MaxAge time.Duration
	// Logger receives warnings about failed extensions. Defaults to
	// zap.NewNop().
	Logger *zap.Logger
	// OnFailure, if set, is called once for each failed extension of a
	// message (a failed call counts once per message in it).
	OnFailure func(queue string)
	// Clock tells the time. Defaults to clock.Real{}.
	Clock clock.Clock
}

// maxBatch is the most entries one ChangeMessageVisibilityBatch call takes.
const maxBatch = 10

// minRetry is the shortest wait before a failed extension is retried; with
// less of its lease left, a lease waits for its deadline instead.
const minRetry = 10 * time.Millisecond
