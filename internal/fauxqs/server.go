package fauxqs

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

//go:embed serve.mjs
var serveScript []byte

// startTimeout bounds how long the server may take to report its port.
const startTimeout = 60 * time.Second

// Server is a running fauxqs.
type Server struct {
	// Endpoint is the server's base URL, http://127.0.0.1:PORT.
	Endpoint string

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *bytes.Buffer
	once   sync.Once
}

// Start installs fauxqs if needed and starts it on 127.0.0.1 with a free
// port. The server stops with Close, or by itself when this process dies.
func Start(ctx context.Context) (*Server, error) {
	dir, err := ToolsDir()
	if err != nil {
		return nil, err
	}
	if err := Install(ctx, dir); err != nil {
		return nil, err
	}
	script := filepath.Join(dir, "serve.mjs")
	if b, err := os.ReadFile(script); err != nil || !bytes.Equal(b, serveScript) {
		if err := writeAtomic(script, serveScript); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(nodeBin(dir), "--no-warnings", script)
	cmd.Dir = dir
	setDeathSignal(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &Server{cmd: cmd, stdin: stdin, stderr: new(bytes.Buffer)}
	cmd.Stderr = &lockedWriter{w: s.stderr}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("fauxqs: starting node: %w", err)
	}
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "FAUXQS_PORT="); ok {
				port <- p
			}
		}
		close(port)
	}()
	t := time.NewTimer(startTimeout)
	defer t.Stop()
	select {
	case p, ok := <-port:
		if ok {
			s.Endpoint = "http://127.0.0.1:" + p
			return s, nil
		}
		_ = cmd.Wait()
		return nil, fmt.Errorf("fauxqs: server exited before it listened (%s):\n%s", cmd.ProcessState, s.stderr)
	case <-t.C:
		s.Close()
		return nil, fmt.Errorf("fauxqs: server did not report its port within %s:\n%s", startTimeout, s.stderr)
	case <-ctx.Done():
		s.Close()
		return nil, ctx.Err()
	}
}

// Close stops the server and waits for it.
func (s *Server) Close() {
	s.once.Do(func() {
		_ = s.stdin.Close()
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		t := time.NewTimer(5 * time.Second)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			_ = s.cmd.Process.Kill()
			<-done
		}
	})
}

func writeAtomic(path string, b []byte) error {
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// PID is the server process's pid (for measuring its CPU use).
func (s *Server) PID() int { return s.cmd.Process.Pid }
