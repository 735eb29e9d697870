package sqsdispatch_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

const hogLimit = 100 << 20

func registerObservabilityJobs(reg *sqsdispatch.Registry) {
	// flood writes 10 MB to stderr in one write, then outlives its lease.
	reg.Register("flood", func(_ context.Context, m *sqsdispatch.Message) error {
		line := append(bytes.Repeat([]byte("x"), 99), '\n')
		if _, err := os.Stderr.Write(bytes.Repeat(line, 10<<20/100)); err != nil {
			return err
		}
		time.Sleep(3 * time.Second)
		return record(m)
	})
	// hog allocates, 1 MiB at a time, up to three times its 100 MiB limit,
	// notes when it is about to pass the limit, and waits.
	reg.Handle(sqsdispatch.Job{Name: "hog", MaxRSS: hogLimit, Run: func(_ context.Context, m *sqsdispatch.Message) error {
		var chunks [][]byte
		noted := false
		for range 300 {
			c := make([]byte, 1<<20)
			for i := range c {
				c[i] = byte(i)
			}
			chunks = append(chunks, c)
			if !noted && selfRSS() > hogLimit-8<<20 {
				noted = true
				now := strconv.FormatInt(time.Now().UnixNano(), 10)
				if err := os.WriteFile(outFile(m.ID, "over"), []byte(now), 0o644); err != nil {
					return err
				}
			}
		}
		time.Sleep(time.Minute)
		return errors.New("not reached: the limit kills the job first")
	}})
}

// selfRSS reads this process's resident set size.
func selfRSS() int64 {
	b, _ := os.ReadFile("/proc/self/statm")
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
