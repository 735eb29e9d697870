//go:build linux

package proctab

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	t.Parallel()
	rest := " 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 12345 19 20 21\n"
	tests := []struct {
		name    string
		in      string
		want    Proc
		wantErr bool
	}{
		{name: "plain", in: "42 (sleep) S 7" + rest, want: Proc{ID: ID{PID: 42, Start: 12345}, PPID: 7, State: 'S', Comm: "sleep"}},
		{name: "comm with spaces and parens", in: "42 (a) b (c) Z 1" + rest, want: Proc{ID: ID{PID: 42, Start: 12345}, PPID: 1, State: 'Z', Comm: "a) b (c"}},
		{name: "no parens", in: "42 sleep S 7" + rest, wantErr: true},
		{name: "short", in: "42 (sleep) S 7 1 2\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseStat(42, []byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %t", err, tc.wantErr)
			}
			if !tc.wantErr && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseLocks(t *testing.T) {
	t.Parallel()
	const locks = `1: FLOCK  ADVISORY  WRITE 1234 00:2f:5678 0 EOF
1: -> FLOCK  ADVISORY  WRITE 999 00:2f:5678 0 EOF
2: POSIX  ADVISORY  WRITE 4321 00:2f:9999 0 EOF
3: FLOCK  ADVISORY  WRITE 77 00:2f:5678 0 EOF
`
	tests := []struct {
		name string
		dev  string
		want []int
	}{
		{name: "holders without waiters", dev: "00:2f:5678", want: []int{1234, 77}},
		{name: "other file", dev: "00:2f:9999", want: []int{4321}},
		{name: "none", dev: "00:30:1", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseLocks(strings.NewReader(locks), tc.dev)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestLiveProcess(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("sleep", "30")
	cmd.Env = append(os.Environ(), "PROCTAB_TEST=yes")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pid := cmd.Process.Pid

	p, err := Stat(pid)
	if err != nil {
		t.Fatal(err)
	}
	if p.PPID != os.Getpid() || p.Start == 0 || p.Zombie() {
		t.Errorf("Stat = %+v, want a live child of %d with a start time", p, os.Getpid())
	}
	if !HasEnv(pid, "PROCTAB_TEST=yes") || HasEnv(pid, "PROCTAB_TEST=no") {
		t.Error("HasEnv does not tell the marker")
	}
	if got := Cmdline(pid); got != "sleep 30" {
		t.Errorf("Cmdline = %q", got)
	}
	procs, err := List()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, q := range procs {
		found = found || q.ID == p.ID
	}
	if !found {
		t.Error("List does not hold the child")
	}

	_ = cmd.Process.Kill()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		q, err := Stat(pid)
		if err != nil {
			t.Fatal(err)
		}
		if q.Zombie() {
			if q.ID != p.ID || HasEnv(pid, "PROCTAB_TEST=yes") {
				t.Errorf("zombie %+v: identity changed or environment still readable", q)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the killed child never became a zombie")
		}
		<-tick.C
	}
	_ = cmd.Wait()
	if _, err := Stat(pid); err == nil {
		// The pid may have been reused already; only a different identity is acceptable.
		if id, _ := Identify(pid); id == p.ID {
			t.Error("a reaped process is still listed")
		}
	}
}
