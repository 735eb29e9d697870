package sqsdispatch

import (
	"sync"
	"testing"
)

// TestGroupsGiveBackWhatQueuesBehindANonFinalOutcome: after a message of a
// FIFO group fails (it will come again), the ones queued behind it must
// not run before it.
func TestGroupsGiveBackWhatQueuesBehindANonFinalOutcome(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	g := newGroups(func(f func()) { wg.Go(f) })
	var mu sync.Mutex
	var ran, givenBack []string
	release := make(chan struct{})
	fn := func(m *inflight) bool {
		if m.msg.ID == "1" {
			<-release // hold the group while the others queue up
		}
		mu.Lock()
		defer mu.Unlock()
		if m.giveBack {
			givenBack = append(givenBack, m.msg.ID)
			return false
		}
		ran = append(ran, m.msg.ID)
		return m.msg.ID != "1" // 1 fails: not final
	}
	for _, id := range []string{"1", "2", "3"} {
		g.submit("g", &inflight{msg: &Message{ID: id}}, fn)
	}
	g.submit("", &inflight{msg: &Message{ID: "other"}}, fn)
	close(release)
	wg.Wait()
	if len(ran) != 2 || ran[0] == ran[1] {
		t.Fatalf("ran %v, want 1 and the ungrouped message", ran)
	}
	if len(givenBack) != 2 || givenBack[0] != "2" || givenBack[1] != "3" {
		t.Fatalf("given back %v, want [2 3] in order", givenBack)
	}
}
