package sqsdispatchtest

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Defaults for the names a Client gives its queues.
const (
	// RegionDefault is the region in queue URLs and ARNs unless
	// WithRegion says otherwise.
	RegionDefault = "us-east-1"
	// AccountIDDefault is the account in queue URLs and ARNs unless
	// WithAccountID says otherwise.
	AccountIDDefault = "000000000000"
)

// longPollRecheck is how often a long poll looks at the queue again when
// the clock is not the wall clock, so that it notices the clock move.
const longPollRecheck = 20 * time.Millisecond

// Client is an in-memory SQS service. It implements sqsdispatch.Client.
// Create one with NewClient; it is safe for concurrent use.
type Client struct {
	now         func() time.Time
	customClock bool
	region      string
	account     string
	baseURL     string

	mu      sync.Mutex
	queues  map[string]*queue // by URL
	byName  map[string]*queue
	changed chan struct{} // closed and replaced when messages may have become available
	faults  faults
}

// Option configures a Client.
type Option func(*Client)

// WithClock makes the Client tell the time with now instead of time.Now:
// sent and receive timestamps, delays, visibility timeouts, the 12-hour
// limit and the deduplication window all follow it. A long poll's wait
// (WaitTimeSeconds) is always real time; while it waits, a long poll looks
// at the queue again every few milliseconds, so it notices a message made
// visible by moving the clock.
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		c.now = now
		c.customClock = true
	}
}

// WithRegion sets the region in queue URLs and ARNs. Defaults to
// RegionDefault.
func WithRegion(region string) Option {
	return func(c *Client) { c.region = region }
}

// WithAccountID sets the account ID in queue URLs and ARNs. Defaults to
// AccountIDDefault.
func WithAccountID(id string) Option {
	return func(c *Client) { c.account = id }
}

// WithBaseURL sets what precedes the queue name in queue URLs, for example
// "http://localhost:4566/000000000000". Defaults to
// "https://sqs.REGION.amazonaws.com/ACCOUNT".
func WithBaseURL(base string) Option {
	return func(c *Client) { c.baseURL = strings.TrimRight(base, "/") }
}

// NewClient returns a Client with no queues.
func NewClient(opts ...Option) *Client {
	c := &Client{
		now:     time.Now,
		region:  RegionDefault,
		account: AccountIDDefault,
		queues:  make(map[string]*queue),
		byName:  make(map[string]*queue),
		changed: make(chan struct{}),
	}
	for _, o := range opts {
		o(c)
	}
	if c.baseURL == "" {
		c.baseURL = "https://sqs." + c.region + ".amazonaws.com/" + c.account
	}
	return c
}

// notify wakes every long poll so it looks at its queue again. c.mu must
// be held.
func (c *Client) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// begin starts a call: it counts the call, fails at once if ctx has
// ended, then applies the interceptor and any failure queued with
// FailNext.
func (c *Client) begin(ctx context.Context, op string, in any) error {
	return c.faults.before(ctx, op, in)
}

// finish ends a call that took effect: it returns the failure queued with
// LoseNextResponse instead of out, if there is one.
func finish[T any](c *Client, op string, out *T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	if err := c.faults.after(op); err != nil {
		return nil, err
	}
	return out, nil
}
