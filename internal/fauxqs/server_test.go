package fauxqs

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs/fauxqstest"
)

// envServe makes the test binary start a server, print its pid and wait
// to be killed: a process that dies with a server running.
const envServe = "FAUXQS_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(envServe) != "" {
		s, err := Start(context.Background())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("SERVER_PID=%d\n", s.PID())
		select {}
	}
	os.Exit(m.Run())
}

// start starts a server on port and closes it when the test ends.
func start(t *testing.T, port int) *Server {
	t.Helper()
	s, err := StartOnPort(t.Context(), port)
	if err != nil {
		t.Fatalf("StartOnPort(%d): %v", port, err)
	}
	t.Cleanup(s.Close)
	return s
}

// listQueues makes one call to the server at endpoint.
func listQueues(ctx context.Context, s *Server) error {
	c, err := s.Client(ctx)
	if err != nil {
		return err
	}
	_, err = c.ListQueues(ctx, &sqs.ListQueuesInput{})
	return err
}

func TestStartOnPort(t *testing.T) {
	t.Parallel()
	port := fauxqstest.FreePort(t)
	s := start(t, port)
	if want := "http://127.0.0.1:" + strconv.Itoa(port); s.Endpoint != want {
		t.Errorf("Endpoint = %q, want %q", s.Endpoint, want)
	}
	if err := listQueues(t.Context(), s); err != nil {
		t.Errorf("ListQueues: %v", err)
	}
	_, err := StartOnPort(t.Context(), port)
	if err == nil || !strings.Contains(err.Error(), "EADDRINUSE") {
		t.Errorf("a second server on port %d: %v, want an error saying the address is in use", port, err)
	}
}

// Close stops the server: its process is gone and its port answers no
// more.
func TestClose(t *testing.T) {
	t.Parallel()
	s := start(t, 0)
	pid := s.PID()
	s.Close()
	select {
	case <-s.Exited():
	default:
		t.Error("Exited is open after Close")
	}
	fauxqstest.WaitGone(t, pid)
	if err := listQueues(t.Context(), s); err == nil {
		t.Error("the server answers after Close")
	}
}

// The server dies with the process that started it, even by SIGKILL.
func TestServerDiesWithItsProcess(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envServe+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		t.Fatalf("the process printed no server pid (%v)", sc.Err())
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "SERVER_PID="))
	if err != nil {
		t.Fatalf("line %q: %v", sc.Text(), err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	fauxqstest.WaitGone(t, pid)
}
