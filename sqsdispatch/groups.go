package sqsdispatch

import "sync"

// groups runs the messages of one FIFO message group one at a time, in the
// order they were submitted; messages without a group run at once.
type groups struct {
	run     func(func()) // runs a function on its own goroutine
	mu      sync.Mutex
	pending map[string][]func()
}

func newGroups(run func(func())) *groups {
	return &groups{run: run, pending: make(map[string][]func())}
}

// submit runs fn now (group "") or after the group's earlier work.
func (g *groups) submit(group string, fn func()) {
	if group == "" {
		g.run(fn)
		return
	}
	g.mu.Lock()
	q, busy := g.pending[group]
	g.pending[group] = append(q, fn)
	g.mu.Unlock()
	if !busy {
		g.run(func() { g.drain(group) })
	}
}

func (g *groups) drain(group string) {
	for {
		g.mu.Lock()
		q := g.pending[group]
		if len(q) == 0 {
			delete(g.pending, group)
			g.mu.Unlock()
			return
		}
		fn := q[0]
		g.pending[group] = q[1:]
		g.mu.Unlock()
		fn()
	}
}
