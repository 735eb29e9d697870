// Package chaos checks sqsdispatch's promise — no message lost, no job run
// twice at once, no orphan process, whatever is killed when — by running
// several dispatcher processes of a service built on the public API
// (./service) against a local SQS server while killing, stopping and
// suspending them and their children at random, then judging what the
// ledger, the queues and the process table show.
//
// The service's job records every run, result and cleanup in a ledger and
// holds a per-message flock for the life of its process tree (a
// grandchild it leaves behind holds it too), so a run that finds the lock
// held is a concurrent duplicate. Jobs are mostly short; some outlive the
// visibility timeout, some fail their first delivery, some leave a
// grandchild behind. Every process of a run carries a marker in its
// environment.
//
// The chaos actions, drawn from a seeded generator: SIGKILL a dispatcher;
// send it SIGTERM, SIGINT or SIGHUP, sometimes followed by a second stop
// signal or by SIGKILL (as a supervisor's stop timeout does); SIGKILL a
// job's child or grandchild; SIGSTOP a child for a while, then SIGCONT it —
// unless its dispatcher died meanwhile, since nobody resumes a stopped
// orphan in real life. Exited dispatchers are restarted. The dispatchers
// differ by slot: in a session of their own, in a group of their own in
// the driver's session, or in the driver's own group; with and without
// spare children; with and without a shutdown grace. The driver is a
// child subreaper and reaps what it adopts.
//
// Then the queue is drained, the dispatchers stopped with SIGTERM, and
// Judge gives the verdicts as a pure function of what was observed:
// concurrent duplicates, lost messages, messages left in the queue,
// orphan and zombie processes, interrupted runs without a cleanup (runs
// whose dispatcher was SIGKILLed excepted), unexpected dispatcher exits.
//
// The command ./cmd/chaos runs it at any size; .ci/run runs it at the
// size CI affords (150 messages, 60 kills), the full size is
//
//	go run ./internal/chaos/cmd/chaos -messages 1000 -kills 300 -seed N
package chaos
