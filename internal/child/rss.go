package child

import (
	"github.com/shirou/gopsutil/v4/process"
)

// TreesRSS returns, for each root pid, the summed resident set size in
// bytes of the root and all its descendants (a job and the processes it
// started), reading the process table once.
func TreesRSS(roots []int) []int64 {
	out := make([]int64, len(roots))
	if len(roots) == 0 {
		return out
	}
	pids, err := process.Pids()
	if err != nil {
		return out
	}
	children := make(map[int32][]int32)
	for _, p := range pids {
		pr, err := process.NewProcess(p)
		if err != nil {
			continue
		}
		if pp, err := pr.Ppid(); err == nil {
			children[pp] = append(children[pp], p)
		}
	}
	for i, root := range roots {
		queue := []int32{int32(root)}
		for len(queue) > 0 {
			p := queue[0]
			queue = append(queue[1:], children[p]...)
			if pr, err := process.NewProcess(p); err == nil {
				if mi, err := pr.MemoryInfo(); err == nil {
					out[i] += int64(mi.RSS)
				}
			}
		}
	}
	return out
}
