package child_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

func readFile(t *testing.T, path string) (string, error) {
	t.Helper()
	b, err := os.ReadFile(path)
	return string(b), err
}

func TestResultsCrossAsPlainData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		job      string
		kind     string
		exitCode int
		check    func(*wire.Result) string
	}{
		{"success", "ok", wire.KindOK, child.ExitOK, nil},
		{"failure", "fail", wire.KindError, child.ExitFailed, func(r *wire.Result) string {
			if r.Error != "failed as asked" {
				return "error text lost: " + r.Error
			}
			return ""
		}},
		{"panic escaping the runner", "panic", wire.KindPanic, child.ExitFailed, func(r *wire.Result) string {
			if !strings.Contains(r.Error, "boom") || !strings.Contains(r.Stack, "testRunner") {
				return "panic without its value or stack: " + r.Error
			}
			return ""
		}},
		{"error and stack larger than a frame", "huge", wire.KindPanic, child.ExitFailed, func(r *wire.Result) string {
			if len(r.Error) > wire.MaxErrorBytes || len(r.Stack) > wire.MaxStackBytes ||
				!strings.Contains(r.Error, "[cut:") || !strings.HasPrefix(r.Stack, "sss") {
				return "oversized texts were not cut to fit with a marker"
			}
			return ""
		}},
		{"unknown job", "nope", wire.KindPermanent, child.ExitFailed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := spawn(t, job(tt.job, jobSpec{}))
			waitDone(t, c)
			r := c.Result()
			if r == nil {
				t.Fatalf("no result; exit %v, stderr %q", c.State(), c.Stderr())
			}
			if r.Kind != tt.kind || c.State().ExitCode() != tt.exitCode {
				t.Fatalf("kind %q exit %d; want %q exit %d", r.Kind, c.State().ExitCode(), tt.kind, tt.exitCode)
			}
			if tt.check != nil {
				if msg := tt.check(r); msg != "" {
					t.Fatal(msg)
				}
			}
			if u := c.Usage(); u.PeakRSS <= 0 {
				t.Errorf("usage %+v; want a peak RSS", u)
			}
		})
	}
}

func TestChildGetsTheParentsArguments(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "args")
	c := spawn(t, job("args", jobSpec{File: file}))
	waitDone(t, c)
	b, err := readFile(t, file)
	if err != nil {
		t.Fatalf("%v (stderr %q)", err, c.Stderr())
	}
	var args []string
	if err := json.Unmarshal([]byte(b), &args); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(args, os.Args) {
		t.Fatalf("child's os.Args = %q; want the parent's %q", args, os.Args)
	}
}

func TestStopSignalCancelsTheJobAndIsReported(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sig  syscall.Signal
	}{
		{"SIGTERM", syscall.SIGTERM},
		{"SIGHUP", syscall.SIGHUP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "pid")
			c := spawn(t, job("sleep", jobSpec{File: file}))
			readPIDs(t, file, 1)
			c.Signal(tt.sig)
			waitDone(t, c)
			r := c.Result()
			if r == nil || r.Signal != int(tt.sig) || !strings.Contains(r.Error, "stopped by") {
				t.Fatalf("result %+v; want the job's context cancelled by %v and the signal reported", r, tt.sig)
			}
			if !c.StoppedByUs() {
				t.Fatal("the dispatcher's signal was not recorded as ours")
			}
		})
	}
}

func TestStderrIsForwardedLineByLine(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zap.InfoLevel)
	c, err := child.Spawn(job("stderr", jobSpec{}), child.Options{Log: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Release)
	waitDone(t, c)
	c.Release() // the stderr reader has finished
	var lines []string
	for _, e := range logs.FilterMessage("child stderr").All() {
		if e.ContextMap()["pid"] != int64(c.PID()) {
			t.Fatalf("line not tagged with the pid: %v", e.ContextMap())
		}
		lines = append(lines, e.ContextMap()["line"].(string))
	}
	if len(lines) < 4 || lines[0] != "first line" || lines[len(lines)-1] != "last line" {
		short := make([]string, len(lines))
		for i, l := range lines {
			short[i] = l[:min(len(l), 20)]
		}
		t.Fatalf("forwarded %d lines %q; want the first, the long one in chunks, the last", len(lines), short)
	}
	for _, l := range lines {
		if len(l) > 4<<10 {
			t.Fatalf("a forwarded line of %d bytes; want chunks of at most 4 KiB", len(l))
		}
	}
	if tail := c.Stderr(); len(tail) > 4<<10 || !strings.HasSuffix(string(tail), "last line\n") {
		t.Fatalf("stderr tail of %d bytes ends %q", len(tail), tail[max(0, len(tail)-20):])
	}
}

func TestChildRefusesWithoutAValidHandshake(t *testing.T) {
	t.Parallel()
	request := func(mutate func(*wire.Request)) []byte {
		r := wire.Request{Magic: wire.Magic, Version: wire.Version, Mode: wire.ModeRun, Job: "ok"}
		mutate(&r)
		b, _ := wire.Frame(r)
		return b
	}
	version := strconv.Itoa(wire.Version)
	tests := []struct {
		name    string
		version string
		env     string
		pipes   bool
		send    []byte
		want    string
	}{
		{"started by hand", version, "", false, nil, "cannot be started by hand"},
		{"another build's child marker", "1", "", true, nil, "protocol version"},
		{"no request before the pipe closes", version, "", true, nil, "no handshake"},
		{"garbage instead of a request", version, "", true, []byte("\x00\x00\x00\x03abc"), "cannot be started by hand"},
		{"wrong magic", version, "", true, request(func(r *wire.Request) { r.Magic = "x" }), "not a request"},
		{"another protocol version", version, "", true, request(func(r *wire.Request) { r.Version = 1 }), "parent speaks protocol 1"},
		{"no job runner", version, envNilRunner + "=1", true, request(func(*wire.Request) {}), "nil Registry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), wire.EnvChild+"="+tt.version)
			if tt.env != "" {
				cmd.Env = append(cmd.Env, tt.env)
			}
			var res *os.File
			if tt.pipes {
				reqR, reqW, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				resR, resW, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { closeFiles(reqR, reqW, resR, resW) })
				cmd.ExtraFiles = []*os.File{reqR, resW}
				if _, err := reqW.Write(tt.send); err != nil {
					t.Fatal(err)
				}
				_ = reqW.Close()
				res = resR
			}
			out, err := cmd.CombinedOutput()
			for _, f := range cmd.ExtraFiles {
				_ = f.Close() // so that the result pipe ends with the child
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != child.ExitRefused {
				t.Fatalf("exit = %v; want code %d (output %q)", err, child.ExitRefused, out)
			}
			if !strings.Contains(string(out), tt.want) || !strings.HasPrefix(string(out), "sqsdispatch: ") {
				t.Fatalf("output %q does not say %q", out, tt.want)
			}
			if res != nil {
				var r wire.Result
				if err := wire.Read(res, &r); !errors.Is(err, wire.ErrNoFrame) {
					t.Fatalf("a refusing child reported %+v (%v)", r, err)
				}
			}
		})
	}
}

func closeFiles(fs ...*os.File) {
	for _, f := range fs {
		_ = f.Close()
	}
}

func TestTreesRSS(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "pids")
	c := spawn(t, job("grandchild", jobSpec{File: file, Block: true}))
	ps := readPIDs(t, file, 2)
	self := child.TreesRSS([]int{ps[1].pid})[0]
	got := child.TreesRSS([]int{c.PID(), 1 << 30})
	if got[0] <= self || got[1] != 0 {
		t.Fatalf("TreesRSS = %v (grandchild alone %d); want the tree's sum above its part, 0 for no process", got, self)
	}
}
