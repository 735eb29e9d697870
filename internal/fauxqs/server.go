package fauxqs

import (
	"bufio"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
)

//go:embed serve.mjs
var serveScript []byte

// Timeouts of a server's start and stop.
const (
	// startTimeout bounds how long the server may take to report its port.
	startTimeout = 60 * time.Second
	// closeGrace is how long Close waits for the server to exit after its
	// standard input closed, before it kills it.
	closeGrace = 5 * time.Second
)

// Server is a running fauxqs.
type Server struct {
	// Endpoint is the server's base URL, http://127.0.0.1:PORT.
	Endpoint string

	cmd    *exec.Cmd
	stdin  *os.File // closing it tells the server to stop
	stderr *tail
	exited chan struct{} // closed once the server has exited and been reaped
	once   sync.Once
}

// Start installs fauxqs if needed and starts it on 127.0.0.1 with a free
// port. The server stops with Close, or by itself when this process dies.
func Start(ctx context.Context) (*Server, error) { return StartOnPort(ctx, 0) }

// StartOnPort is Start on the given port of 127.0.0.1; 0 picks a free one.
func StartOnPort(ctx context.Context, port int) (*Server, error) {
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("sqsdispatch: port %d is not a TCP port", port)
	}
	dir, err := ToolsDir()
	if err != nil {
		return nil, err
	}
	if err := Install(ctx, dir); err != nil {
		return nil, err
	}
	script, err := writeScript(dir)
	if err != nil {
		return nil, err
	}
	var pipes [4]*os.File // stdin read, write; stdout read, write
	for i := 0; i < len(pipes); i += 2 {
		if pipes[i], pipes[i+1], err = os.Pipe(); err != nil {
			closeFiles(pipes[:i]...)
			return nil, fmt.Errorf("sqsdispatch: starting the local SQS server: %w", err)
		}
	}
	inR, inW, outR, outW := pipes[0], pipes[1], pipes[2], pipes[3]
	s := &Server{stdin: inW, stderr: &tail{max: 64 << 10}, exited: make(chan struct{})}
	s.cmd = exec.Command(nodeBin(dir), "--no-warnings", script, strconv.Itoa(port))
	s.cmd.Dir = dir
	s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = inR, outW, s.stderr
	s.cmd.SysProcAttr = sysProcAttr()
	started := make(chan error, 1)
	go s.run(started)
	err = <-started
	closeFiles(inR, outW)
	if err != nil {
		closeFiles(inW, outR)
		return nil, fmt.Errorf("sqsdispatch: starting the local SQS server: %w", err)
	}
	listening := make(chan string, 1)
	go readPort(outR, listening)
	t := time.NewTimer(startTimeout)
	defer t.Stop()
	select {
	case p := <-listening:
		s.Endpoint = "http://127.0.0.1:" + p
		return s, nil
	case <-s.exited:
		s.Close() // closes its standard input's pipe
		return nil, fmt.Errorf("sqsdispatch: the local SQS server exited before it listened on 127.0.0.1:%d (%s):\n%s",
			port, s.cmd.ProcessState, s.stderr)
	case <-t.C:
		s.Close()
		return nil, fmt.Errorf("sqsdispatch: the local SQS server did not report its port within %s:\n%s", startTimeout, s.stderr)
	case <-ctx.Done():
		s.Close()
		return nil, ctx.Err()
	}
}

// run starts the server and waits for it from an OS thread that stays
// locked until the server has exited: on Linux the kernel kills the server
// when the thread that started it ends, which is at the latest when this
// process dies, however it dies. Once the server has exited, and before
// it is reaped, whatever is left in its process group is killed.
func (s *Server) run(started chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := s.cmd.Start(); err != nil {
		close(s.exited)
		started <- err
		return
	}
	started <- nil
	pid := s.cmd.Process.Pid
	if waited, err := proc.WaitExited(pid); waited && err == nil {
		_ = proc.SignalGroup(pid, syscall.SIGKILL)
	}
	_ = s.cmd.Wait()
	close(s.exited)
}

// readPort sends the port the server reports on its standard output, then
// drains the rest, so that the server never blocks on a full pipe.
func readPort(r *os.File, port chan<- string) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "FAUXQS_PORT="); ok {
			port <- p
			break
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// Close stops the server and waits for it: it closes the server's standard
// input, which makes it stop, and kills it if it has not exited within
// closeGrace.
func (s *Server) Close() {
	s.once.Do(func() {
		_ = s.stdin.Close()
		t := time.NewTimer(closeGrace)
		defer t.Stop()
		select {
		case <-s.exited:
		case <-t.C:
			_ = proc.SignalGroup(s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
	})
}

// Exited is closed once the server has exited, after Close or by itself.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// PID is the server process's pid.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// writeScript writes the server's start script into dir, under a name that
// holds a digest of its content, so that servers started by different
// versions of this package never run each other's script.
func writeScript(dir string) (string, error) {
	sum := sha256.Sum256(serveScript)
	path := filepath.Join(dir, "serve-"+hex.EncodeToString(sum[:4])+".mjs")
	if b, err := os.ReadFile(path); err == nil && string(b) == string(serveScript) {
		return path, nil
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	if err := os.WriteFile(tmp, serveScript, 0o644); err != nil {
		return "", fmt.Errorf("sqsdispatch: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("sqsdispatch: %w", err)
	}
	return path, nil
}

func closeFiles(fs ...*os.File) {
	for _, f := range fs {
		_ = f.Close()
	}
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
