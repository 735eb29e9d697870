package sqsdispatch_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// registerInterruptJobs adds the jobs of the stop-signal tests. "tick"
// starts a grandchild and appends a line to its ticks file every few
// milliseconds until killed (a redelivery completes at once);
// its cleanup records what it saw. The -hang variants' cleanups hang on
// the first try, or on both.
func registerInterruptJobs(reg *sqsdispatch.Registry) {
	for name, hangs := range map[string]int{"tick": 0, "tick-hang1": 1, "tick-hang2": 2} {
		reg.Handle(sqsdispatch.Job{Name: name, Run: jobTick, Cleanup: cleanupTick(hangs)})
	}
}

func jobTick(_ context.Context, m *sqsdispatch.Message) error {
	if m.ReceiveCount > 1 { // a redelivery after an interruption completes
		return record(m)
	}
	cmd := exec.Command("sleep", "300")
	if err := cmd.Start(); err != nil {
		return err
	}
	_ = os.WriteFile(outFile(m.ID, "grandchild"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	f, err := os.OpenFile(outFile(m.ID, "ticks"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := os.WriteFile(outFile(m.ID, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	for i := 0; ; i++ {
		fmt.Fprintf(f, "tick %d\n", i)
		time.Sleep(2 * time.Millisecond)
	}
}

// cleanupTick records, per attempt, the size of the ticks file when the
// cleanup started and again 200 ms later: equal sizes show the job was
// suspended. It hangs on the first `hangs` attempts.
func cleanupTick(hangs int) sqsdispatch.CleanupFunc {
	return func(ctx context.Context, m *sqsdispatch.Message, cause sqsdispatch.Cause) error {
		before := fileSize(outFile(m.ID, "ticks"))
		time.Sleep(200 * time.Millisecond)
		after := fileSize(outFile(m.ID, "ticks"))
		f, err := os.OpenFile(outFile(m.ID, "cleanup"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		fmt.Fprintf(f, "attempt=%d running=%t signal=%v before=%d after=%d\n", cause.Attempt, cause.ChildRunning, cause.Signal, before, after)
		f.Close()
		if cause.Attempt <= hangs {
			time.Sleep(time.Hour) // hang, ignoring ctx, until killed
		}
		return nil
	}
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return st.Size()
}
