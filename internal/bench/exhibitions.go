package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shizuishan/culturecloud/internal/imageservice"
	"github.com/shizuishan/culturecloud/media/iiif"
	"github.com/shizuishan/culturecloud/storage"
)

// ExhibitionOptions size the exhibitions run: the deep zoom of cloud exhibitions, that is the
// IIIF tiles of a large scan and the pyramid they come from.
type ExhibitionOptions struct {
	Width, Height int // the generated scan
	TileGets      int // random tile GETs on each side
	Clients       int // concurrent clients on each side
	ToolsDir      string
}

// ExhibitionDefaults is the full run: a 12,000 × 9,000 scan, 20,000 tiles each way, 32 clients.
func ExhibitionDefaults() ExhibitionOptions {
	return ExhibitionOptions{Width: 12000, Height: 9000, TileGets: 20_000, Clients: 32}
}

// ExhibitionQuick is the same scan with fewer tile GETs.
func ExhibitionQuick() ExhibitionOptions {
	o := ExhibitionDefaults()
	o.TileGets = 4000
	return o
}

// RunExhibitions starts the services and the product, measures the pyramid and the tiles, and
// prints the table to stdout (progress to stderr).
func RunExhibitions(ctx context.Context, o ExhibitionOptions, stdout, stderr io.Writer) error {
	start := time.Now()
	e, stop, err := startEnv(ctx, o.ToolsDir, stderr)
	if err != nil {
		return err
	}
	defer stop()
	rows, err := measureExhibitions(ctx, e, o)
	if err != nil {
		return err
	}
	t := table{rows: rows, caption: fmt.Sprintf("Measured %s on %s (%d CPUs); a %d × %d scan, %d tile GETs per side by %d clients; run took %s.",
		time.Now().Format("2006-01-02 15:04"), hostName(), numCPU(), o.Width, o.Height, o.TileGets, o.Clients,
		time.Since(start).Round(time.Second))}
	t.write(stdout)
	e.log("stopping")
	return nil
}

func measureExhibitions(ctx context.Context, e *env, o ExhibitionOptions) ([]Row, error) {
	scan := filepath.Join(e.dir, "scan.jpg")
	e.log("exhibitions: generating a %d × %d scan", o.Width, o.Height)
	if err := generateScan(ctx, e.dir, scan, o.Width, o.Height); err != nil {
		return nil, err
	}
	e.settle()
	tile := e.cfg.IIIF.TileSize
	hand, err := handPyramid(ctx, e, scan, tile)
	if err != nil {
		return nil, err
	}
	e.settle()
	e.log("exhibitions: the same scan through the product (upload, attach, derive and pyramid worker)")
	it, err := e.api.createItem(ctx, "深度缩放基准扫描")
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(scan)
	if err != nil {
		return nil, err
	}
	put := &http.Client{Transport: newTransport(8), Timeout: 10 * time.Minute}
	if _, err := e.apiUpload(ctx, put, scan, st.Size(), it.ID); err != nil {
		return nil, err
	}
	direct, err := e.directStore(o.Clients * 2)
	if err != nil {
		return nil, err
	}
	var cur struct {
		item
		Files []struct {
			SHA256 string `json:"sha256"`
		} `json:"files"`
	}
	if err := e.api.do(ctx, http.MethodGet, "/api/v1/items/"+it.ID, nil, &cur, http.StatusOK); err != nil {
		return nil, err
	}
	if len(cur.Files) != 1 {
		return nil, fmt.Errorf("the item has %d files", len(cur.Files))
	}
	sha := cur.Files[0].SHA256
	rec, err := waitPyramid(ctx, direct, it.ID, sha)
	if err != nil {
		return nil, err
	}
	// vips by hand again, after: this machine's load moves, and the baseline is the mean.
	e.settle()
	handAfter, err := handPyramid(ctx, e, scan, tile)
	if err != nil {
		return nil, err
	}
	hand = (hand + handAfter) / 2
	product := time.Duration(rec.MakeSeconds * float64(time.Second))
	r := product.Seconds() / hand.Seconds()
	rows := []Row{{
		Measure: fmt.Sprintf("Tile pyramid of a %d × %d scan", o.Width, o.Height), Product: secs(product), Baseline: secs(hand),
		Ratio: ratio(product.Seconds(), hand.Seconds()), Goal: "≤ 1.1×", Result: fmt.Sprintf("%.2f: %s", r, verdict(r <= 1.1)),
		Note: fmt.Sprintf("the worker's own time (master from MinIO, vips dzsave, %d tiles to MinIO) vs vips %v run by hand on the same file (mean of a run before and after)",
			len(rec.Names()), iiif.DzsaveArgs("scan.jpg", "out", tile)),
	}}
	if _, err := e.api.publish(ctx, cur.item); err != nil {
		return nil, err
	}
	tileRows, err := measureTiles(ctx, e, o, direct, it.ID, sha, rec.Pyramid)
	if err != nil {
		return nil, err
	}
	return append(rows, tileRows...), nil
}

// generateScan writes a JPEG of width × height with vips, in pieces that never hold the
// whole image in memory: colour gradients with noise, so that tiles are not trivially small.
func generateScan(ctx context.Context, dir, dst string, width, height int) error {
	v := func(name string) string { return filepath.Join(dir, name+".v") }
	steps := [][]string{
		{"xyz", v("xy"), strconv.Itoa(width), strconv.Itoa(height)},
		{"linear", v("xy"), v("rg"), fmt.Sprintf("%g %g", 255/float64(width), 255/float64(height)), "0 0", "--uchar"},
		{"gaussnoise", v("noise"), strconv.Itoa(width), strconv.Itoa(height), "--mean", "128", "--sigma", "24"},
		{"cast", v("noise"), v("b"), "uchar"},
		{"bandjoin", v("rg") + " " + v("b"), v("rgb")},
		{"copy", v("rgb"), dst + "[Q=90]", "--interpretation", "srgb"},
	}
	for _, args := range steps {
		if out, err := exec.CommandContext(ctx, "vips", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("vips %s: %w: %s", args[0], err, out)
		}
	}
	for _, name := range []string{"xy", "rg", "noise", "b", "rgb"} {
		_ = os.Remove(v(name))
	}
	return nil
}

// handPyramid times vips dzsave run by hand on scan, with the worker's arguments.
func handPyramid(ctx context.Context, e *env, scan string, tile int) (time.Duration, error) {
	out := filepath.Join(e.dir, "hand-pyramid")
	defer func() { _ = os.RemoveAll(out) }()
	e.log("exhibitions: vips dzsave by hand")
	start := time.Now()
	if msg, err := exec.CommandContext(ctx, "vips", iiif.DzsaveArgs(scan, out, tile)...).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("vips dzsave: %w: %s", err, msg)
	}
	return time.Since(start), nil
}

// waitPyramid polls the file's pyramid record until the worker has written it.
func waitPyramid(ctx context.Context, direct *storage.Store, item, sha string) (imageservice.Record, error) {
	deadline := time.Now().Add(30 * time.Minute)
	for {
		data, _, err := direct.ReadAll(ctx, imageservice.RecordKey(item, sha), 1<<20)
		if err == nil {
			var rec imageservice.Record
			if err := json.Unmarshal(data, &rec); err != nil {
				return rec, err
			}
			if rec.State != imageservice.Done {
				return rec, fmt.Errorf("pyramid %s: %s", rec.State, rec.Error)
			}
			return rec, nil
		}
		if !errors.Is(err, storage.ErrNotFound) || time.Now().After(deadline) {
			return imageservice.Record{}, fmt.Errorf("no pyramid: %w", err)
		}
		select {
		case <-ctx.Done():
			return imageservice.Record{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// measureTiles GETs random tiles of the pyramid through the IIIF endpoint as a viewer does and,
// in the same run, the same stored tiles straight from MinIO (a run before and one after).
func measureTiles(ctx context.Context, e *env, o ExhibitionOptions, direct *storage.Store, item, sha string, py iiif.Pyramid) ([]Row, error) {
	names := py.Names()
	rng := rand.New(rand.NewPCG(13, 2026))
	order := make([]string, o.TileGets)
	for i := range order {
		order[i] = names[rng.IntN(len(names))]
	}
	base := e.api.base + "/iiif/3/" + imageservice.Identifier(item, sha) + "/"
	client := &http.Client{Transport: newTransport(o.Clients * 2), Timeout: time.Minute}
	viaProduct := func(i int) (int64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+order[i], nil)
		if err != nil {
			return 0, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET %s: %s", order[i], resp.Status)
		}
		return io.Copy(io.Discard, resp.Body)
	}
	fromMinIO := func(i int) (int64, error) {
		obj, _, err := direct.Get(ctx, imageservice.TileKey(item, sha, order[i]), storage.GetOptions{})
		if err != nil {
			return 0, err
		}
		defer obj.Close()
		return io.Copy(io.Discard, obj)
	}
	e.log("exhibitions: %d random tiles of %d, %d clients each way (MinIO, product, MinIO)", o.TileGets, len(names), o.Clients)
	m1, err := timedHammer(ctx, o.TileGets, o.Clients, fromMinIO)
	if err != nil {
		return nil, err
	}
	p, err := timedHammer(ctx, o.TileGets, o.Clients, viaProduct)
	if err != nil {
		return nil, err
	}
	m2, err := timedHammer(ctx, o.TileGets, o.Clients, fromMinIO)
	if err != nil {
		return nil, err
	}
	mRate, mP99 := (m1.rate+m2.rate)/2, (m1.p99+m2.p99)/2
	r := p.rate / mRate
	return []Row{{
		Measure:  fmt.Sprintf("Random %d-px tiles, %d clients", py.Tile, o.Clients),
		Product:  fmt.Sprintf("%.0f /s (p99 %.1f ms)", p.rate, ms(p.p99)),
		Baseline: fmt.Sprintf("%.0f /s (p99 %.1f ms)", mRate, ms(mP99)),
		Ratio:    ratio(p.rate, mRate), Goal: "≥ 0.8×", Result: fmt.Sprintf("%.2f: %s", r, verdict(r >= 0.8)),
		Note: fmt.Sprintf("GET /iiif/3/{id}/{x,y,w,h}/{w,h}/0/default.jpg of a published scan as a viewer does (access check, the stored tile "+
			"from the node's tile cache, iiif.tile_cache_mib %d, or from MinIO on a miss: each of the %d tiles misses once) vs minio-go GetObject of the same "+
			"objects (mean of a run before and after)", e.cfg.IIIF.TileCacheMiB, len(names)),
	}}, nil
}

type timing struct {
	rate float64
	p99  time.Duration
}

// timedHammer runs n requests on clients goroutines and returns the requests per second and
// the 99th percentile of their latencies.
func timedHammer(ctx context.Context, n, clients int, get func(i int) (int64, error)) (timing, error) {
	var next atomic.Int64
	var firstErr atomic.Value
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				if _, err := get(i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return timing{}, err
	}
	if err := ctx.Err(); err != nil {
		return timing{}, err
	}
	took := time.Since(start).Seconds()
	return timing{rate: float64(n) / took, p99: percentile(lat, 0.99)}, nil
}
