package chaos

import (
	"strings"
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/ledger"
	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/proctab"
)

var (
	dispA = proctab.ID{PID: 100, Start: 1}
	dispB = proctab.ID{PID: 200, Start: 2}
)

// rec builds a ledger record of message key's delivery rc, written by
// process pid under dispatcher disp.
func rec(ev ledger.Event, key string, rc, pid int, disp proctab.ID) ledger.Record {
	return ledger.Record{Event: ev, Key: key, MessageID: "id-" + key, ReceiveCount: rc,
		Proc: proctab.ID{PID: pid, Start: uint64(pid)}, Dispatcher: disp}
}

// obs returns an observation of keys sent, both dispatchers alive to the
// end, with records added.
func obs(keys []string, recs ...ledger.Record) Observation {
	o := Observation{Records: recs, Dispatchers: []DispatcherFate{{ID: dispA}, {ID: dispB}}}
	for _, k := range keys {
		o.Sent = append(o.Sent, ledger.Body{Key: k, Kind: ledger.KindShort})
	}
	return o
}

func TestJudge(t *testing.T) {
	t.Parallel()
	two := []string{"a", "b"}
	tests := []struct {
		name   string
		o      Observation
		edit   func(*Observation)
		check  func(t *testing.T, v Verdict)
		passes bool
	}{
		{
			name: "every message done once",
			o: obs(two, rec(ledger.EventStart, "a", 1, 11, dispA), rec(ledger.EventDone, "a", 1, 11, dispA),
				rec(ledger.EventStart, "b", 1, 12, dispB), rec(ledger.EventDone, "b", 1, 12, dispB)),
			passes: true,
			check: func(t *testing.T, v Verdict) {
				if v.Completed != 2 || v.Starts != 2 || v.Redeliveries != 0 || v.Interrupted != 0 {
					t.Errorf("completed=%d starts=%d redeliveries=%d interrupted=%d", v.Completed, v.Starts, v.Redeliveries, v.Interrupted)
				}
			},
		},
		{
			name: "overlapping run is a duplicate",
			o: obs([]string{"a"}, rec(ledger.EventStart, "a", 1, 11, dispA),
				rec(ledger.EventDuplicate, "a", 2, 21, dispB), rec(ledger.EventDone, "a", 1, 11, dispA)),
			check: func(t *testing.T, v Verdict) {
				if len(v.Duplicates) != 1 || v.Duplicates[0].Proc.PID != 21 {
					t.Errorf("duplicates = %+v", v.Duplicates)
				}
			},
		},
		{
			name: "neither done nor dead-lettered is lost",
			o:    obs(two, rec(ledger.EventStart, "a", 1, 11, dispA), rec(ledger.EventDone, "a", 1, 11, dispA)),
			check: func(t *testing.T, v Verdict) {
				if len(v.Lost) != 1 || v.Lost[0] != "b" {
					t.Errorf("lost = %v", v.Lost)
				}
			},
		},
		{
			name: "a start without done is not a success",
			o:    obs([]string{"a"}, rec(ledger.EventStart, "a", 1, 11, dispA), rec(ledger.EventCleanup, "a", 1, 12, dispA)),
			check: func(t *testing.T, v Verdict) {
				if len(v.Lost) != 1 || v.Interrupted != 1 || len(v.MissingCleanups) != 0 {
					t.Errorf("lost=%v interrupted=%d missing=%v", v.Lost, v.Interrupted, v.MissingCleanups)
				}
			},
		},
		{
			name: "dead-lettered is accounted for",
			o:    obs([]string{"a"}, rec(ledger.EventStart, "a", 1, 11, dispA), rec(ledger.EventFail, "a", 1, 11, dispA)),
			edit: func(o *Observation) {
				o.DeadLetters = []DeadLetter{{Key: "a", MessageID: "x"}}
			},
			passes: true,
			check: func(t *testing.T, v Verdict) {
				if v.DeadLettered != 1 || v.Completed != 0 {
					t.Errorf("dead-lettered=%d completed=%d", v.DeadLettered, v.Completed)
				}
			},
		},
		{
			name: "without a trace while the queue counts messages is unaccounted",
			o:    obs([]string{"a"}),
			edit: func(o *Observation) { o.Queue = QueueCounts{NotVisible: 1} },
			check: func(t *testing.T, v Verdict) {
				if len(v.Unaccounted) != 1 || len(v.Lost) != 0 {
					t.Errorf("unaccounted=%v lost=%v", v.Unaccounted, v.Lost)
				}
			},
		},
		{
			name: "received from the queue at the end is left, not lost",
			o:    obs([]string{"a"}),
			edit: func(o *Observation) { o.Remaining = []string{"a"} },
			check: func(t *testing.T, v Verdict) {
				if len(v.LeftInQueue) != 1 || len(v.Lost) != 0 {
					t.Errorf("left=%v lost=%v", v.LeftInQueue, v.Lost)
				}
			},
		},
		{
			name: "interrupted under a surviving dispatcher needs a cleanup",
			o: obs([]string{"a"}, rec(ledger.EventStart, "a", 1, 11, dispA),
				rec(ledger.EventStart, "a", 2, 12, dispB), rec(ledger.EventDone, "a", 2, 12, dispB)),
			check: func(t *testing.T, v Verdict) {
				if len(v.MissingCleanups) != 1 || v.MissingCleanups[0].ReceiveCount != 1 || v.Redeliveries != 1 {
					t.Errorf("missing=%+v redeliveries=%d", v.MissingCleanups, v.Redeliveries)
				}
			},
		},
		{
			name: "cleanup of the same delivery satisfies it",
			o: obs([]string{"a"}, rec(ledger.EventStart, "a", 1, 11, dispA), rec(ledger.EventCleanup, "a", 1, 13, dispA),
				rec(ledger.EventStart, "a", 2, 12, dispB), rec(ledger.EventDone, "a", 2, 12, dispB)),
			passes: true,
		},
		{
			name: "cleanup of another delivery does not",
			o: obs([]string{"a"}, rec(ledger.EventStart, "a", 1, 11, dispA), rec(ledger.EventCleanup, "a", 2, 13, dispA),
				rec(ledger.EventStart, "a", 3, 12, dispB), rec(ledger.EventDone, "a", 3, 12, dispB)),
			check: func(t *testing.T, v Verdict) {
				if len(v.MissingCleanups) != 1 {
					t.Errorf("missing=%+v", v.MissingCleanups)
				}
			},
		},
		{
			name: "SIGKILLed dispatcher is excused",
			o: obs([]string{"a"}, rec(ledger.EventStart, "a", 1, 11, dispA),
				rec(ledger.EventStart, "a", 2, 12, dispB), rec(ledger.EventDone, "a", 2, 12, dispB)),
			edit:   func(o *Observation) { o.Dispatchers[0].Killed = true },
			passes: true,
			check: func(t *testing.T, v Verdict) {
				if v.ExcludedKilled != 1 || v.Interrupted != 1 {
					t.Errorf("excluded=%d interrupted=%d", v.ExcludedKilled, v.Interrupted)
				}
			},
		},
		{
			name: "job started under no dispatcher is excused",
			o: obs([]string{"a"}, rec(ledger.EventStart, "a", 1, 11, proctab.ID{PID: 1}),
				rec(ledger.EventStart, "a", 2, 12, dispB), rec(ledger.EventDone, "a", 2, 12, dispB)),
			passes: true,
			check: func(t *testing.T, v Verdict) {
				if v.ExcludedOrphaned != 1 {
					t.Errorf("excluded orphaned=%d", v.ExcludedOrphaned)
				}
			},
		},
		{
			name: "lost lease is excused",
			o: obs([]string{"a"}, rec(ledger.EventStart, "a", 1, 11, dispA),
				rec(ledger.EventStart, "a", 2, 12, dispB), rec(ledger.EventDone, "a", 2, 12, dispB)),
			edit:   func(o *Observation) { o.LeaseLost = []Delivery{{MessageID: "id-a", ReceiveCount: 1}} },
			passes: true,
			check: func(t *testing.T, v Verdict) {
				if v.ExcludedLeaseLost != 1 {
					t.Errorf("excluded lease lost=%d", v.ExcludedLeaseLost)
				}
			},
		},
		{
			name: "dead-lettered for a failed cleanup needs no cleanup record",
			o:    obs([]string{"a"}, rec(ledger.EventStart, "a", 1, 11, dispA)),
			edit: func(o *Observation) {
				o.DeadLetters = []DeadLetter{{Key: "a", ReceiveCount: 1, Reason: "cleanup failed after the dispatcher is stopping: boom"}}
			},
			passes: true,
		},
		{
			name: "dead-lettered for another delivery's failed cleanup does not excuse",
			o:    obs([]string{"a"}, rec(ledger.EventStart, "a", 1, 11, dispA)),
			edit: func(o *Observation) {
				o.DeadLetters = []DeadLetter{{Key: "a", ReceiveCount: 2, Reason: "cleanup failed after x: boom"}}
			},
			check: func(t *testing.T, v Verdict) {
				if len(v.MissingCleanups) != 1 {
					t.Errorf("missing=%+v", v.MissingCleanups)
				}
			},
		},
		{
			name: "dead-lettered for another reason still needs one",
			o:    obs([]string{"a"}, rec(ledger.EventStart, "a", 1, 11, dispA)),
			edit: func(o *Observation) { o.DeadLetters = []DeadLetter{{Key: "a", Reason: "permanent: x"}} },
			check: func(t *testing.T, v Verdict) {
				if len(v.MissingCleanups) != 1 {
					t.Errorf("missing=%+v", v.MissingCleanups)
				}
			},
		},
		{
			name: "a failed run needs no cleanup",
			o: obs([]string{"a"}, rec(ledger.EventStart, "a", 1, 11, dispA), rec(ledger.EventFail, "a", 1, 11, dispA),
				rec(ledger.EventStart, "a", 2, 12, dispA), rec(ledger.EventDone, "a", 2, 12, dispA)),
			passes: true,
		},
		{
			name: "leftovers split into orphans and zombies",
			o:    obs(nil),
			edit: func(o *Observation) {
				o.Leftovers = []Leftover{{Proc: proctab.Proc{ID: proctab.ID{PID: 5}, State: 'S', Comm: "sleep"}},
					{Proc: proctab.Proc{ID: proctab.ID{PID: 6}, State: 'T', Comm: "chaossvc"}},
					{Proc: proctab.Proc{ID: proctab.ID{PID: 7}, State: 'Z', Comm: "chaossvc"}}}
			},
			check: func(t *testing.T, v Verdict) {
				if len(v.Orphans) != 2 || len(v.Zombies) != 1 {
					t.Errorf("orphans=%v zombies=%v", v.Orphans, v.Zombies)
				}
			},
		},
		{
			name: "unexpected dispatcher exit fails",
			o:    obs(nil),
			edit: func(o *Observation) { o.Dispatchers[1].Unexpected = true },
			check: func(t *testing.T, v Verdict) {
				if len(v.UnexpectedExits) != 1 || v.UnexpectedExits[0].ID != dispB {
					t.Errorf("unexpected=%+v", v.UnexpectedExits)
				}
			},
		},
		{
			name: "foreign dead letter and bad ledger line fail",
			o:    obs(nil),
			edit: func(o *Observation) {
				o.DeadLetters = []DeadLetter{{Key: "zzz"}}
				o.BadLines = []string{"garbage"}
			},
			check: func(t *testing.T, v Verdict) {
				if len(v.Foreign) != 1 || len(v.BadLines) != 1 {
					t.Errorf("foreign=%v bad=%v", v.Foreign, v.BadLines)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := tc.o
			o.Dispatchers = append([]DispatcherFate(nil), o.Dispatchers...)
			if tc.edit != nil {
				tc.edit(&o)
			}
			v := Judge(o)
			if v.Passed() != tc.passes {
				t.Errorf("Passed() = %t, want %t; failures %v", v.Passed(), tc.passes, v.Failures())
			}
			if tc.check != nil {
				tc.check(t, v)
			}
			var b strings.Builder
			v.WriteReport(&b)
			last := strings.TrimSpace(b.String())
			if i := strings.LastIndexByte(last, '\n'); i >= 0 {
				last = last[i+1:]
			}
			want := "chaos PASS:"
			if !tc.passes {
				want = "chaos FAIL:"
			}
			if !strings.HasPrefix(last, want) {
				t.Errorf("report ends %q, want the summary starting %q", last, want)
			}
		})
	}
}
