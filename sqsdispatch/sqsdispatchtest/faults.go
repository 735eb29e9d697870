package sqsdispatchtest

import (
	"context"
	"fmt"
	"sync"
)

// ops are the operation names FailNext, LoseNextResponse, Intercept and
// Calls use: the names of the Client's SQS methods.
var ops = map[string]bool{
	"ReceiveMessage":               true,
	"DeleteMessage":                true,
	"ChangeMessageVisibility":      true,
	"ChangeMessageVisibilityBatch": true,
	"DeleteMessageBatch":           true,
	"SendMessage":                  true,
	"GetQueueAttributes":           true,
	"GetQueueUrl":                  true,
	"CreateQueue":                  true,
	"SetQueueAttributes":           true,
}

// faults holds the failures tests have asked for and counts calls.
type faults struct {
	mu        sync.Mutex
	intercept func(ctx context.Context, op string, in any) error
	next      map[string][]error // fail before the call takes effect
	lost      map[string][]error // fail after the call took effect
	entries   []entryFault       // fail single entries of batch calls
	calls     map[string]int
}

func (f *faults) before(ctx context.Context, op string, in any) error {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = make(map[string]int)
	}
	f.calls[op]++
	fn := f.intercept
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if fn != nil {
		if err := fn(ctx, op, in); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return pop(f.next, op)
}

func (f *faults) after(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return pop(f.lost, op)
}

func pop(m map[string][]error, op string) error {
	q := m[op]
	if len(q) == 0 {
		return nil
	}
	if len(q) == 1 {
		delete(m, op)
	} else {
		m[op] = q[1:]
	}
	return q[0]
}

func push(m *map[string][]error, op string, err error, method string) {
	if !ops[op] {
		panic(fmt.Sprintf("sqsdispatchtest: %s: unknown operation %q", method, op))
	}
	if err == nil {
		panic(fmt.Sprintf("sqsdispatchtest: %s(%q, nil): the error must not be nil", method, op))
	}
	if *m == nil {
		*m = make(map[string][]error)
	}
	(*m)[op] = append((*m)[op], err)
}

// FailNext makes the next call of op fail with err before it has any
// effect, as when a request never reaches SQS or SQS rejects it. op is the
// name of a Client method ("ReceiveMessage", "ChangeMessageVisibilityBatch",
// ...). Calls queue up: FailNext twice fails the next two calls. err may be
// any error; an API error such as &types.RequestThrottled{} or
// &smithy.GenericAPIError{Code: "InternalError", Fault: smithy.FaultServer}
// looks to the caller like one from SQS. FailNext panics if op is not a
// method of Client or err is nil.
func (c *Client) FailNext(op string, err error) {
	c.faults.mu.Lock()
	defer c.faults.mu.Unlock()
	push(&c.faults.next, op, err, "FailNext")
}

// LoseNextResponse makes the next call of op take effect and then fail
// with err, as when SQS did the work but the response was lost: a deleted
// message stays deleted, a received message stays in flight, a sent
// message is in the queue. Calls queue up as with FailNext. It panics if op
// is not a method of Client or err is nil.
func (c *Client) LoseNextResponse(op string, err error) {
	c.faults.mu.Lock()
	defer c.faults.mu.Unlock()
	push(&c.faults.lost, op, err, "LoseNextResponse")
}

// Intercept makes every later call run fn first, with the call's context,
// its operation name (the method's name) and its input (for example a
// *sqs.ReceiveMessageInput). A non-nil error from fn fails the call before
// it has any effect. fn may block, for example until ctx ends to emulate a
// call that hangs, and it may be called from several goroutines at once.
// Intercept(nil) removes the interceptor. The interceptor runs before
// failures queued with FailNext.
func (c *Client) Intercept(fn func(ctx context.Context, op string, in any) error) {
	c.faults.mu.Lock()
	defer c.faults.mu.Unlock()
	c.faults.intercept = fn
}

// Calls returns how many times op (the name of a Client method) has been
// called, failed calls included (also those whose context had ended).
func (c *Client) Calls(op string) int {
	c.faults.mu.Lock()
	defer c.faults.mu.Unlock()
	return c.faults.calls[op]
}
