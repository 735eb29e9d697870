package sqsdispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// testRegistry is built by the test process and by every child it
// re-executes, like a service's main would.
func testRegistry() *sqsdispatch.Registry {
	reg := sqsdispatch.NewRegistry()
	reg.Register("noop", func(context.Context, *sqsdispatch.Message) error { return nil })
	reg.Register("record", func(_ context.Context, m *sqsdispatch.Message) error { return record(m) })
	reg.Register("sleep", jobSleep)
	reg.Register("fail", func(context.Context, *sqsdispatch.Message) error { return errors.New("boom") })
	reg.Register("panic", func(context.Context, *sqsdispatch.Message) error { panic("kaboom") })
	reg.Register("exit3", func(context.Context, *sqsdispatch.Message) error {
		fmt.Fprintln(os.Stderr, "about to exit with code 3")
		os.Exit(3)
		return nil
	})
	reg.Register("exit0", func(context.Context, *sqsdispatch.Message) error { os.Exit(0); return nil })
	reg.Register("permanent", func(context.Context, *sqsdispatch.Message) error {
		return sqsdispatch.Permanent(errors.New("bad input"))
	})
	reg.Handle(sqsdispatch.Job{Name: "grandchild", Run: jobGrandchild, Timeout: 30 * time.Second})
	reg.Handle(sqsdispatch.Job{Name: "grandchild-timeout", Run: jobGrandchild, Timeout: time.Second})
	registerInterruptJobs(reg)
	registerJobAPIJobs(reg)
	registerExampleJobs(reg)
	registerScaleJobs(reg)
	registerObservabilityJobs(reg)
	return reg
}

// params is the JSON body the parametrised test jobs take.
type params struct {
	Sleep time.Duration `json:"sleep"`
}

func parse(m *sqsdispatch.Message) params {
	var p params
	_ = json.Unmarshal([]byte(m.Body), &p)
	return p
}

// outFile names a file a job writes about message id. The directory comes
// from the environment because jobs run in children, before TestMain.
func outFile(id, name string) string {
	return filepath.Join(os.Getenv(envOutDir), id+"."+name)
}

// record writes what the job saw: its pid, body, attributes, and appends
// one line to the message's run ledger.
func record(m *sqsdispatch.Message) error {
	if err := os.WriteFile(outFile(m.ID, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(outFile(m.ID, "body"), []byte(m.Body), 0o644); err != nil {
		return err
	}
	attrs, _ := json.Marshal(m.MessageAttributes)
	if err := os.WriteFile(outFile(m.ID, "attrs"), attrs, 0o644); err != nil {
		return err
	}
	f, err := os.OpenFile(outFile(m.ID, "runs"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%d\n", os.Getpid())
	return err
}

func jobSleep(ctx context.Context, m *sqsdispatch.Message) error {
	if err := os.WriteFile(outFile(m.ID, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	select {
	case <-time.After(parse(m).Sleep):
	case <-ctx.Done():
		return ctx.Err()
	}
	return record(m)
}

// jobGrandchild starts a long sleep as a grandchild, records both pids,
// then sleeps as asked (ignoring cancellation, so only a kill stops it).
func jobGrandchild(_ context.Context, m *sqsdispatch.Message) error {
	cmd := exec.Command("sleep", "300")
	if err := cmd.Start(); err != nil {
		return err
	}
	if err := os.WriteFile(outFile(m.ID, "grandchild"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(outFile(m.ID, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	time.Sleep(parse(m).Sleep)
	return nil
}
