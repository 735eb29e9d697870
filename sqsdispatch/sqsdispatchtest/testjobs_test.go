package sqsdispatchtest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// testRegistry holds the jobs of the tests and the examples. The test
// binary's children run them: TestMain passes it to sqsdispatch.Init.
func testRegistry() *sqsdispatch.Registry {
	reg := sqsdispatch.NewRegistry()
	thumbnailJobs(reg)
	countJobs(reg)
	reg.Register("ok", func(context.Context, *sqsdispatch.Message) error { return nil })
	reg.Register("permanent", func(_ context.Context, m *sqsdispatch.Message) error {
		return sqsdispatch.Permanent(errors.New(m.Body))
	})
	reg.Register("retry", func(_ context.Context, m *sqsdispatch.Message) error {
		d, err := time.ParseDuration(m.Body)
		if err != nil {
			return err
		}
		return sqsdispatch.RetryAfter(d, errors.New("busy"))
	})
	reg.Register("fail", func(_ context.Context, m *sqsdispatch.Message) error {
		return fmt.Errorf("failed on %q", m.Body)
	})
	reg.Register("exit", func(context.Context, *sqsdispatch.Message) error {
		os.Exit(3)
		return nil
	})
	reg.Register("panic", func(context.Context, *sqsdispatch.Message) error { panic("boom") })
	// echo reports what the job saw as its dead-letter reason.
	reg.Register("echo", func(_ context.Context, m *sqsdispatch.Message) error {
		return sqsdispatch.Permanent(fmt.Errorf("body=%s receives=%d group=%s color=%s",
			m.Body, m.ReceiveCount, m.Attributes["MessageGroupId"], m.MessageAttributes["color"].StringValue))
	})
	// runs reports the run count and checkpoint the job saw as its
	// dead-letter reason.
	reg.Register("runs", func(_ context.Context, m *sqsdispatch.Message) error {
		return sqsdispatch.Permanent(fmt.Errorf("runs=%d receives=%d checkpoint=%q", m.Runs, m.ReceiveCount, m.Checkpoint))
	})
	// gorace reports the GORACE options the job's process got as its
	// dead-letter reason.
	reg.Register("gorace", func(context.Context, *sqsdispatch.Message) error {
		return sqsdispatch.Permanent(errors.New("GORACE=" + os.Getenv("GORACE")))
	})
	// hang writes the file named by the body, then runs until it is
	// stopped; its cleanup writes the file body+".cleanup" with its cause.
	reg.Handle(sqsdispatch.Job{
		Name: "hang",
		Run: func(ctx context.Context, m *sqsdispatch.Message) error {
			if err := os.WriteFile(m.Body, nil, 0o644); err != nil {
				return err
			}
			<-ctx.Done()
			return ctx.Err()
		},
		Cleanup: func(_ context.Context, m *sqsdispatch.Message, c sqsdispatch.Cause) error {
			return os.WriteFile(m.Body+".cleanup",
				fmt.Appendf(nil, "attempt=%d running=%t reason=%s", c.Attempt, c.ChildRunning, c.Reason), 0o644)
		},
	})
	// resume records the checkpoint after the message's own, writes the
	// file named by the body, then runs until it is stopped.
	reg.Register("resume", func(ctx context.Context, m *sqsdispatch.Message) error {
		n, _ := strconv.Atoi(string(m.Checkpoint))
		if err := sqsdispatch.Checkpoint(ctx, []byte(strconv.Itoa(n+1))); err != nil {
			return err
		}
		if err := os.WriteFile(m.Body, nil, 0o644); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	})
	// payload-hang writes "job: BODY" to the file its attribute "out"
	// names, then runs until it is stopped; its cleanup adds
	// "cleanup: BODY".
	reg.Handle(sqsdispatch.Job{
		Name: "payload-hang",
		Run: func(ctx context.Context, m *sqsdispatch.Message) error {
			if err := os.WriteFile(m.MessageAttributes["out"].StringValue, []byte("job: "+m.Body+"\n"), 0o644); err != nil {
				return err
			}
			<-ctx.Done()
			return ctx.Err()
		},
		Cleanup: func(_ context.Context, m *sqsdispatch.Message, _ sqsdispatch.Cause) error {
			f, err := os.OpenFile(m.MessageAttributes["out"].StringValue, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteString("cleanup: " + m.Body + "\n")
			return err
		},
	})
	// payload-cleanup-fails is payload-hang whose first cleanup writes
	// OUT.cleanup1, waits for OUT.go and fails; a second records "cleanup 2".
	reg.Handle(sqsdispatch.Job{
		Name: "payload-cleanup-fails",
		Run: func(ctx context.Context, m *sqsdispatch.Message) error {
			if err := os.WriteFile(m.MessageAttributes["out"].StringValue, []byte("job: "+m.Body+"\n"), 0o644); err != nil {
				return err
			}
			<-ctx.Done()
			return ctx.Err()
		},
		Cleanup: func(ctx context.Context, m *sqsdispatch.Message, c sqsdispatch.Cause) error {
			out := m.MessageAttributes["out"].StringValue
			if c.Attempt > 1 {
				return os.WriteFile(out+".cleanup2", nil, 0o644)
			}
			if err := os.WriteFile(out+".cleanup1", nil, 0o644); err != nil {
				return err
			}
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if _, err := os.Stat(out + ".go"); err == nil {
					break
				}
			}
			return errors.New("the first cleanup fails")
		},
	})
	// greeting succeeds when its body is "hello, payload".
	reg.Register("greeting", func(_ context.Context, m *sqsdispatch.Message) error {
		if m.Body != "hello, payload" {
			return sqsdispatch.Permanent(fmt.Errorf("body %q", m.Body))
		}
		return nil
	})
	return reg
}
