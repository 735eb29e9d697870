package sqsdispatch

import (
	"github.com/shirou/gopsutil/v4/process"
)

// treeRSS returns the summed resident set size of pid and all its
// descendants (the job and the processes it started).
func treeRSS(pid int) int64 {
	pids, err := process.Pids()
	if err != nil {
		return 0
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
	var total int64
	queue := []int32{int32(pid)}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		queue = append(queue, children[p]...)
		if pr, err := process.NewProcess(p); err == nil {
			if mi, err := pr.MemoryInfo(); err == nil {
				total += int64(mi.RSS)
			}
		}
	}
	return total
}
