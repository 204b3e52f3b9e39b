package views_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/views"
)

// BenchmarkRecordVsRawRedis compares Record (one atomic script: dedupe, totals, day bucket,
// two HyperLogLogs, trending, dirty set) with the plain go-redis pattern most code would write
// (SET NX EX, INCR, HINCRBY and PFADD in one pipeline, which does not dedupe atomically), on the
// same Redis with 50 goroutines. Every event has a new viewer, so every event is counted.
func BenchmarkRecordVsRawRedis(b *testing.B) {
	e := newEnv(b)
	c := e.counter(views.Options{})
	const goroutines = 50
	now := time.Now()
	ctx := context.Background()

	b.ResetTimer()
	recordTime := parallel(b, b.N, goroutines, func(i int) error {
		_, err := c.Record(ctx, fmt.Sprintf("item:b%d", i%100), fmt.Sprintf("c:r%d", i), now)
		return err
	})
	raw := e.prefix + "raw:"
	rawTime := parallel(b, b.N, goroutines, func(i int) error {
		target := fmt.Sprintf("item:b%d", i%100)
		_, err := e.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.SetNX(ctx, raw+"seen:"+target+"|"+fmt.Sprintf("c:r%d", i), "1", 30*time.Minute)
			p.Incr(ctx, raw+"total:"+target)
			p.HIncrBy(ctx, raw+"day:"+now.Format("2006-01-02"), target, 1)
			p.PFAdd(ctx, raw+"uniq:"+target, fmt.Sprintf("c:r%d", i))
			return nil
		})
		return err
	})
	b.StopTimer()

	recordRate := float64(b.N) / recordTime.Seconds()
	rawRate := float64(b.N) / rawTime.Seconds()
	b.ReportMetric(float64(recordTime.Nanoseconds())/float64(b.N), "ns/op") // Record only
	b.ReportMetric(recordRate, "record-events/s")
	b.ReportMetric(rawRate, "raw-events/s")
	b.ReportMetric(recordRate/rawRate, "record/raw")
}

// parallel runs fn for 0..n-1 on g goroutines and returns the time taken.
func parallel(b *testing.B, n, g int, fn func(i int) error) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for range g {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	return elapsed
}
