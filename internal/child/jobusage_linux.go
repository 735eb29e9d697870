package child

import (
	"bytes"
	"os"
	"strconv"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
)

// userHZ is the unit of the times in /proc/<pid>/stat (USER_HZ, which
// the kernel keeps at 100 on every architecture Go runs on).
const userHZ = 100

// readCPUOK reads the CPU time of process pid and of the children it
// reaped (utime, stime, cutime and cstime in /proc/<pid>/stat).
func readCPUOK(pid int) (cpuTimes, bool) {
	st, err := proc.ReadStat(pid)
	if err != nil {
		return cpuTimes{}, false
	}
	tick := time.Second / userHZ
	return cpuTimes{user: time.Duration(st.UTime+st.CUTime) * tick, sys: time.Duration(st.STime+st.CSTime) * tick}, true
}

// resetPeak resets the resident high-water mark of process pid to its
// resident size now. It reports false where the kernel refuses.
func resetPeak(pid int) bool {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0) == nil
}

// readPeak reads the resident high-water mark of process pid, in bytes.
func readPeak(pid int) (int64, bool) {
	return statusKB(pid, "VmHWM:")
}

// statusKB reads a "<key> <n> kB" line of /proc/<pid>/status, in bytes.
func statusKB(pid int, key string) (int64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, false
	}
	i := bytes.Index(b, []byte("\n"+key))
	if i < 0 {
		return 0, false
	}
	line := b[i+1+len(key):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	f := bytes.Fields(line)
	if len(f) != 2 || string(f[1]) != "kB" {
		return 0, false
	}
	kb, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return 0, false
	}
	return kb << 10, true
}

// treeRSS is the resident memory of process pid and its descendants, in
// bytes.
func treeRSS(pid int) int64 {
	var total int64
	for _, p := range append([]int{pid}, proc.Descendants(pid)...) {
		if rss, ok := statusKB(p, "VmRSS:"); ok {
			total += rss
		}
	}
	return total
}
