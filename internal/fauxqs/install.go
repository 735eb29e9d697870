// Package fauxqs installs and runs fauxqs, an SQS-compatible server, for the
// tests, the examples and sqsdispatchtest.StartServer. It installs fauxqs
// and the Node 22 it needs the first time they are needed, into a
// project-local, git-ignored folder inside this module, or into the user's
// cache folder for other modules (see ToolsDir).
package fauxqs

import (
	"bytes"
	"context"
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

// ToolsDir returns the folder tools are installed into:
// $SQSDISPATCH_TOOLS_DIR if set; else .tools at the root of this module
// when the working directory is inside it; else sqsdispatch/tools in the
// user's cache folder (os.UserCacheDir), shared by every module that uses
// the test server.
func ToolsDir() (string, error) {
	if d := os.Getenv("SQSDISPATCH_TOOLS_DIR"); d != "" {
		return filepath.Abs(d)
	}
	if root, ok := moduleRoot(); ok {
		return filepath.Join(root, ".tools"), nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("fauxqs: no folder to install tools into (set SQSDISPATCH_TOOLS_DIR): %w", err)
	}
	return filepath.Join(cache, "sqsdispatch", "tools"), nil
}

// moduleRoot returns the root of this module's source tree if the working
// directory is inside it.
func moduleRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module "+modulePath+"\n")) {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
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
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("fauxqs: npm is needed to install fauxqs %s and Node %s: %w", FauxqsVersion, NodeMajor, err)
	}
	fmt.Fprintf(os.Stderr, "sqsdispatch: installing fauxqs %s and Node %s (about 250 MB) with npm into %s, once\n",
		FauxqsVersion, NodeMajor, dir)
	pkg := fmt.Sprintf(`{"private": true, "dependencies": {"fauxqs": "%s", "node": "^%s"}}`+"\n", FauxqsVersion, NodeMajor)
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(pkg), 0o644); err != nil {
		return err
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
