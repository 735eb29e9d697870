// Package fauxqs installs and runs fauxqs, an SQS-compatible server, for the
// tests, the examples and the test kit (sqsdispatchtest). It installs
// fauxqs and the Node 22 it needs the first time they are needed, once per
// user, into one folder that every module shares (see ToolsDir).
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
	"time"
)

// Versions installed.
const (
	FauxqsVersion = "2.4.1"
	NodeMajor     = "22"
)

// EnvToolsDir names the environment variable that overrides ToolsDir.
const EnvToolsDir = "SQSDISPATCH_TOOLS_DIR"

// ToolsDir returns the folder fauxqs and Node are installed into:
// $SQSDISPATCH_TOOLS_DIR if set, else sqsdispatch/tools in the user's
// cache folder (os.UserCacheDir: $XDG_CACHE_HOME or ~/.cache on Linux,
// ~/Library/Caches on macOS). Every module that uses the server shares it.
func ToolsDir() (string, error) {
	if d := os.Getenv(EnvToolsDir); d != "" {
		return filepath.Abs(d)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("sqsdispatch: no folder to install the local SQS server into (set %s): %w", EnvToolsDir, err)
	}
	return filepath.Join(cache, "sqsdispatch", "tools"), nil
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

// stagingPrefix starts the name of the folder an install is built in.
const stagingPrefix = ".install-"

// Install installs fauxqs and Node 22 into dir with npm unless they are
// there already.
//
// Concurrent installs (parallel test binaries, several modules) take
// turns on a lock file. An install is built in a folder of its own inside
// dir and moved into place, as dir/node_modules, only once it runs: an
// install that was interrupted (a killed process, a full disk, a network
// failure) leaves nothing that looks installed, and the next Install
// removes what it left and starts afresh.
func Install(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sqsdispatch: creating %s: %w", dir, err)
	}
	unlock, err := lockDir(ctx, dir)
	if err != nil {
		return err
	}
	defer unlock()
	if installed(ctx, dir) {
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("sqsdispatch: npm is needed to install the local SQS server (fauxqs %s and Node %s): %w",
			FauxqsVersion, NodeMajor, err)
	}
	if err := removeStaging(dir); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "sqsdispatch: installing the local SQS server (fauxqs %s and Node %s, about 230 MB) with npm into %s, once\n",
		FauxqsVersion, NodeMajor, dir)
	staging, err := os.MkdirTemp(dir, stagingPrefix)
	if err != nil {
		return fmt.Errorf("sqsdispatch: %w", err)
	}
	defer os.RemoveAll(staging)
	if err := npmInstall(ctx, npm, staging); err != nil {
		return err
	}
	return replace(filepath.Join(dir, "node_modules"), filepath.Join(staging, "node_modules"), staging)
}

// npmInstall installs fauxqs and Node into the empty folder dir and checks
// that they run.
func npmInstall(ctx context.Context, npm, dir string) error {
	pkg := fmt.Sprintf(`{"private": true, "dependencies": {"fauxqs": "%s", "node": "^%s"}}`+"\n", FauxqsVersion, NodeMajor)
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(pkg), 0o644); err != nil {
		return fmt.Errorf("sqsdispatch: %w", err)
	}
	cmd := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", dir)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("sqsdispatch: npm install of fauxqs %s and Node %s failed: %w\n%s", FauxqsVersion, NodeMajor, err, out.String())
	}
	if !installed(ctx, dir) {
		return fmt.Errorf("sqsdispatch: npm install finished but fauxqs %s or Node %s does not run:\n%s", FauxqsVersion, NodeMajor, out.String())
	}
	return nil
}

// replace moves the folder src to dst, moving an older dst out of the way
// into the folder trash first.
func replace(dst, src, trash string) error {
	if _, err := os.Lstat(dst); err == nil {
		if err := os.Rename(dst, filepath.Join(trash, "old")); err != nil {
			return fmt.Errorf("sqsdispatch: moving the older install aside: %w", err)
		}
	}
	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("sqsdispatch: moving the install into place: %w", err)
	}
	return nil
}

// removeStaging removes what interrupted installs left in dir. The caller
// holds the lock, so no install is under way.
func removeStaging(dir string) error {
	left, err := filepath.Glob(filepath.Join(dir, stagingPrefix+"*"))
	if err != nil {
		return err
	}
	for _, p := range left {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("sqsdispatch: removing an interrupted install: %w", err)
		}
	}
	return nil
}

// lockPoll is how often a waiting Install tries the lock again; after
// lockQuiet it says that it waits (another process is installing, not
// just checking its install).
const (
	lockPoll  = 100 * time.Millisecond
	lockQuiet = 2 * time.Second
)

// lockDir takes the install lock of dir, waiting for another install to
// finish until ctx ends, and returns the function that releases it. The
// lock is the operating system's, so a killed holder releases it.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) {
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sqsdispatch: %w", err)
	}
	start, told := time.Now(), false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("sqsdispatch: locking %s: %w", path, err)
		}
		if !told && time.Since(start) > lockQuiet {
			told = true
			fmt.Fprintf(os.Stderr, "sqsdispatch: waiting for another process to finish installing the local SQS server into %s\n", dir)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("sqsdispatch: waiting for the install lock %s: %w", path, ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}
