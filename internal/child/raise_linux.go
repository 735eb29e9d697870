package child

import (
	"os"
	"runtime"
	"syscall"
)

// raise sends sig to the calling thread, which handles it before the call
// returns: a signal that ends the process ends it here.
func raise(sig syscall.Signal) {
	runtime.LockOSThread() // for good: the process is ending
	_ = syscall.Tgkill(os.Getpid(), syscall.Gettid(), sig)
}
