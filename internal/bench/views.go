package bench

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// viewResult is what the API views run measured.
type viewResult struct {
	took     time.Duration
	counted  int64
	p50, p99 time.Duration
}

func measureViews(ctx context.Context, e *env, o Options, items []item) ([]Row, error) {
	host, port, err := net.SplitHostPort(e.cfg.Redis.Addr)
	if err != nil {
		return nil, err
	}
	e.log("views: redis-benchmark INCR (1/2)")
	before, err := redisBenchmark(ctx, o, host, port)
	if err != nil {
		return nil, err
	}
	e.log("views: %d views through the API by %d clients over %d items", o.ViewRequests, o.ViewClients, len(items))
	res, err := e.recordViews(ctx, o, items)
	if err != nil {
		return nil, err
	}
	e.log("views: redis-benchmark INCR (2/2)")
	after, err := redisBenchmark(ctx, o, host, port)
	if err != nil {
		return nil, err
	}
	base := (before + after) / 2
	rps := float64(o.ViewRequests) / res.took.Seconds()
	return []Row{{
		Measure:  fmt.Sprintf("Views recorded per second through the API, %d clients", o.ViewClients),
		Product:  fmt.Sprintf("%.0f /s", rps),
		Baseline: fmt.Sprintf("%.0f /s", base),
		Ratio:    ratio(rps, base),
		Goal:     "— (report the ratio)",
		Result:   fmt.Sprintf("%.3f", rps/base),
		Note: fmt.Sprintf("POST /api/v1/items/{id}/views, %d requests over %d published items, each with its own cookie cc_vid "+
			"(%d of %d counted), request p50 %.1f ms, p99 %.1f ms; each view reads the item and runs the view script "+
			"(dedupe, total, daily, unique HLL, trending) and the stats; baseline: redis-benchmark -t incr -n %d -c %d -q "+
			"on the same Redis, mean of %.0f (before) and %.0f /s (after)",
			o.ViewRequests, len(items), res.counted, o.ViewRequests, ms(res.p50), ms(res.p99), o.RedisRequests,
			o.ViewClients, before, after),
	}}, nil
}

// recordViews sends o.ViewRequests views from o.ViewClients concurrent clients, each view
// from a new visitor (its own cc_vid cookie), round-robin over the items.
func (e *env) recordViews(ctx context.Context, o Options, items []item) (viewResult, error) {
	client := &http.Client{Transport: newTransport(o.ViewClients), Timeout: 30 * time.Second}
	var next, counted atomic.Int64
	lat := make([][]time.Duration, o.ViewClients)
	errs := make([]error, o.ViewClients)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range o.ViewClients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			var vid [16]byte
			for {
				i := next.Add(1) - 1
				if i >= int64(o.ViewRequests) || ctx.Err() != nil {
					return
				}
				for j := range vid {
					vid[j] = byte(r.Uint32())
				}
				t0 := time.Now()
				ok, err := view(ctx, client, e.api.base+"/api/v1/items/"+items[i%int64(len(items))].ID+"/views",
					hex.EncodeToString(vid[:]))
				if err != nil {
					errs[w] = err
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
				if ok {
					counted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	var all []time.Duration
	for w := range lat {
		if errs[w] != nil {
			return viewResult{}, errs[w]
		}
		all = append(all, lat[w]...)
	}
	return viewResult{took: took, counted: counted.Load(), p50: percentile(all, 0.5), p99: percentile(all, 0.99)}, nil
}

// view records one view as the page does and says whether it was counted.
func view(ctx context.Context, c *http.Client, u, vid string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Cookie", "cc_vid="+vid)
	resp, err := c.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("POST %s: HTTP %d: %s", u, resp.StatusCode, data)
	}
	var out struct {
		Counted bool `json:"counted"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return false, err
	}
	return out.Counted, nil
}

var rpsPattern = regexp.MustCompile(`([0-9]+(?:\.[0-9]+)?) requests per second`)

// redisBenchmark runs redis-benchmark's INCR test and returns its requests per second.
func redisBenchmark(ctx context.Context, o Options, host, port string) (float64, error) {
	cmd := exec.CommandContext(ctx, o.RedisBenchmark, "-h", host, "-p", port, "-t", "incr",
		"-n", strconv.Itoa(o.RedisRequests), "-c", strconv.Itoa(o.ViewClients), "-q")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("redis-benchmark: %w: %s", err, out)
	}
	m := rpsPattern.FindAllSubmatch(out, -1)
	if len(m) == 0 {
		return 0, fmt.Errorf("redis-benchmark: no requests per second in %q", out)
	}
	return strconv.ParseFloat(string(m[len(m)-1][1]), 64)
}
