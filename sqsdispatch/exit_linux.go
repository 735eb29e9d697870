package sqsdispatch

import (
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// raiseDefault restores sig's kernel default action, bypassing the Go
// runtime's own handler (which would turn SIGQUIT into a goroutine dump),
// and sends it to the calling thread.
func raiseDefault(sig syscall.Signal) {
	runtime.LockOSThread()
	var act [4]uint64 // struct sigaction, all zero: SIG_DFL, no flags, empty mask
	_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	var set [1]uint64
	set[0] = 1 << (uint(sig) - 1)
	_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 1 /* SIG_UNBLOCK */, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0)
	_ = syscall.Tgkill(syscall.Getpid(), syscall.Gettid(), sig)
	time.Sleep(raiseWait)
}
