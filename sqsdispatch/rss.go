package sqsdispatch

import (
	"github.com/shirou/gopsutil/v4/process"
)

// treeRSS returns the summed resident set size of pid and all its
// descendants (the job and the processes it started).
func treeRSS(pid int) int64 { return treesRSS([]int{pid})[0] }

// treesRSS is treeRSS for several roots, reading the process table once.
func treesRSS(roots []int) []int64 {
	out := make([]int64, len(roots))
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
