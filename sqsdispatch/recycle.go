package sqsdispatch

import (
	"time"

	"go.uber.org/zap"
)

// recycle keeps the message's child for the slot's next job, when it may
// run another (Reuse) and the job left it clean, or lets it be retired:
// the child is ended by the Release that follows. It runs once the
// message's fate a is decided and before it is carried out, so that the
// slot's next message finds the child waiting.
func (t *turn) recycle(a action) {
	if t.c == nil || t.limit == 0 {
		return
	}
	why := outcomeRetirement(a, t.x, t.r.stopping())
	if why != "" {
		t.retired(why, 0)
		return
	}
	p, ok := t.c.Keep()
	if !ok {
		t.retired(retireCrash, 0)
		return
	}
	pol := t.d.reusePolicy(t.job)
	w := wear{jobs: p.Jobs(), limit: t.limit, age: time.Since(p.Started()), memLimit: t.d.memLimit(t.job)}
	if w.memLimit > 0 {
		w.rss = p.RSS()
	}
	if why := wearRetirement(pol, w); why != "" {
		p.Retire()
		t.retired(why, w.jobs)
		return
	}
	if kept := t.d.kept.Load(); kept != nil {
		kept.put(keptChild{p: p, limit: t.limit})
		return
	}
	p.Retire()
}

// retired logs why the child of a job that could have run another is
// ended.
func (t *turn) retired(why string, jobs int) {
	fields := []zap.Field{zap.String("reason", why)}
	if jobs > 0 {
		fields = append(fields, zap.Int("jobs", jobs))
	}
	t.log.Info("child retired", fields...)
}
