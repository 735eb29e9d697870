// Package fauxqs installs and runs fauxqs, an SQS-compatible server, for the
// tests and examples. It installs fauxqs and the Node 22 it needs into a
// project-local, git-ignored folder the first time it is needed.
package fauxqs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Versions installed.
const (
	FauxqsVersion = "2.4.1"
	NodeMajor     = "22"
)

const modulePath = "github.com/sqsdispatch/go-sqsdispatch"

// ToolsDir returns the folder tools are installed into: $SQSDISPATCH_TOOLS_DIR,
// else .tools at the root of this module (found from the working directory).
func ToolsDir() (string, error) {
	if d := os.Getenv("SQSDISPATCH_TOOLS_DIR"); d != "" {
		return filepath.Abs(d)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module "+modulePath+"\n")) {
			return filepath.Join(dir, ".tools"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("fauxqs: cannot find the module root (go.mod of " + modulePath + "); set SQSDISPATCH_TOOLS_DIR")
		}
		dir = parent
	}
}

func nodeBin(dir string) string { return filepath.Join(dir, "node_modules", "node", "bin", "node") }

// installed reports whether dir holds a working Node 22 and fauxqs.
func installed(ctx context.Context, dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "fauxqs", "package.json"))
	if err != nil || !bytes.Contains(b, []byte(`"version": "`+FauxqsVersion+`"`)) {
		return false
	}
	out, err := exec.CommandContext(ctx, nodeBin(dir), "--version").Output()
	return err == nil && strings.HasPrefix(string(out), "v"+NodeMajor+".")
}

// Install installs fauxqs and Node 22 into dir with npm unless they are
// there already. Concurrent installs (parallel test binaries) take turns on
// a lock file.
func Install(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("fauxqs: locking %s: %w", dir, err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if installed(ctx, dir) {
		return nil
	}
	pkg := fmt.Sprintf(`{"private": true, "dependencies": {"fauxqs": "%s", "node": "^%s"}}`+"\n", FauxqsVersion, NodeMajor)
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(pkg), 0o644); err != nil {
		return err
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("fauxqs: npm is needed to install fauxqs %s and Node %s: %w", FauxqsVersion, NodeMajor, err)
	}
	cmd := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", dir)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("fauxqs: npm install in %s failed: %w\n%s", dir, err, out.String())
	}
	if !installed(ctx, dir) {
		return fmt.Errorf("fauxqs: npm install in %s finished but fauxqs %s or Node %s does not run:\n%s", dir, FauxqsVersion, NodeMajor, out.String())
	}
	return nil
}
