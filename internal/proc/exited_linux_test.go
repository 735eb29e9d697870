package proc

import (
	"os/exec"
	"testing"
	"time"
)

// TestExitedSeesAnExitWithoutReaping: Exited is false while a child runs,
// true once it has exited, and leaves it unreaped (a zombie) for its own
// waiter.
func TestExitedSeesAnExitWithoutReaping(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("sh", "-c", "read line || true")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if Exited(pid) {
		t.Fatal("Exited is true for a child that waits on its input")
	}
	_ = stdin.Close() // the child exits
	deadline := time.Now().Add(time.Minute)
	for !Exited(pid) {
		if time.Now().After(deadline) {
			t.Fatal("Exited stayed false for a child that exited")
		}
		time.Sleep(time.Millisecond)
	}
	if st, err := ReadStat(pid); err != nil || st.State != 'Z' {
		t.Errorf("the child after Exited: state %q (%v); want a zombie, unreaped", st.State, err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the child's own waiter: %v", err)
	}
}
