package sqsdispatch

import "sync"

// groups runs the messages of one FIFO message group one at a time, in the
// order they were received; messages without a group run at once. When a
// message of a group ends without a final outcome (it will be delivered
// again), the messages queued behind it go back to the queue without
// running, so that the group's order holds.
type groups struct {
	run     func(func()) // runs a function on its own goroutine
	mu      sync.Mutex
	pending map[string][]*inflight
}

func newGroups(run func(func())) *groups {
	return &groups{run: run, pending: make(map[string][]*inflight)}
}

// submit runs fn(m) now (group "") or after the group's earlier messages.
// fn reports whether m's outcome was final (deleted or dead-lettered).
func (g *groups) submit(group string, m *inflight, fn func(*inflight) bool) {
	if group == "" {
		g.run(func() { fn(m) })
		return
	}
	g.mu.Lock()
	q, busy := g.pending[group]
	g.pending[group] = append(q, m)
	g.mu.Unlock()
	if !busy {
		g.run(func() { g.drain(group, fn) })
	}
}

func (g *groups) drain(group string, fn func(*inflight) bool) {
	giveBack := false
	for {
		g.mu.Lock()
		q := g.pending[group]
		if len(q) == 0 {
			delete(g.pending, group)
			g.mu.Unlock()
			return
		}
		m := q[0]
		g.pending[group] = q[1:]
		g.mu.Unlock()
		m.giveBack = giveBack
		if !fn(m) {
			giveBack = true
		}
	}
}
