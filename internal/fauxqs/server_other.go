//go:build !linux

package fauxqs

import "syscall"

// sysProcAttr starts the server in a process group of its own. There is no
// parent-death signal here: the server exits when its standard input
// closes, which happens when this process dies.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
