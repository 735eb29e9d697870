package sqsdispatch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// ecsAgent stands in for the ECS container agents of several tasks, one
// path prefix each, and records the scale-in protection each was told.
type ecsAgent struct {
	srv *httptest.Server
	mu  sync.Mutex
	got map[string][]bool // by task: ProtectionEnabled of each request, in order
}

func startECSAgent(t *testing.T) *ecsAgent {
	t.Helper()
	a := &ecsAgent{got: map[string][]bool{}}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		task, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/api/"), "/task-protection/v1/state")
		var body struct{ ProtectionEnabled bool }
		if !ok || r.Method != http.MethodPut || json.NewDecoder(r.Body).Decode(&body) != nil {
			http.Error(w, `{"error":{"Code":"InvalidRequest"}}`, http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		a.got[task] = append(a.got[task], body.ProtectionEnabled)
		a.mu.Unlock()
		fmt.Fprintf(w, `{"protection":{"ProtectionEnabled":%t,"TaskArn":"arn:aws:ecs:us-east-1:000000000000:task/c/%s"}}`, body.ProtectionEnabled, task)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *ecsAgent) uri(task string) string { return a.srv.URL + "/api/" + task }

func (a *ecsAgent) told(task string) []bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.got[task])
}

// TestScaleInLosesNoJob runs a fleet of three dispatcher processes on one
// queue of checkpointing jobs, each with an ECS agent of its own, and
// scales in one of them while it runs jobs: SIGTERM, with a grace period
// of its StopBudget before a SIGKILL would come. Its jobs are cleaned up
// and continue from their checkpoints on the others; every unit of every
// job is done exactly once, no two runs of a job overlap; its agent saw
// scale-in protection on while it held messages, and off once it stopped.
func TestScaleInLosesNoJob(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 10})
	const jobs, units = 6, 20
	dirs := make([]string, jobs)
	for i := range dirs {
		dirs[i] = t.TempDir()
		b.send(unitsMsg(dirs[i], units, 200*time.Millisecond, true), nil)
	}
	agent := startECSAgent(t)
	pc := procConfig{Queue: b.q.URL, Job: "units", Visibility: 10 * time.Second, CleanupTimeout: 5 * time.Second, Concurrency: 2}
	fleet := make([]*dispatcherProc, 3)
	for i := range fleet {
		c := pc
		c.ECSAgentURI = agent.uri(fmt.Sprint("task-", i))
		fleet[i] = startDispatcherProcess(t, c)
	}
	victim := fleet[0]
	waitFor(t, time.Minute, "the first dispatcher to checkpoint a job", func() bool {
		return slices.Contains(agent.told("task-0"), true) && slices.ContainsFunc(dirs, func(d string) bool {
			saved := withPrefix(t, filepath.Join(d, "events"), "saved")
			return slices.ContainsFunc(saved, func(l string) bool { return strings.Contains(l, fmt.Sprintf("pid=%d", victimJob(t, d, victim))) })
		})
	})
	victim.signal(t, syscall.SIGTERM)
	budget := sqsdispatch.Config{CleanupTimeout: pc.CleanupTimeout, BusyHook: noHook{}}.StopBudget()
	assertDiedBy(t, victim, syscall.SIGTERM, budget) // the grace the platform gives

	waitFor(t, 2*time.Minute, "every job to finish", func() bool {
		for _, d := range dirs {
			if len(withPrefix(t, filepath.Join(d, "events"), "done")) == 0 {
				return false
			}
		}
		return drained(t, b.ctx, b.q.URL)
	})
	for _, p := range fleet[1:] {
		p.signal(t, syscall.SIGTERM)
		assertDiedBy(t, p, syscall.SIGTERM, budget)
	}
	continued := 0
	for _, d := range dirs {
		assertUnitsOnce(t, d, units)
		starts := withPrefix(t, filepath.Join(d, "events"), "start")
		if len(starts) > 1 && eventField(starts[len(starts)-1], "from") > 0 {
			continued++
		}
	}
	if continued == 0 {
		t.Error("no job continued from a checkpoint after the scale-in")
	}
	told := agent.told("task-0")
	if len(told) < 2 || !told[0] || told[len(told)-1] {
		t.Errorf("the stopped dispatcher's agent was told %v; want protection on first, and off at the end", told)
	}
	if !drained(t, b.ctx, b.q.DLQURL) {
		t.Error("the dead-letter queue is not empty")
	}
}

// victimJob returns the pid of the job that runs the units job of dir in
// the dispatcher process p, or 0.
func victimJob(t *testing.T, dir string, p *dispatcherProc) int {
	for _, s := range withPrefix(t, filepath.Join(dir, "events"), "start") {
		pid := int(eventField(s, "pid"))
		if ppidOf(pid) == p.pid() {
			return pid
		}
	}
	return 0
}

// noHook is a BusyHook for computing a budget.
type noHook struct{}

func (noHook) SetBusy(context.Context, bool) error { return nil }
func (noHook) RenewEvery() time.Duration           { return 0 }

// ppidOf returns the parent of pid, or 0 when it is gone.
func ppidOf(pid int) int {
	st, err := proc.ReadStat(pid)
	if err != nil || pid <= 0 {
		return 0
	}
	return st.PPID
}
