// Package lease keeps received SQS messages invisible to other consumers
// while their jobs run, extending their visibility timeouts in
// ChangeMessageVisibilityBatch calls that are bounded in time and retried
// within what is left of each lease.
package lease
