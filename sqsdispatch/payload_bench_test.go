package sqsdispatch_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/internal/payload"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/s3payload"
)

// BenchmarkPayloadStreamRSS measures this process's resident set while a
// 100 MiB payload streams from the local server's S3 to a job's child:
// idle before, the peak while it streams, and the difference.
func BenchmarkPayloadStreamRSS(b *testing.B) {
	const size = 100 << 20
	tb := setup(b, fauxqs.QueueSpec{})
	s3c, bucket := s3Bucket(b, tb.ctx)
	putMultipart(b, tb.ctx, s3c, bucket, "big", writeTempPayload(b, size), size)
	out := filepath.Join(b.TempDir(), "digests")
	cfg := tb.config("digest")
	cfg.Logger, cfg.Payloads = nil, s3payload.NewStore(s3c, s3payload.AllowBuckets(bucket))
	d := tb.dispatcher(cfg)
	var idle, peak, worst int64
	for i := 0; i < b.N; i++ {
		tb.send(payload.Pointer{Bucket: bucket, Key: "big"}.Body(),
			map[string]types.MessageAttributeValue{"out": strAttr(out), payload.AttrSize: numAttr(size)})
		runtime.GC()
		debug.FreeOSMemory()
		idle = rssBytes()
		peak = sampleRSS(func() {
			if handled, err := d.DispatchOne(tb.ctx); err != nil || !handled {
				b.Fatalf("DispatchOne = %v, %v", handled, err)
			}
		})
		worst = max(worst, peak-idle)
	}
	b.ReportMetric(float64(idle)/(1<<20), "idle-MiB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	b.ReportMetric(float64(worst)/(1<<20), "growth-MiB")
}

// writeTempPayload writes size bytes of payload to a temporary file and
// returns it open at its start, without holding them in memory.
func writeTempPayload(b *testing.B, size int64) *os.File {
	b.Helper()
	f, err := os.Create(filepath.Join(b.TempDir(), "payload"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close() })
	chunk := testPayload(1 << 20)
	for written := int64(0); written < size; written += int64(len(chunk)) {
		if _, err := f.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		b.Fatal(err)
	}
	return f
}

// putMultipart uploads size bytes of f to bucket/key in parts the local
// server accepts (it bounds a request's body at 11 MiB).
func putMultipart(b *testing.B, ctx context.Context, c *s3.Client, bucket, key string, f *os.File, size int64) {
	b.Helper()
	const partSize = 8 << 20
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		b.Fatal(err)
	}
	var parts []s3types.CompletedPart
	for off, n := int64(0), int32(1); off < size; off, n = off+partSize, n+1 {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: io.NewSectionReader(f, off, min(partSize, size-off))})
		if err != nil {
			b.Fatal(err)
		}
		// Unquoted: the server does not unescape the quotes Go's XML encoding writes.
		parts = append(parts, s3types.CompletedPart{ETag: aws.String(strings.Trim(aws.ToString(out.ETag), `"`)), PartNumber: aws.Int32(n)})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		b.Fatal(err)
	}
}

// sampleRSS runs fn and returns the highest resident set size of this
// process seen while it ran, sampled every 2 ms.
func sampleRSS(fn func()) int64 {
	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg   sync.WaitGroup
		peak int64
	)
	wg.Go(func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, rssBytes())
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	fn()
	cancel()
	wg.Wait()
	return peak
}
