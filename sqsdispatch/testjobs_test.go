package sqsdispatch_test

// The jobs of every test. The test binary is its own job child: TestMain
// calls Init(testRegistry()), so these run in re-executed children, where
// they report what they saw through files (outFile) the test reads.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// testRegistry is built by the test process and by every child it
// re-executes, like a service's main would.
func testRegistry() *sqsdispatch.Registry {
	reg := sqsdispatch.NewRegistry()
	registerOutcomeJobs(reg)
	registerHygieneJobs(reg)
	registerInterruptJobs(reg)
	registerJobAPIJobs(reg)
	registerExampleJobs(reg)
	registerScaleJobs(reg)
	registerObservabilityJobs(reg)
	registerLifecycleJobs(reg)
	registerCheckpointJobs(reg)
	registerPayloadJobs(reg)
	registerReuseJobs(reg)
	reg.Register("seen", func(_ context.Context, m *sqsdispatch.Message) error { return recordSeen(m) })
	reg.Handle(sqsdispatch.Job{Name: "say", Run: jobSay, Cleanup: cleanupSay})
	return reg
}

// jobSay writes a line to stderr and succeeds; with a "wait" attribute it
// checkpoints (writing the "saved" file once kept) and waits until it is
// stopped.
func jobSay(ctx context.Context, m *sqsdispatch.Message) error {
	fmt.Fprintln(os.Stderr, "the job says hello")
	if _, wait := m.MessageAttributes["wait"]; !wait {
		return nil
	}
	if err := sqsdispatch.Checkpoint(ctx, []byte("1")); err != nil {
		return err
	}
	if err := os.WriteFile(outFile(m.ID, "saved"), nil, 0o644); err != nil {
		return err
	}
	<-ctx.Done()
	return ctx.Err()
}

// cleanupSay writes a line to stderr.
func cleanupSay(context.Context, *sqsdispatch.Message, sqsdispatch.Cause) error {
	fmt.Fprintln(os.Stderr, "the cleanup says hello")
	return nil
}

// seen is what the "seen" job writes of its message: the attributes and
// typed fields a job is given.
type seen struct {
	Attrs      map[string]sqsdispatch.MessageAttribute `json:"attrs"`
	Checkpoint string                                  `json:"checkpoint"`
	Runs       int                                     `json:"runs"`
	DeadLetter *sqsdispatch.DeadLetterInfo             `json:"dead_letter"`
}

func recordSeen(m *sqsdispatch.Message) error {
	b, err := json.Marshal(seen{Attrs: m.MessageAttributes, Checkpoint: string(m.Checkpoint), Runs: m.Runs, DeadLetter: m.DeadLetter})
	if err != nil {
		return err
	}
	return os.WriteFile(outFile(m.ID, "seen"), b, 0o644)
}

// registerOutcomeJobs adds one job per way a job can end.
func registerOutcomeJobs(reg *sqsdispatch.Registry) {
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
}

// registerHygieneJobs adds the jobs that leave processes behind.
func registerHygieneJobs(reg *sqsdispatch.Registry) {
	reg.Handle(sqsdispatch.Job{Name: "grandchild", Run: jobGrandchild, Timeout: 5 * time.Minute})
	reg.Handle(sqsdispatch.Job{Name: "grandchild-timeout", Run: jobGrandchild, Timeout: time.Second})
}

// params is the JSON body the parametrised test jobs take.
type params struct {
	// Sleep is how long the job works.
	Sleep time.Duration `json:"sleep"`
	// Until, when set, makes the sleep job work until this file exists
	// instead.
	Until string `json:"until"`
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

// jobSleep records its pid, works for params.Sleep (or until the file
// params.Until exists), then records its run; it stops early, failing,
// when its context ends.
func jobSleep(ctx context.Context, m *sqsdispatch.Message) error {
	if err := os.WriteFile(outFile(m.ID, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	p := parse(m)
	work := time.NewTimer(p.Sleep)
	defer work.Stop()
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for p.Until != "" && fileSize(p.Until) < 0 {
		select {
		case <-poll.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if p.Until == "" {
		select {
		case <-work.C:
		case <-ctx.Done():
			return ctx.Err()
		}
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

// order is the value the typed test jobs decode.
type order struct {
	ID    string   `json:"id"`
	Items []string `json:"items"`
	Note  string   `json:"note"`
}

// registerJobAPIJobs adds the routing, typed and retry test jobs.
func registerJobAPIJobs(reg *sqsdispatch.Registry) {
	reg.Register("resize", func(_ context.Context, m *sqsdispatch.Message) error {
		return os.WriteFile(outFile(m.ID, "ran"), []byte("resize"), 0o644)
	})
	reg.Register("email", func(_ context.Context, m *sqsdispatch.Message) error {
		return os.WriteFile(outFile(m.ID, "ran"), []byte("email"), 0o644)
	})
	reg.Register("order", sqsdispatch.JSONJob(recordOrder))
	reg.Register("order-strict", sqsdispatch.JSONJob(recordOrder, sqsdispatch.Strict()))
	reg.Register("order-reject", sqsdispatch.JSONJob(func(ctx context.Context, o order, m *sqsdispatch.Message) error {
		if err := recordOrder(ctx, o, m); err != nil {
			return err
		}
		return sqsdispatch.Permanent(errors.New("order rejected"))
	}))
	reg.Register("retry3s", func(context.Context, *sqsdispatch.Message) error {
		return sqsdispatch.RetryAfter(3*time.Second, errors.New("upstream busy"))
	})
}

func recordOrder(_ context.Context, o order, m *sqsdispatch.Message) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return os.WriteFile(outFile(m.ID, "order"), b, 0o644)
}

// ledgerBody is the body of a "ledger" job: it appends a start line and an
// end line to the shared ledger file, sleeping in between.
type ledgerBody struct {
	Ledger string        `json:"ledger"`
	Tag    string        `json:"tag"`
	Sleep  time.Duration `json:"sleep"`
}

// registerScaleJobs adds the ledger job, which records its start and end.
func registerScaleJobs(reg *sqsdispatch.Registry) {
	reg.Register("ledger", sqsdispatch.JSONJob(func(_ context.Context, b ledgerBody, m *sqsdispatch.Message) error {
		if err := appendLine(b.Ledger, fmt.Sprintf("start %d %s %s", os.Getpid(), m.ID, b.Tag)); err != nil {
			return err
		}
		time.Sleep(b.Sleep)
		return appendLine(b.Ledger, fmt.Sprintf("end %d %s %s", os.Getpid(), m.ID, b.Tag))
	}))
}

// appendLine appends one line with a single write (O_APPEND keeps the
// lines of concurrent jobs whole and in the order they were written).
func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(line + "\n")
	return err
}

// ledgerMsg is the body of a ledger job.
func ledgerMsg(path, tag string, sleep time.Duration) string {
	b, _ := json.Marshal(ledgerBody{Ledger: path, Tag: tag, Sleep: sleep})
	return string(b)
}

// hogLimit is the hog job's MaxRSS.
const hogLimit = 100 << 20

// floodLines is how many lines the flood job writes: 10 MB.
const floodLines = 10 << 20 / 100

// registerObservabilityJobs adds the jobs that flood stderr or use too
// much memory.
func registerObservabilityJobs(reg *sqsdispatch.Registry) {
	// flood writes floodLines lines of 100 bytes to stderr in one write,
	// then works for params.Sleep.
	reg.Register("flood", func(_ context.Context, m *sqsdispatch.Message) error {
		line := append(bytes.Repeat([]byte("x"), 99), '\n')
		if _, err := os.Stderr.Write(bytes.Repeat(line, floodLines)); err != nil {
			return err
		}
		time.Sleep(parse(m).Sleep)
		return record(m)
	})
	// hog allocates, 1 MiB at a time, up to three times its 100 MiB limit,
	// notes when it is about to pass the limit, and waits.
	reg.Handle(sqsdispatch.Job{Name: "hog", MaxRSS: hogLimit, Run: func(_ context.Context, m *sqsdispatch.Message) error {
		var chunks [][]byte
		noted := false
		for range 300 {
			c := make([]byte, 1<<20)
			for i := range c {
				c[i] = byte(i)
			}
			chunks = append(chunks, c)
			if !noted && selfRSS() > hogLimit-8<<20 {
				noted = true
				now := strconv.FormatInt(time.Now().UnixNano(), 10)
				if err := os.WriteFile(outFile(m.ID, "over"), []byte(now), 0o644); err != nil {
					return err
				}
			}
		}
		time.Sleep(time.Minute)
		runtime.KeepAlive(chunks)
		return errors.New("not reached: the limit kills the job first")
	}})
}

// selfRSS reads this process's resident set size.
func selfRSS() int64 {
	b, _ := os.ReadFile("/proc/self/statm")
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

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

// fileSize is the size of the file at path, or -1 if it does not exist.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return st.Size()
}

// The jobs of the Example functions. The examples register them in
// registries of their own, and they are in the test registry too, because
// the children the examples start run TestMain's Init(testRegistry()).

func greet(_ context.Context, m *sqsdispatch.Message) error {
	fmt.Printf("child: hello, %s\n", m.Body)
	return nil
}

// Invoice is the typed payload of the JSONJob example.
type Invoice struct {
	Number string  `json:"number"`
	Total  float64 `json:"total"`
}

func sendInvoice(_ context.Context, inv Invoice, _ *sqsdispatch.Message) error {
	fmt.Printf("child: invoice %s for %.2f sent\n", inv.Number, inv.Total)
	return nil
}

func flaky(_ context.Context, m *sqsdispatch.Message) error {
	if m.ReceiveCount == 1 {
		fmt.Println("child: upstream busy, retry in 1s")
		return sqsdispatch.RetryAfter(time.Second, errors.New("upstream busy"))
	}
	fmt.Printf("child: done on delivery %d\n", m.ReceiveCount)
	return nil
}

// registerExampleJobs adds the jobs of the Example functions.
func registerExampleJobs(reg *sqsdispatch.Registry) {
	reg.Register("greet", greet)
	reg.Register("invoice", sqsdispatch.JSONJob(sendInvoice))
	reg.Register("flaky", flaky)
}
