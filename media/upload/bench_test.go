package upload_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/media/upload"
	"github.com/shizuishan/culturecloud/storage"
)

// benchMiB is the size of the benchmark file: 256 MiB, or CC_BENCH_UPLOAD_MIB (e.g. 1024).
func benchMiB(b *testing.B) int {
	if v := os.Getenv("CC_BENCH_UPLOAD_MIB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("CC_BENCH_UPLOAD_MIB=%q: want a positive number of MiB", v)
		}
		return n
	}
	return 256
}

// BenchmarkUploadFlowVsPutObject compares minio-go PutObject from the server with the
// presigned flow (Create, 4 concurrent part PUTs with checksums, Complete with its hashing
// read). Both move the same random file to the same MinIO.
func BenchmarkUploadFlowVsPutObject(b *testing.B) {
	const partSize = 16 * mib
	e := newEnv(b, upload.Options{PartSize: partSize, MaxSize: 1 << 40})
	ctx := context.Background()
	data := pngFile(b, benchMiB(b)*mib)
	parts := split(data, partSize)
	sums := make([]string, len(parts))
	for i, p := range parts {
		sums[i] = upload.ChecksumCRC32C.Of(p) // the browser computes these as it reads the file
	}
	client := &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	mbps := func(d time.Duration, n int) float64 { return float64(len(data)) * float64(n) / 1e6 / d.Seconds() }

	var putObjectMBps float64
	b.Run("PutObject", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		start := time.Now()
		for i := 0; b.Loop(); i++ {
			key := "bench/put-" + strconv.Itoa(i)
			// The adapter's Put is minio-go's PutObject with its error mapped: the baseline.
			_, err := e.objects.Put(ctx, key, bytes.NewReader(data), int64(len(data)),
				storage.PutOptions{PartSize: partSize, Threads: 4})
			if err != nil {
				b.Fatal(err)
			}
			_ = e.objects.Purge(ctx, key)
		}
		putObjectMBps = mbps(time.Since(start), b.N)
		b.ReportMetric(putObjectMBps, "MB/s")
	})
	b.Run("PresignedFlow", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		start := time.Now()
		for b.Loop() {
			s, err := e.m.Create(ctx, "alice", "bench.png", int64(len(data)))
			if err != nil {
				b.Fatal(err)
			}
			sem := make(chan struct{}, 4)
			errs := make(chan error, len(parts))
			for i := range parts {
				sem <- struct{}{}
				go func() {
					defer func() { <-sem }()
					errs <- putPresigned(ctx, client, e.m, s.ID, i+1, parts[i], sums[i])
				}()
			}
			for range parts {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
			f, err := e.m.Complete(ctx, s.ID, "alice")
			if err != nil {
				b.Fatal(err)
			}
			if f.MediaType != "image/png" {
				b.Fatalf("media type %q", f.MediaType)
			}
			if err := e.m.Remove(ctx, f.Key); err != nil {
				b.Fatal(err)
			}
		}
		flowMBps := mbps(time.Since(start), b.N)
		b.ReportMetric(flowMBps, "MB/s")
		if putObjectMBps > 0 {
			// Throughput of the flow relative to PutObject (1 = as fast); the flow's Complete
			// includes one full read of the object for SHA-256 and SHA-512.
			b.ReportMetric(flowMBps/putObjectMBps, "ratio-to-PutObject")
		}
	})
}

// putPresigned is one browser part upload: presign, PUT with the checksum header.
func putPresigned(ctx context.Context, c *http.Client, m *upload.Manager, id string, n int, data []byte, sum string) error {
	u, err := m.PresignPart(ctx, id, "alice", n)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set(upload.ChecksumCRC32C.Header(), sum)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &statusError{n: n, code: resp.StatusCode}
	}
	return nil
}

type statusError struct{ n, code int }

func (e *statusError) Error() string {
	return "part " + strconv.Itoa(e.n) + ": HTTP " + strconv.Itoa(e.code)
}

// BenchmarkHashDigests reads one sealed upload (256 MiB, or CC_BENCH_UPLOAD_MIB) back from
// MinIO for SHA-256 alone, as for a file of a sha256 OCFL object, and for SHA-256 and
// SHA-512, as for one of an object written with sha512: the read waits for the slowest.
func BenchmarkHashDigests(b *testing.B) {
	const partSize = 16 * mib
	e := newEnv(b, upload.Options{PartSize: partSize, MaxSize: 1 << 40})
	ctx := context.Background()
	data := pngFile(b, benchMiB(b)*mib)
	s, err := e.m.Create(ctx, "alice", "bench.png", int64(len(data)))
	if err != nil {
		b.Fatal(err)
	}
	for i, p := range split(data, partSize) {
		e.uploadPart(b, s.ID, i+1, p)
	}
	sealed, err := e.m.Seal(ctx, s.ID, "alice")
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		digests []upload.Digest
	}{
		{"sha256", []upload.Digest{upload.SHA256}},
		{"sha256+sha512", upload.BothDigests()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := e.m.Hash(ctx, sealed, tc.digests, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
