package queue

import (
	"cmp"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// InfoTTLDefault is how long queue attributes are cached when
// Config.InfoTTL is 0.
const InfoTTLDefault = 5 * time.Minute

// Config configures Queues. Its zero fields are defaults.
type Config struct {
	// Visibility is the VisibilityTimeout asked for on receive, in whole
	// seconds. Defaults to the queue's own.
	Visibility time.Duration
	// WaitTime is the long-poll wait of the lowest-priority queue, in whole
	// seconds. Defaults to the queue's own ReceiveMessageWaitTimeSeconds.
	WaitTime time.Duration
	// InfoTTL is how long queue attributes are cached. Defaults to
	// InfoTTLDefault.
	InfoTTL time.Duration
	// Logger receives the warnings of Check. Defaults to zap.NewNop().
	Logger *zap.Logger
	// Clock tells the time. Defaults to clock.Real{}.
	Clock clock.Clock
}

// Queues makes the dispatcher's SQS calls through one Client. It is safe
// for concurrent use.
type Queues struct {
	client Client
	cfg    Config
	log    *zap.Logger
	clock  clock.Clock

	infos *cache[*Info]  // by queue URL
	urls  *cache[string] // queue URL by ARN

	mu    sync.Mutex
	polls map[string]*pollState // by queue URL
}

// New returns Queues calling c.
func New(c Client, cfg Config) *Queues {
	if cfg.InfoTTL <= 0 {
		cfg.InfoTTL = InfoTTLDefault
	}
	cfg.Logger = cmp.Or(cfg.Logger, zap.NewNop())
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	return &Queues{
		client: c,
		cfg:    cfg,
		log:    cfg.Logger,
		clock:  cfg.Clock,
		infos:  newCache[*Info]("GetQueueAttributes", cfg.InfoTTL, cfg.Clock),
		urls:   newCache[string]("GetQueueUrl", cfg.InfoTTL, cfg.Clock),
		polls:  make(map[string]*pollState),
	}
}
