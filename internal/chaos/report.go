package chaos

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Kinds of chaos action, as counted in Observation.Actions.
const (
	ActionKillDispatcher = "dispatcher-sigkill"
	ActionSIGTERM        = "dispatcher-sigterm"
	ActionSIGINT         = "dispatcher-sigint"
	ActionSIGHUP         = "dispatcher-sighup"
	ActionSecondSignal   = "second-signal"
	ActionKillAfterStop  = "sigkill-after-stop"
	ActionKillChild      = "child-sigkill"
	ActionKillGrandchild = "grandchild-sigkill"
	ActionSuspendChild   = "child-sigstop"
	// ActionSupervisorStop is SIGTERM to a dispatcher and, at the same
	// moment, to the process group of each of its children, as systemd's
	// KillMode=control-group and container runtimes send it.
	ActionSupervisorStop = "supervisor-sigterm"
	// ActionResumedOrphan counts suspended children resumed after their
	// dispatcher died meanwhile.
	ActionResumedOrphan = "orphan-resumed"
	ActionRestart       = "restart"
)

// maxDetails bounds the lines printed per failed verdict.
const maxDetails = 20

func plural(n int, what string) string {
	switch {
	case n == 1:
		return "1 " + what
	case strings.HasSuffix(what, "s"):
		return fmt.Sprintf("%d %ses", n, what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// Summary is the one-line result.
func (v Verdict) Summary() string {
	status := "PASS"
	if !v.Passed() {
		status = "FAIL"
	}
	return fmt.Sprintf("chaos %s: messages=%d actions=%d (%s) starts=%d redeliveries=%d completed=%d dead-lettered=%d "+
		"duplicates=%d lost=%d unaccounted=%d left-in-queue=%d orphans=%d zombies=%d missing-cleanups=%d "+
		"interrupted=%d (excluded: dispatcher-killed=%d orphaned-start=%d lease-lost=%d) unexpected-exits=%d duration=%s",
		status, v.Messages, v.actionTotal(), v.actionList(), v.Starts, v.Redeliveries, v.Completed, v.DeadLettered,
		len(v.Duplicates), len(v.Lost), len(v.Unaccounted), max(len(v.LeftInQueue), v.Queue.Total()), len(v.Orphans),
		len(v.Zombies), len(v.MissingCleanups), v.Interrupted, v.ExcludedKilled, v.ExcludedOrphaned, v.ExcludedLeaseLost,
		len(v.UnexpectedExits), v.Duration.Round(time.Second))
}

func (v Verdict) actionTotal() int {
	n := 0
	for k, c := range v.Actions {
		if k != ActionSecondSignal && k != ActionKillAfterStop && k != ActionResumedOrphan && k != ActionRestart {
			n += c
		}
	}
	return n
}

func (v Verdict) actionList() string { return countList(v.Actions) }

// countList returns "name=count ..." in name order.
func countList(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, counts[k]))
	}
	return strings.Join(parts, " ")
}

// WriteReport writes the notes, the logged outcomes, the dead letters and
// the details of every failed verdict, then the summary line.
func (v Verdict) WriteReport(w io.Writer) {
	section := func(title string, n int, line func(i int) string) {
		if n == 0 {
			return
		}
		fmt.Fprintf(w, "%s (%d):\n", title, n)
		for i := range min(n, maxDetails) {
			fmt.Fprintf(w, "  %s\n", line(i))
		}
		if n > maxDetails {
			fmt.Fprintf(w, "  ... and %d more\n", n-maxDetails)
		}
	}
	for _, n := range v.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if len(v.Outcomes) > 0 {
		fmt.Fprintf(w, "outcomes logged by the dispatchers: %s\n", countList(v.Outcomes))
	}
	section("dead letters", len(v.DeadLetters), func(i int) string {
		d := v.DeadLetters[i]
		if d.Reason == "" {
			return d.Key + ": moved by the redrive policy (maxReceiveCount)"
		}
		return d.Key + ": " + d.Reason
	})
	section("CONCURRENT DUPLICATES", len(v.Duplicates), func(i int) string {
		d := v.Duplicates[i]
		return fmt.Sprintf("%s (message %s, receive %d) run by pid %s under %s found its lock held: %s",
			d.Key, d.MessageID, d.ReceiveCount, d.Proc, d.Dispatcher, d.Holders)
	})
	section("LOST (no successful run, not dead-lettered, gone from the queue)", len(v.Lost), func(i int) string { return v.Lost[i] })
	section("UNACCOUNTED (no successful run, not dead-lettered, queue not empty)", len(v.Unaccounted), func(i int) string { return v.Unaccounted[i] })
	if len(v.LeftInQueue) > 0 || v.Queue.Total() > 0 {
		fmt.Fprintf(w, "LEFT IN THE QUEUE: counts visible=%d not-visible=%d delayed=%d; received: %s\n",
			v.Queue.Visible, v.Queue.NotVisible, v.Queue.Delayed, strings.Join(v.LeftInQueue, " "))
	}
	leftover := func(l Leftover) string {
		return fmt.Sprintf("pid %d ppid %d state %c %s %q", l.PID, l.PPID, l.State, l.Comm, l.Cmdline)
	}
	section("ORPHANS (alive after every dispatcher exited)", len(v.Orphans), func(i int) string { return leftover(v.Orphans[i]) })
	section("ZOMBIES (unreaped after every dispatcher exited)", len(v.Zombies), func(i int) string { return leftover(v.Zombies[i]) })
	section("MISSING CLEANUPS (interrupted while the dispatcher lived on)", len(v.MissingCleanups), func(i int) string {
		r := v.MissingCleanups[i]
		return fmt.Sprintf("%s (message %s, receive %d) run by %s under dispatcher %s", r.Key, r.MessageID, r.ReceiveCount, r.Proc, r.Dispatcher)
	})
	section("UNEXPECTED DISPATCHER EXITS", len(v.UnexpectedExits), func(i int) string {
		d := v.UnexpectedExits[i]
		return fmt.Sprintf("dispatcher %s (slot %d #%d) signals sent [%s]: %s; log %s\n    %s", d.ID, d.Slot, d.Generation,
			strings.Join(d.Signals, " "), d.Exit, d.LogPath, strings.ReplaceAll(d.LogTail, "\n", "\n    "))
	})
	section("UNREADABLE LEDGER LINES", len(v.BadLines), func(i int) string { return v.BadLines[i] })
	section("FOREIGN DEAD LETTERS", len(v.Foreign), func(i int) string {
		return fmt.Sprintf("message %s key %q reason %q", v.Foreign[i].MessageID, v.Foreign[i].Key, v.Foreign[i].Reason)
	})
	fmt.Fprintln(w, v.Summary())
}
