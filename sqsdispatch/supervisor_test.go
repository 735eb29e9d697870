package sqsdispatch_test

// Stops that arrive with the supervisor's own signals: systemd's default
// KillMode=control-group, and container runtimes, send SIGTERM to every
// process of the service at once, the jobs' process groups included.

import (
	"fmt"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/internal/resume"
)

// TestSupervisorsSIGTERMToTheJobIsAStop sends SIGTERM to the job's
// process group and to the dispatcher at the same moment, in either
// order, over many tries. However the race goes (the job, which gives up
// as soon as it is asked to stop, usually returns its context's error
// before the dispatcher suspends it), the job is an interrupted one: its
// Cleanup runs once, told of the checkpoint the job was last told was
// kept, the message is continued from that checkpoint, and a later run
// does every unit exactly once.
func TestSupervisorsSIGTERMToTheJobIsAStop(t *testing.T) {
	t.Parallel()
	const tries, units = 10, 30
	for i := range tries {
		t.Run(fmt.Sprintf("try %d", i), func(t *testing.T) {
			t.Parallel()
			b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 10})
			dir := t.TempDir()
			events := filepath.Join(dir, "events")
			b.send(unitsMsg(dir, units, 100*time.Millisecond, true), nil)
			pc := procConfig{Queue: b.q.URL, Job: "units", Visibility: 10 * time.Second, CleanupTimeout: 10 * time.Second}
			p := startDispatcherProcess(t, pc)
			var job int
			waitFor(t, time.Minute, "the job to checkpoint", func() bool {
				starts, saved := withPrefix(t, events, "start"), withPrefix(t, events, "saved")
				if len(starts) == 0 || len(saved) < 1+i%3 {
					return false
				}
				job = int(eventField(starts[0], "pid"))
				return true
			})
			group := func() {
				if err := syscall.Kill(-job, syscall.SIGTERM); err != nil {
					t.Errorf("SIGTERM to the job's group: %v", err)
				}
			}
			if i%2 == 0 { // the order in which a supervisor's signals land varies
				group()
				p.signal(t, syscall.SIGTERM)
			} else {
				p.signal(t, syscall.SIGTERM)
				group()
			}
			assertDiedBy(t, p, syscall.SIGTERM, time.Minute)

			cleanups := withPrefix(t, events, "cleanup")
			if len(cleanups) != 1 {
				t.Fatalf("cleanups = %v; want exactly one: the job was interrupted\nevents: %v", cleanups, lines(t, events))
			}
			keep := eventField(cleanups[0], "keep")
			saved := withPrefix(t, events, "saved")
			if last := eventField(saved[len(saved)-1], "n"); keep < last {
				t.Fatalf("the cleanup kept checkpoint %d; the job had been told %d was kept", keep, last)
			}
			msgs := receiveWithin(t, b.ctx, b.q.URL, 30*time.Second)
			if len(msgs) != 1 {
				t.Fatalf("%d messages in the queue; want the continuation", len(msgs))
			}
			st, err := resume.Decode(msgs[0].MessageAttributes[resume.Attr].BinaryValue)
			if err != nil || string(st.Checkpoint) != strconv.FormatInt(keep, 10) {
				t.Fatalf("the message in the queue carries %+v (%v); want the continuation from checkpoint %d", st, err, keep)
			}
			setVisible(t, b, msgs[0])

			p = startDispatcherProcess(t, pc)
			waitFor(t, time.Minute, "the job to finish", func() bool { return len(withPrefix(t, events, "done")) > 0 })
			waitFor(t, time.Minute, "the queue to drain", func() bool { return drained(t, b.ctx, b.q.URL) })
			p.signal(t, syscall.SIGTERM)
			assertDiedBy(t, p, syscall.SIGTERM, time.Minute)
			assertUnitsOnce(t, dir, units)
			if starts := withPrefix(t, events, "start"); len(starts) != 2 || eventField(starts[1], "from") != keep {
				t.Errorf("runs = %v; want the second to resume from %d", starts, keep)
			}
		})
	}
}
