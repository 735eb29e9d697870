package fauxqs

import "syscall"

// sysProcAttr starts the server in a process group of its own (a Ctrl-C
// in the terminal reaches this process, which stops the server in order)
// and makes the kernel kill it when the thread that started it ends.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
