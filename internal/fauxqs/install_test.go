package fauxqs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestToolsDir(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(wd, "..", "..") // this package is internal/fauxqs
	elsewhere, cache := t.TempDir(), t.TempDir()
	tests := []struct {
		name   string
		envDir string // SQSDISPATCH_TOOLS_DIR
		dir    string // working directory
		want   string // "" for the user's cache folder
	}{
		{name: "environment first", envDir: "tools-here", dir: elsewhere, want: filepath.Join(elsewhere, "tools-here")},
		{name: "inside this module", dir: wd, want: filepath.Join(root, ".tools")},
		{name: "another module falls back to the cache", dir: elsewhere, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SQSDISPATCH_TOOLS_DIR", tt.envDir)
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
