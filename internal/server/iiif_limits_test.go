package server_test

import (
	"net/http"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// TestIIIFRefusals: each request that breaks the Image API is 400 with the reason in plain
// text, each valid one for a feature not offered 501, and a size beyond the limits 400.
func TestIIIFRefusals(t *testing.T) {
	f := newIIIFFixture(t)
	f.publish(t)
	cases := []struct {
		path   string
		status int
		reason string
	}{
		{"full/full/0/default.jpg", 400, "size"},
		{"ful/max/0/default.jpg", 400, "region"},
		{"0,0,10/max/0/default.jpg", 400, "region"},
		{"-5,0,10,10/max/0/default.jpg", 400, "region"},
		{"0,0,0,10/max/0/default.jpg", 400, "no width"},
		{"1300,0,10,10/max/0/default.jpg", 400, "outside"},
		{"pct:101,0,10,10/max/0/default.jpg", 400, "outside"},
		{"pct:nan,0,10,10/max/0/default.jpg", 400, "region"},
		{"full/0,/0/default.jpg", 400, "width"},
		{"full/,/0/default.jpg", 400, "neither"},
		{"full/!100,/0/default.jpg", 400, "!w,h"},
		{"full/pct:0/0/default.jpg", 400, "percentage"},
		{"full/pct:150/0/default.jpg", 400, "^"},
		{"0,0,100,100/200,/0/default.jpg", 400, "larger than the region"},
		{"full/99999999999999999999,/0/default.jpg", 400, "width"},
		{"full/max/-90/default.jpg", 400, "rotation"},
		{"full/max/361/default.jpg", 400, "rotation"},
		{"full/max/9e1/default.jpg", 400, "rotation"},
		{"full/max/0/best.jpg", 400, "quality"},
		{"full/max/0/default", 400, "quality.format"},
		{"full/max/0/default.bmp", 400, "format"},
		{"full/max/0/default.JPG", 400, "format"},
		{"full/max/0/" + strings.Repeat("d", 100) + ".jpg", 400, "longer"},
		{"full/^2001,/0/default.jpg", 400, "limits"},
		{"full/^1700,1200/0/default.jpg", 400, "limits"},
		{"full/max/45/default.jpg", 501, "rotation"},
		{"full/max/0/bitonal.png", 501, "bitonal"},
		{"full/max/0/default.webp", 501, "webp"},
		{"full/max/0/default.tif", 501, "tif"},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.path, "/", "_"), func(t *testing.T) {
			r := f.anon.want(c.status, "GET", f.base+"/"+c.path, nil)
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Fatalf("content type %q", ct)
			}
			if !strings.Contains(string(r.body), c.reason) {
				t.Fatalf("reason %q does not say %q", r.body, c.reason)
			}
			// A viewer on another site reads the reason too.
			if r.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("refusal without CORS: %v", r.header)
			}
		})
	}
}

// TestIIIFBeyondTheLimitAllocatesNothing: requests for images far beyond the limits (the
// largest that the syntax allows) are refused with 400 while the process's heap stays
// within a bound that even one such image would break many times over.
func TestIIIFBeyondTheLimitAllocatesNothing(t *testing.T) {
	f := newIIIFFixture(t)
	f.publish(t)
	const bound = 64 << 20 // bytes above the heap before the requests
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := heap()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if h := heap(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	for range 5 {
		for _, path := range []string{"full/^65535,65535/0/default.jpg", "full/^!99999999,99999999/0/default.png",
			"0,0,1,1/^pct:99999999/0/default.jpg", "0,0,10,10/^9999999,/90/gray.png"} {
			r := f.anon.want(http.StatusBadRequest, "GET", f.base+"/"+path, nil)
			if !strings.Contains(string(r.body), "limits") {
				t.Fatalf("%s: %s", path, r.body)
			}
		}
	}
	close(done)
	wg.Wait()
	if grew := int64(peak.Load()) - int64(base); grew > bound {
		t.Fatalf("the heap grew by %d MiB, more than %d MiB", grew>>20, bound>>20)
	}
}

// TestIIIFCutsAreBounded: a client asking for many cuts at once gets 429 with Retry-After for
// those beyond its share.
func TestIIIFCutsAreBounded(t *testing.T) {
	f := newIIIFFixture(t, func(c *config.IIIF) { c.MaxCuts, c.MaxCutsPerClient, c.CutWait = 4, 1, 0 })
	f.publish(t)
	testwait.Until(t, "a burst of cuts meets the bound", func() bool {
		var refused atomic.Bool
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Go(func() {
				r := f.anon.do("GET", f.base+"/full/^"+itoa(1500+i)+",/0/default.png", nil)
				switch r.status {
				case http.StatusOK:
				case http.StatusTooManyRequests:
					if r.header.Get("Retry-After") == "" {
						t.Error("429 without Retry-After")
					}
					refused.Store(true)
				default:
					t.Errorf("status %d: %s", r.status, r.body)
				}
			})
		}
		wg.Wait()
		return refused.Load()
	})
}
