package child_test

import (
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// A job's Usage counts its own CPU time and peak memory, not those of the
// jobs its process ran before, whether the process then waits for another
// job or exits.
func TestUsageIsPerJob(t *testing.T) {
	t.Parallel()
	burnt := func(t *testing.T, c *child.Child) child.Usage {
		t.Helper()
		u := c.Usage()
		if cpu := u.User + u.System; cpu < burnCPU*9/10 || u.PeakRSS < burnBytes {
			t.Fatalf("usage %+v of a job that burnt %s and %d bytes", u, burnCPU, burnBytes)
		}
		return u
	}
	idle := func(t *testing.T, c *child.Child, before child.Usage) {
		t.Helper()
		u := c.Usage()
		if cpu := u.User + u.System; cpu >= burnCPU/2 || u.PeakRSS <= 0 || u.PeakRSS >= before.PeakRSS {
			t.Fatalf("usage %+v of a job that did nothing after one that used %+v; want its own: little CPU, a lower peak", u, before)
		}
	}
	c := spawn(t, reused("burn", jobSpec{}))
	livesOn(t, c, wire.KindOK)
	u := burnt(t, c)
	p := keep(t, c)
	for i, req := range []wire.Request{reused("ok", jobSpec{}), reused("burn", jobSpec{}), job("ok", jobSpec{})} {
		next := sendNext(t, p, req)
		waitDone(t, next)
		if r := next.Result(); r == nil || r.Kind != wire.KindOK {
			t.Fatalf("job %d ended with %+v", i+2, r)
		}
		if req.Job == "burn" {
			u = burnt(t, next)
		} else {
			idle(t, next, u)
		}
		if req.Reuse {
			if _, ok := next.Keep(); !ok {
				t.Fatalf("Keep refused after job %d", i+2)
			}
		}
	}
}
