//go:build !linux

package fauxqs

import "os/exec"

// setDeathSignal does nothing where there is no parent-death signal: the
// server still exits when its standard input closes, which happens when
// this process dies.
func setDeathSignal(*exec.Cmd) {}
