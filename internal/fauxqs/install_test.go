package fauxqs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestToolsDir(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	tests := []struct {
		name   string
		envDir string // SQSDISPATCH_TOOLS_DIR
		dir    string // working directory
		want   string // "" for the user's cache folder
	}{
		{name: "environment first", envDir: "tools-here", dir: elsewhere, want: filepath.Join(elsewhere, "tools-here")},
		{name: "inside this module: the user's cache folder", dir: wd},
		{name: "another module: the same folder", dir: elsewhere},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			t.Setenv(EnvToolsDir, tt.envDir)
			t.Setenv("XDG_CACHE_HOME", cache) // so the cache folder is a fresh one
			t.Setenv("HOME", cache)
			t.Chdir(tt.dir)
			want := tt.want
			if want == "" {
				c, err := os.UserCacheDir()
				if err != nil {
					t.Fatal(err)
				}
				want = filepath.Join(c, "sqsdispatch", "tools")
			}
			got, err := ToolsDir()
			if err != nil {
				t.Fatalf("ToolsDir: %v", err)
			}
			if !sameDir(got, want) {
				t.Errorf("ToolsDir() = %s, want %s", got, want)
			}
		})
	}
}

// fakeNPM is an npm that installs, into its working directory, a fauxqs
// package.json and a node that reports version 22; it appends a line to
// the file $FAKE_NPM_LOG for each install. With $FAKE_NPM_FAIL set it
// stops half-way, as an install cut off by a network failure does.
const fakeNPM = `#!/bin/sh
echo install >> "$FAKE_NPM_LOG"
mkdir -p node_modules/fauxqs node_modules/node/bin
printf '{\n  "name": "fauxqs",\n  "version": "` + FauxqsVersion + `"\n}\n' > node_modules/fauxqs/package.json
if [ -n "$FAKE_NPM_FAIL" ]; then echo "npm ERR! network" >&2; exit 1; fi
printf '#!/bin/sh\necho v` + NodeMajor + `.0.0\n' > node_modules/node/bin/node
chmod +x node_modules/node/bin/node
`

// withFakeNPM puts fakeNPM first on PATH and returns the file that counts
// its installs.
func withFakeNPM(t *testing.T) (log string) {
	t.Helper()
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "npm"), []byte(fakeNPM), 0o755); err != nil {
		t.Fatal(err)
	}
	log = filepath.Join(t.TempDir(), "npm.log")
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_NPM_LOG", log)
	t.Setenv("FAKE_NPM_FAIL", "")
	return log
}

// npmRuns is how many installs the fake npm logged.
func npmRuns(t *testing.T, log string) int {
	t.Helper()
	b, err := os.ReadFile(log)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "install\n")
}

// writeFile writes content to dir/rel, creating its folders.
func writeFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestInstall(t *testing.T) {
	tests := []struct {
		name    string
		before  func(t *testing.T, dir string) // what dir holds before Install
		wantNPM int                            // installs npm makes
	}{
		{name: "empty folder", before: func(*testing.T, string) {}, wantNPM: 1},
		{name: "installed already", wantNPM: 0, before: func(t *testing.T, dir string) {
			writeFile(t, dir, "node_modules/fauxqs/package.json", `{"version": "`+FauxqsVersion+`"}`)
			writeFile(t, dir, "node_modules/node/bin/node", "#!/bin/sh\necho v"+NodeMajor+".1.2\n")
		}},
		{name: "an interrupted install is removed and redone", wantNPM: 1, before: func(t *testing.T, dir string) {
			writeFile(t, dir, stagingPrefix+"123/node_modules/fauxqs/package.json", `{"version": "`+FauxqsVersion+`"}`)
		}},
		{name: "another fauxqs version is replaced", wantNPM: 1, before: func(t *testing.T, dir string) {
			writeFile(t, dir, "node_modules/fauxqs/package.json", `{"version": "1.0.0"}`)
			writeFile(t, dir, "node_modules/node/bin/node", "#!/bin/sh\necho v"+NodeMajor+".1.2\n")
		}},
		{name: "a node that does not run is replaced", wantNPM: 1, before: func(t *testing.T, dir string) {
			writeFile(t, dir, "node_modules/fauxqs/package.json", `{"version": "`+FauxqsVersion+`"}`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := withFakeNPM(t)
			dir := t.TempDir()
			tt.before(t, dir)
			if err := Install(t.Context(), dir); err != nil {
				t.Fatalf("Install: %v", err)
			}
			if n := npmRuns(t, log); n != tt.wantNPM {
				t.Errorf("npm installed %d times, want %d", n, tt.wantNPM)
			}
			if !installed(t.Context(), dir) {
				t.Error("not installed after Install")
			}
			if left, _ := filepath.Glob(filepath.Join(dir, stagingPrefix+"*")); len(left) > 0 {
				t.Errorf("Install left %v", left)
			}
		})
	}
}

// An install that fails half-way leaves nothing that looks installed; the
// next one installs afresh.
func TestInstallAfterAFailedOne(t *testing.T) {
	log := withFakeNPM(t)
	dir := t.TempDir()
	t.Setenv("FAKE_NPM_FAIL", "1")
	err := Install(t.Context(), dir)
	if err == nil || !strings.Contains(err.Error(), "npm ERR! network") {
		t.Fatalf("Install with a failing npm = %v, want an error with npm's output", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); !os.IsNotExist(err) {
		t.Errorf("the failed install left node_modules in place (%v)", err)
	}
	t.Setenv("FAKE_NPM_FAIL", "")
	if err := Install(t.Context(), dir); err != nil {
		t.Fatalf("Install after a failed one: %v", err)
	}
	if n := npmRuns(t, log); n != 2 {
		t.Errorf("npm installed %d times, want 2", n)
	}
	if !installed(t.Context(), dir) {
		t.Error("not installed after the second Install")
	}
}

// Installs that run at once (test binaries of several packages) install
// once; the others wait and find it done.
func TestInstallConcurrent(t *testing.T) {
	log := withFakeNPM(t)
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = Install(t.Context(), dir) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Install %d: %v", i, err)
		}
	}
	if n := npmRuns(t, log); n != 1 {
		t.Errorf("npm installed %d times, want 1", n)
	}
}

// Without npm, Install says that npm is needed.
func TestInstallWithoutNPM(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := Install(context.Background(), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "npm is needed") {
		t.Errorf("Install without npm = %v, want an error saying npm is needed", err)
	}
}

// sameDir reports whether a and b name the same folder once symbolic links
// are resolved (a temporary folder may sit behind one); a folder that does
// not exist yet is compared by its parent.
func sameDir(a, b string) bool {
	resolve := func(p string) string {
		if r, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil {
			return filepath.Join(r, filepath.Base(p))
		}
		return filepath.Clean(p)
	}
	return resolve(a) == resolve(b)
}
