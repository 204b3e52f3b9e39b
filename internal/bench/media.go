package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shizuishan/culturecloud/media/transcode"
	"github.com/shizuishan/culturecloud/storage"
)

// measureMedia times the transcoding of a generated 1080p clip through the product's
// pipeline against the one ffmpeg command that makes the same ladder, then the throughput of
// its HLS segments through the product against the same objects straight from MinIO.
func measureMedia(ctx context.Context, e *env, o Options) ([]Row, error) {
	src := filepath.Join(e.dir, "bench-video.mp4")
	e.log("media: generating a %d s 1080p30 clip", o.VideoSeconds)
	gen := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-f", "lavfi", "-i", "sine=frequency=440",
		"-t", strconv.Itoa(o.VideoSeconds), "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-c:a", "aac", src)
	if out, err := gen.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("generate clip: %w: %s", err, out)
	}
	handTime, err := handTranscode(ctx, e, src)
	if err != nil {
		return nil, err
	}

	e.log("media: the same clip through the product (upload, attach, transcode job)")
	it, err := e.api.createItem(ctx, "转码基准视频")
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	put := &http.Client{Transport: newTransport(8), Timeout: 10 * time.Minute}
	if _, err := e.apiUpload(ctx, put, src, st.Size(), it.ID); err != nil {
		return nil, err
	}
	start := time.Now()
	master, err := e.api.waitMedia(ctx, it.ID)
	if err != nil {
		return nil, err
	}
	pipeTime := time.Since(start)
	// The derivative worker (poster, thumbnails) also reads the clip; let it finish so that
	// it does not share the CPU with what is timed next.
	if _, _, err := e.api.waitDerivatives(ctx, it.ID); err != nil {
		return nil, err
	}
	r := float64(pipeTime) / float64(handTime)
	rows := []Row{{
		Measure: fmt.Sprintf("Transcode a %d s 1080p clip: pipeline", o.VideoSeconds), Product: secs(pipeTime), Baseline: secs(handTime),
		Ratio: fmt.Sprintf("%.2f×", r), Goal: "≤ 1.1×", Result: fmt.Sprintf("%.2f: %s", r, verdict(r <= 1.1)),
		Note: "attach done → the item's media record says done (worker: read the source from MinIO, run the ladder, upload every output); " +
			"baseline: transcode.Command run by hand on the same file, same preset",
	}}

	// Segments: published, so that visitors fetch them as the player does.
	var cur item
	if err := e.api.do(ctx, http.MethodGet, "/api/v1/items/"+it.ID, nil, &cur, http.StatusOK); err != nil {
		return nil, err
	}
	if _, err := e.api.publish(ctx, cur); err != nil {
		return nil, err
	}
	urls, keys, err := e.api.segments(ctx, master)
	if err != nil {
		return nil, err
	}
	direct, err := e.directStore(64)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: newTransport(64), Timeout: time.Minute}
	e.log("media: %d segments, %d GETs by 50 clients each way (MinIO, product, MinIO)", len(urls), o.SegmentGets)
	fromMinIO := func(i int) (int64, error) {
		obj, _, err := direct.Get(ctx, keys[i%len(keys)], storage.GetOptions{})
		if err != nil {
			return 0, err
		}
		defer obj.Close()
		return io.Copy(io.Discard, obj)
	}
	m1, mb1, err := hammer(ctx, o.SegmentGets, fromMinIO)
	if err != nil {
		return nil, err
	}
	product, pBytes, err := hammer(ctx, o.SegmentGets, func(i int) (int64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.api.base+urls[i%len(urls)], nil)
		if err != nil {
			return 0, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("%s", resp.Status)
		}
		return io.Copy(io.Discard, resp.Body)
	})
	if err != nil {
		return nil, err
	}
	m2, mb2, err := hammer(ctx, o.SegmentGets, fromMinIO)
	if err != nil {
		return nil, err
	}
	minioRate, mBytes := (m1+m2)/2, (mb1+mb2)/2
	ratioSeg := product / minioRate
	rows = append(rows, Row{
		Measure: "HLS segments, 50 clients", Product: fmt.Sprintf("%.0f /s (%.0f MB/s)", product, pBytes/1e6),
		Baseline: fmt.Sprintf("%.0f /s (%.0f MB/s)", minioRate, mBytes/1e6), Ratio: fmt.Sprintf("%.2f×", ratioSeg),
		Goal: "≥ 0.8×", Result: fmt.Sprintf("%.2f: %s", ratioSeg, verdict(ratioSeg >= 0.8)),
		Note: "GET /api/v1/items/{id}/media/{sha}/{segment} as a player does (access check, then a redirect to a signed MinIO URL that serves the bytes), redirects followed, vs minio-go GetObject of the same objects (mean of a run before and after)",
	})
	return rows, nil
}

// handTranscode times transcode.Command run by hand on src: the baseline of the pipeline.
func handTranscode(ctx context.Context, e *env, src string) (time.Duration, error) {
	opts := transcode.Options{Preset: e.cfg.Library.TranscodePreset}
	e.log("media: the hand-written command (preset %s)", opts.Preset)
	probe, err := transcode.ProbeFile(ctx, src)
	if err != nil {
		return 0, err
	}
	outDir := filepath.Join(e.dir, "hand")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return 0, err
	}
	defer func() { _ = os.RemoveAll(outDir) }()
	start := time.Now()
	hand := exec.CommandContext(ctx, "ffmpeg", transcode.Command(src, outDir, probe, opts)...)
	var stderr bytes.Buffer
	hand.Stdout, hand.Stderr = io.Discard, &stderr // stdout carries -progress lines
	if err := hand.Run(); err != nil {
		return 0, fmt.Errorf("hand command: %w: %s", err, stderr.String())
	}
	return time.Since(start), nil
}

// waitMedia waits until the item's first media file is transcoded and returns its master URL.
func (c *apiClient) waitMedia(ctx context.Context, itemID string) (string, error) {
	for {
		var res struct {
			Files map[string]struct {
				State  string `json:"state"`
				Error  string `json:"error"`
				Master string `json:"master"`
			} `json:"files"`
		}
		if err := c.do(ctx, http.MethodGet, "/api/v1/items/"+itemID+"/media", nil, &res, http.StatusOK); err != nil {
			return "", err
		}
		for _, f := range res.Files {
			switch f.State {
			case "done":
				return f.Master, nil
			case "failed":
				return "", fmt.Errorf("transcode failed: %s", f.Error)
			}
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// segments lists every segment URL of a master playlist, with its MinIO key.
func (c *apiClient) segments(ctx context.Context, master string) ([]string, []string, error) {
	base := master[:strings.LastIndex(master, "/")+1]
	// /api/v1/items/<id>/media/<sha>/ → media/<id>/<sha>/
	parts := strings.Split(strings.Trim(base, "/"), "/")
	if len(parts) < 6 {
		return nil, nil, fmt.Errorf("unexpected media URL %s", master)
	}
	keyBase := "media/" + parts[3] + "/" + parts[5] + "/"
	var urls, keys []string
	for _, playlist := range c.uris(ctx, master) {
		for _, seg := range c.uris(ctx, base+playlist) {
			if strings.HasSuffix(seg, ".m4s") {
				urls = append(urls, base+seg)
				keys = append(keys, keyBase+seg)
			}
		}
	}
	if len(urls) == 0 {
		return nil, nil, fmt.Errorf("no segments under %s", master)
	}
	return urls, keys, nil
}

func (c *apiClient) uris(ctx context.Context, path string) []string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// hammer runs n requests on 50 goroutines and returns requests and bytes per second.
func hammer(ctx context.Context, n int, get func(i int) (int64, error)) (float64, float64, error) {
	var next, bytesRead atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range 50 {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				b, err := get(i)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				bytesRead.Add(b)
			}
		})
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return 0, 0, err
	}
	took := time.Since(start).Seconds()
	return float64(n) / took, float64(bytesRead.Load()) / took, nil
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
