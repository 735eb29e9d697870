package chaos

import (
	"sort"
	"strings"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/ledger"
	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/proctab"
)

// cleanupFailedPrefix starts the dead-letter reason of a message whose
// interrupted job could not be cleaned up.
const cleanupFailedPrefix = "cleanup failed"

// Observation is everything a chaos run saw: the input of Judge.
type Observation struct {
	// Sent are the bodies of the messages sent.
	Sent []ledger.Body
	// Records are the ledger's records, BadLines its unreadable lines.
	Records  []ledger.Record
	BadLines []string
	// DeadLetters are the messages read from the dead-letter queue.
	DeadLetters []DeadLetter
	// Remaining are the keys still received from the queue at the end.
	Remaining []string
	// Queue is the queue's message counts at the end.
	Queue QueueCounts
	// Dispatchers are all dispatcher processes started, and their fates.
	Dispatchers []DispatcherFate
	// LeaseLost are the deliveries whose dispatcher logged a lost lease:
	// their job is killed without a cleanup, by design.
	LeaseLost []Delivery
	// Outcomes counts the outcomes the dispatchers logged.
	Outcomes map[string]int
	// Leftovers are the processes of the run alive or unreaped after every
	// dispatcher exited.
	Leftovers []Leftover
	// Actions counts the chaos actions by kind.
	Actions map[string]int
	// Notes are phases that did not end as planned (cut short by the
	// duration cap, for one).
	Notes    []string
	Duration time.Duration
}

// DeadLetter is a message read from the dead-letter queue.
type DeadLetter struct {
	Key       string
	MessageID string
	// Reason is the sqsdispatch.reason attribute, or "" for a message the
	// queue's redrive policy moved (too many receives).
	Reason string
	// ReceiveCount is the sqsdispatch.receive_count attribute: the
	// delivery that was dead-lettered (0: not said).
	ReceiveCount int
}

// Delivery names one delivery of a message.
type Delivery struct {
	MessageID    string
	ReceiveCount int
}

// QueueCounts are a queue's approximate message counts.
type QueueCounts struct {
	Visible, NotVisible, Delayed int
}

// Total is the number of messages the counts say are in the queue.
func (q QueueCounts) Total() int { return q.Visible + q.NotVisible + q.Delayed }

// DispatcherFate is one dispatcher process and how it ended.
type DispatcherFate struct {
	ID         proctab.ID
	Slot       int
	Generation int
	// Killed is set when the driver sent it SIGKILL: its running jobs
	// cannot be cleaned up, and its end is no surprise.
	Killed bool
	// Signals are the signals the driver sent it, in order.
	Signals []string
	// Exit says how it ended.
	Exit string
	// Unexpected is set when no signal the driver sent explains its end.
	Unexpected bool
	// LogPath is its log file; LogTail the end of it, for an unexpected
	// end.
	LogPath string
	LogTail string
}

// Leftover is a process of the run found alive or unreaped at the end.
type Leftover struct {
	proctab.Proc
	Cmdline string
}

// JobRun is one run of a job: the process that took a message's lock.
type JobRun struct {
	Key          string
	MessageID    string
	ReceiveCount int
	Proc         proctab.ID
	Dispatcher   proctab.ID
}

// Verdict is what Judge concluded.
type Verdict struct {
	Messages     int
	Starts       int
	Redeliveries int
	Completed    int
	DeadLettered int
	Actions      map[string]int
	Outcomes     map[string]int
	Duration     time.Duration
	// DeadLetters are the dead-lettered messages of the run.
	DeadLetters []DeadLetter

	// Duplicates are the runs that found their message's lock held.
	Duplicates []ledger.Record
	// Lost are messages that left the queue without a successful run and
	// are not in the dead-letter queue.
	Lost []string
	// Unaccounted are messages without a successful run, not dead-lettered
	// and not received at the end while the queue still counts messages:
	// lost or stuck.
	Unaccounted []string
	// LeftInQueue are keys received from the queue at the end; Queue its
	// counts then.
	LeftInQueue []string
	Queue       QueueCounts
	// Orphans are processes of the run alive after every dispatcher
	// exited; Zombies are those dead but unreaped.
	Orphans []Leftover
	Zombies []Leftover
	// MissingCleanups are interrupted runs whose dispatcher survived to
	// handle them but that have no cleanup record (and whose message was
	// not dead-lettered for a failed cleanup).
	MissingCleanups []JobRun
	// Interrupted counts the runs that ended without a result;
	// ExcludedKilled those of them whose dispatcher was SIGKILLed,
	// ExcludedOrphaned those whose parent was no dispatcher when they
	// started, ExcludedLeaseLost those whose lease was lost.
	Interrupted       int
	ExcludedKilled    int
	ExcludedOrphaned  int
	ExcludedLeaseLost int
	// UnexpectedExits are dispatchers that ended in a way no signal sent
	// to them explains (a crash, or not stopping when told to).
	UnexpectedExits []DispatcherFate
	// BadLines are unreadable ledger lines; Foreign dead letters whose
	// body is no message of this run.
	BadLines []string
	Foreign  []DeadLetter
	Notes    []string
}

type runKey struct {
	key  string
	proc proctab.ID
}

type deliveryKey struct {
	key string
	rc  int
}

// Judge computes the verdict of a run from what it observed.
func Judge(o Observation) Verdict {
	v := Verdict{Messages: len(o.Sent), Actions: o.Actions, Outcomes: o.Outcomes, Duration: o.Duration,
		Queue: o.Queue, BadLines: o.BadLines, Notes: o.Notes}
	sent := make(map[string]bool, len(o.Sent))
	for _, b := range o.Sent {
		sent[b.Key] = true
	}

	var runs []JobRun
	ended := map[runKey]bool{}
	done := map[string]bool{}
	cleaned := map[deliveryKey]bool{}
	for _, r := range o.Records {
		switch r.Event {
		case ledger.EventStart:
			runs = append(runs, JobRun{Key: r.Key, MessageID: r.MessageID, ReceiveCount: r.ReceiveCount,
				Proc: r.Proc, Dispatcher: r.Dispatcher})
		case ledger.EventDone:
			ended[runKey{r.Key, r.Proc}] = true
			done[r.Key] = true
		case ledger.EventFail:
			ended[runKey{r.Key, r.Proc}] = true
		case ledger.EventDuplicate:
			v.Duplicates = append(v.Duplicates, r)
		case ledger.EventCleanup:
			cleaned[deliveryKey{r.Key, r.ReceiveCount}] = true
		}
	}
	v.Starts = len(runs)
	v.Redeliveries = v.Starts - v.Messages

	dead := map[string][]DeadLetter{}
	for _, d := range o.DeadLetters {
		if !sent[d.Key] {
			v.Foreign = append(v.Foreign, d)
			continue
		}
		dead[d.Key] = append(dead[d.Key], d)
		v.DeadLetters = append(v.DeadLetters, d)
	}
	sort.Slice(v.DeadLetters, func(i, j int) bool { return v.DeadLetters[i].Key < v.DeadLetters[j].Key })
	remaining := map[string]bool{}
	for _, k := range o.Remaining {
		remaining[k] = true
		v.LeftInQueue = append(v.LeftInQueue, k)
	}
	sort.Strings(v.LeftInQueue)

	for _, b := range o.Sent {
		k := b.Key
		if done[k] {
			v.Completed++
		}
		if len(dead[k]) > 0 {
			v.DeadLettered++
		}
		switch {
		case done[k] || len(dead[k]) > 0 || remaining[k]:
		case o.Queue.Total() > 0:
			v.Unaccounted = append(v.Unaccounted, k)
		default:
			v.Lost = append(v.Lost, k)
		}
	}

	dispatchers := make(map[proctab.ID]DispatcherFate, len(o.Dispatchers))
	for _, d := range o.Dispatchers {
		dispatchers[d.ID] = d
		if d.Unexpected {
			v.UnexpectedExits = append(v.UnexpectedExits, d)
		}
	}
	leaseLost := make(map[Delivery]bool, len(o.LeaseLost))
	for _, d := range o.LeaseLost {
		leaseLost[d] = true
	}
	for _, r := range runs {
		if ended[runKey{r.Key, r.Proc}] {
			continue
		}
		v.Interrupted++
		d, known := dispatchers[r.Dispatcher]
		switch {
		case !known:
			v.ExcludedOrphaned++
		case d.Killed:
			v.ExcludedKilled++
		case leaseLost[Delivery{r.MessageID, r.ReceiveCount}]:
			v.ExcludedLeaseLost++
		case cleaned[deliveryKey{r.Key, r.ReceiveCount}] || cleanupFailed(dead[r.Key], r.ReceiveCount):
		default:
			v.MissingCleanups = append(v.MissingCleanups, r)
		}
	}

	for _, l := range o.Leftovers {
		if l.Zombie() {
			v.Zombies = append(v.Zombies, l)
		} else {
			v.Orphans = append(v.Orphans, l)
		}
	}
	return v
}

// cleanupFailed reports whether delivery rc was dead-lettered because its
// cleanup failed.
func cleanupFailed(dead []DeadLetter, rc int) bool {
	for _, d := range dead {
		if strings.HasPrefix(d.Reason, cleanupFailedPrefix) && (d.ReceiveCount == 0 || d.ReceiveCount == rc) {
			return true
		}
	}
	return false
}

// Failures lists the verdicts that failed, one line each; empty when the
// run passed.
func (v Verdict) Failures() []string {
	var f []string
	add := func(n int, what string) {
		if n > 0 {
			f = append(f, plural(n, what))
		}
	}
	add(len(v.Duplicates), "concurrent duplicate run")
	add(len(v.Lost), "lost message")
	add(len(v.Unaccounted), "unaccounted message")
	add(max(len(v.LeftInQueue), v.Queue.Total()), "message left in the queue")
	add(len(v.Orphans), "orphan process")
	add(len(v.Zombies), "zombie process")
	add(len(v.MissingCleanups), "missing cleanup")
	add(len(v.UnexpectedExits), "unexpected dispatcher exit")
	add(len(v.BadLines), "unreadable ledger line")
	add(len(v.Foreign), "foreign dead letter")
	return f
}

// Passed reports whether every verdict passed.
func (v Verdict) Passed() bool { return len(v.Failures()) == 0 }
