//go:build !linux

package child

// readCPUOK cannot read another process's CPU time on this platform.
func readCPUOK(int) (cpuTimes, bool) { return cpuTimes{}, false }

// resetPeak cannot reset a high-water mark on this platform.
func resetPeak(int) bool { return false }

// readPeak cannot read another process's high-water mark on this
// platform.
func readPeak(int) (int64, bool) { return 0, false }

// treeRSS is the resident memory of process pid and its descendants, in
// bytes.
func treeRSS(pid int) int64 { return TreesRSS([]int{pid})[0] }
