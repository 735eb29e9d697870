package sqsdispatch_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// registerReuseJobs adds the jobs of the reuse tests.
func registerReuseJobs(reg *sqsdispatch.Registry) {
	// pid records its process's pid.
	reg.Register("pid", func(_ context.Context, m *sqsdispatch.Message) error { return recordPID(m) })
	// alive records whether the process whose pid is its body exists.
	reg.Register("alive", func(_ context.Context, m *sqsdispatch.Message) error {
		if err := recordPID(m); err != nil {
			return err
		}
		_, err := os.Stat("/proc/" + strings.TrimSpace(m.Body))
		return os.WriteFile(outFile(m.ID, "alive"), []byte(strconv.FormatBool(err == nil)), 0o644)
	})
	// selfterm records its pid, sends itself SIGTERM and returns when
	// that ends its context.
	reg.Register("selfterm", func(ctx context.Context, m *sqsdispatch.Message) error {
		if err := recordPID(m); err != nil {
			return err
		}
		if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	})
	// pid-timeout records its pid and outlives its one-second Timeout.
	reg.Handle(sqsdispatch.Job{Name: "pid-timeout", Timeout: time.Second, Run: func(ctx context.Context, m *sqsdispatch.Message) error {
		if err := recordPID(m); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	}})
	// pid-clean records its pid; it always runs in a fresh child of its own.
	reg.Handle(sqsdispatch.Job{Name: "pid-clean", Reuse: sqsdispatch.Reuse{MaxJobs: 1},
		Run: func(_ context.Context, m *sqsdispatch.Message) error { return recordPID(m) }})
	// pid-few records its pid; it runs in a child that has run at most
	// one job before.
	reg.Handle(sqsdispatch.Job{Name: "pid-few", Reuse: sqsdispatch.Reuse{MaxJobs: 2},
		Run: func(_ context.Context, m *sqsdispatch.Message) error { return recordPID(m) }})
}

func recordPID(m *sqsdispatch.Message) error {
	return os.WriteFile(outFile(m.ID, "pid"), []byte(fmt.Sprint(os.Getpid())), 0o644)
}
