//go:build linux

package chaos

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// servicePackage is the service the dispatchers run.
const servicePackage = "github.com/sqsdispatch/go-sqsdispatch/internal/chaos/service"

// buildService builds the service into dir. It must run inside the module.
func buildService(ctx context.Context, dir string) (string, error) {
	// go test puts its own toolchain first in the PATH of the tests.
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("chaos: the go command is needed to build the service (or pass a prebuilt one): %w", err)
	}
	bin := filepath.Join(dir, "chaossvc")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, servicePackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // a static binary starts its children faster
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("chaos: building %s (run from inside the module, or pass a prebuilt service): %w\n%s", servicePackage, err, out)
	}
	return bin, nil
}
