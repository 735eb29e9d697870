// Package chaos checks sqsdispatch's promise — no message lost, no job run
// twice at once, no orphan process, whatever is killed when — by running
// several dispatcher processes of a service built on the public API
// (./service) against a local SQS server while killing, stopping and
// suspending them and their children at random, then judging what the
// ledger, the queues and the process table show.
//
// Run is the whole run; Judge is the verdict as a pure function of what
// was observed. The command ./cmd/chaos runs it at any size; TestChaos runs
// it at the size CI affords.
package chaos
