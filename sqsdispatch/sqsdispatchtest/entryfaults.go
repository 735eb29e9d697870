package sqsdispatchtest

import (
	"fmt"
	"slices"
)

// entryFault is one failure waiting for a batch entry (FailEntry).
type entryFault struct {
	op    string
	match func(receiptHandle string) bool
	err   error
}

// FailEntry makes the next entry of a batch call of op
// ("DeleteMessageBatch" or "ChangeMessageVisibilityBatch") whose receipt
// handle match accepts (nil: any) fail with err, as SQS fails single
// entries of a batch: the entry is reported in the call's Failed list, with
// err's code and message and whether it is the sender's fault, and has no
// effect; the call and its other entries succeed. Failures queue up: each
// fails one entry, the first queued first. err may be an API error such as
// &types.ReceiptHandleIsInvalid{} or &smithy.GenericAPIError{Code:
// "InternalError", Fault: smithy.FaultServer}. Receipt handles are in
// MessageInfo.ReceiptHandle. FailEntry panics if op is not a batch method
// of Client or err is nil.
func (c *Client) FailEntry(op string, match func(receiptHandle string) bool, err error) {
	if op != "DeleteMessageBatch" && op != "ChangeMessageVisibilityBatch" {
		panic(fmt.Sprintf("sqsdispatchtest: FailEntry: %q is not a batch operation", op))
	}
	if err == nil {
		panic(fmt.Sprintf("sqsdispatchtest: FailEntry(%q, …, nil): the error must not be nil", op))
	}
	if match == nil {
		match = func(string) bool { return true }
	}
	c.faults.mu.Lock()
	defer c.faults.mu.Unlock()
	c.faults.entries = append(c.faults.entries, entryFault{op: op, match: match, err: err})
}

// entryFailure takes the first failure queued for an entry of op with
// this receipt handle, or returns nil.
func (f *faults) entryFailure(op, receiptHandle string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.entries, func(e entryFault) bool { return e.op == op && e.match(receiptHandle) })
	if i < 0 {
		return nil
	}
	err := f.entries[i].err
	f.entries = slices.Delete(f.entries, i, i+1)
	return err
}
