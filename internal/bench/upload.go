package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shizuishan/culturecloud/media/upload"
	"github.com/shizuishan/culturecloud/storage"
)

const (
	// partSize is the product's part size (the media/upload default), used by PutObject too.
	partSize = 16 << 20
	// partWorkers is how many parts the browser sends at once.
	partWorkers = 4
	// jobPoll is how often the job is polled: the browser waits 0.5–3 s between polls, but
	// here the server's work is measured, not the browser's patience.
	jobPoll = 20 * time.Millisecond
)

// session is the answer to POST /api/v1/uploads.
type session struct {
	ID       string          `json:"id"`
	PartSize int64           `json:"part_size"`
	Parts    int             `json:"parts"`
	Size     int64           `json:"size"`
	Checksum upload.Checksum `json:"checksum_algorithm"`
}

func (s session) partLength(n int) int64 {
	if n < s.Parts {
		return s.PartSize
	}
	return s.Size - int64(s.Parts-1)*s.PartSize
}

// uploadTimes are the stages of one upload through the API, each from the first request.
type uploadTimes struct {
	parts    time.Duration // create, part URLs, every part PUT
	accepted time.Duration // parts, then POST items/{id}/files answered 202: sealed (stored, type checked), job queued
	hashed   time.Duration // the job has the whole file's digest (SHA-256 for new objects, decision 0038)
	attached time.Duration // the job is done: the file is preserved in the item's OCFL object
	jobTime  time.Duration // the job as the server recorded it (created → updated)
	nParts   int
}

// flowRuns is how many times the API flow runs; each stage is reported as their mean.
const flowRuns = 2

func measureUploads(ctx context.Context, e *env, o Options) ([]Row, error) {
	size := int64(o.UploadMiB) << 20
	path := filepath.Join(e.dir, "bench-upload.png")
	e.log("upload: writing a %d MiB test file", o.UploadMiB)
	if err := writeTestFile(path, size); err != nil {
		return nil, err
	}
	defer func() { _ = os.Remove(path) }()

	direct, err := e.directStore(0)
	if err != nil {
		return nil, err
	}
	put := &http.Client{Transport: newTransport(partWorkers), Timeout: 10 * time.Minute}

	// PutObject before and after the product's flows, so that drift in the machine's speed
	// shows and the baseline is the mean of both.
	e.log("upload: minio-go PutObject (1/2)")
	before, err := putObject(ctx, direct, path, size)
	if err != nil {
		return nil, err
	}
	var runs []uploadTimes
	var derive []string
	for i := range flowRuns {
		draft, err := e.api.createItem(ctx, fmt.Sprintf("上传性能测试 %d", i+1))
		if err != nil {
			return nil, err
		}
		e.log("upload: the browser's flow through the API (%d/%d)", i+1, flowRuns)
		t, err := e.apiUpload(ctx, put, path, size, draft.ID)
		if err != nil {
			return nil, err
		}
		runs = append(runs, t)
		// The attach queued the file's derivatives (a worker copies the whole file to local
		// disk and runs ffmpeg on it): let them finish, so that they do not slow what follows.
		took, state, err := e.api.waitDerivatives(ctx, draft.ID)
		if err != nil {
			return nil, err
		}
		derive = append(derive, fmt.Sprintf("%.1f s (%s)", took.Seconds(), state))
	}
	e.log("upload: minio-go PutObject (2/2)")
	after, err := putObject(ctx, direct, path, size)
	if err != nil {
		return nil, err
	}

	e.log("upload: SHA-256 of as many bytes in memory (the floor of the server's digest)")
	digestTime := hashInMemory(size)

	mbps := func(d time.Duration) float64 { return float64(size) / 1e6 / d.Seconds() }
	base := (mbps(before) + mbps(after)) / 2
	baseStr := fmt.Sprintf("%.0f MB/s", base)
	baseNote := fmt.Sprintf("baseline: minio-go PutObject of the same file, %d MiB parts, 4 threads, mean of %.0f (before) and %.0f MB/s (after)",
		partSize>>20, mbps(before), mbps(after))
	// stage is one stage's mean time over the runs, with each run's time for the note.
	stage := func(of func(uploadTimes) time.Duration) (time.Duration, string) {
		var sum time.Duration
		var each []string
		for _, r := range runs {
			sum += of(r)
			each = append(each, fmt.Sprintf("%.2f", of(r).Seconds()))
		}
		return sum / time.Duration(len(runs)), "runs: " + strings.Join(each, ", ") + " s"
	}
	row := func(measure string, d time.Duration, runsNote, goal, note string) Row {
		r := Row{Measure: measure, Product: fmt.Sprintf("%.0f MB/s (%.1f s)", mbps(d), d.Seconds()),
			Baseline: baseStr, Ratio: ratio(mbps(d), base), Goal: "— (for clarity)",
			Result: fmt.Sprintf("%.2f", mbps(d)/base), Note: note + "; " + runsNote}
		if goal != "" {
			r.Goal = goal
			r.Result = fmt.Sprintf("%.2f: %s", mbps(d)/base, verdict(mbps(d)/base >= 0.9))
		}
		return r
	}
	accepted, acceptedRuns := stage(func(t uploadTimes) time.Duration { return t.accepted })
	hashed, hashedRuns := stage(func(t uploadTimes) time.Duration { return t.hashed })
	attached, attachedRuns := stage(func(t uploadTimes) time.Duration { return t.attached })
	parts, partsRuns := stage(func(t uploadTimes) time.Duration { return t.parts })
	job, jobRuns := stage(func(t uploadTimes) time.Duration { return t.jobTime })
	return []Row{
		row(fmt.Sprintf("Upload %d MiB through the API: parts + completion", o.UploadMiB), accepted, acceptedRuns, "≥ 0.9×",
			fmt.Sprintf("mean of %d runs of the browser's flow: POST uploads, POST urls, %d parts PUT %d at a time, each with "+
				"its checksum computed just before its PUT (as the browser does) and verified by MinIO; then POST items/{id}/files "+
				"answered 202: every part present, the multipart upload completed, the type checked from the first bytes, the "+
				"job queued. The file is stored; hashing and preserving follow in the job (the next rows); %s",
				flowRuns, runs[0].nParts, partWorkers, baseNote)),
		row("Upload: … + the job has hashed the whole file", hashed, hashedRuns, "",
			fmt.Sprintf("the same runs, until the attach job holds the file's SHA-256 (the digest of new OCFL objects, decision 0038) from one read (polled every %v)", jobPoll)),
		row("Upload: … + the job has preserved it in the item's OCFL object", attached, attachedRuns, "≥ 0.9× (issue 12)",
			fmt.Sprintf("the same runs, until the attach job is done (the server-side copy into the OCFL object and the new "+
				"version; the job took %.1f s, %s); derivatives then took %s, awaited before the next run",
				job.Seconds(), jobRuns, strings.Join(derive, ", "))),
		row("Upload: parts only", parts, partsRuns, "", "POST uploads, POST urls, every part PUT to its presigned URL (the same runs)"),
		{
			Measure:  "Reference: SHA-256 of as many bytes in memory, one core",
			Product:  fmt.Sprintf("%.0f MB/s (%.1f s)", mbps(digestTime), digestTime.Seconds()),
			Baseline: baseStr, Ratio: ratio(mbps(digestTime), base), Goal: "— (the floor)",
			Result: fmt.Sprintf("%.2f", mbps(digestTime)/base),
			Note: "new OCFL objects record a SHA-256 of every file, computed by the server from its own read: this alone, " +
				"without any I/O, bounds the hashing row",
		},
	}, nil
}

// hashInMemory is the time SHA-256 takes over size bytes already in memory.
func hashInMemory(size int64) time.Duration {
	buf := make([]byte, 4<<20)
	h := sha256.New()
	start := time.Now()
	for done := int64(0); done < size; done += int64(len(buf)) {
		h.Write(buf[:min(int64(len(buf)), size-done)])
	}
	h.Sum(nil)
	return time.Since(start)
}

// writeTestFile writes size random bytes that start like a PNG (an allowed type).
func writeTestFile(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	src := rand.NewChaCha8([32]byte{'c', 'c'})
	buf := make([]byte, 1<<20)
	for written := int64(0); written < size; {
		n := int(min(int64(len(buf)), size-written))
		_, _ = src.Read(buf[:n])
		if written == 0 {
			copy(buf, "\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR")
		}
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			return err
		}
		written += int64(n)
	}
	return f.Close()
}

// putObject uploads the file with minio-go's PutObject (through the storage adapter, which
// only maps its errors) straight to MinIO, then removes that version.
func putObject(ctx context.Context, direct *storage.Store, path string, size int64) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	key := "bench/putobject-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	start := time.Now()
	info, err := direct.Put(ctx, key, f, size, storage.PutOptions{PartSize: partSize, Threads: partWorkers, ContentType: "image/png"})
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("PutObject: %w", err)
	}
	if err := direct.Remove(ctx, key, info.VersionID); err != nil {
		return 0, fmt.Errorf("remove %s: %w", key, err)
	}
	return took, nil
}

// apiUpload sends the file as the browser does, attaches it to the item and follows the job.
func (e *env) apiUpload(ctx context.Context, put *http.Client, path string, size int64, attachTo string) (uploadTimes, error) {
	f, err := os.Open(path)
	if err != nil {
		return uploadTimes{}, err
	}
	defer f.Close()
	var t uploadTimes
	start := time.Now()
	var s session
	if err := e.api.do(ctx, http.MethodPost, "/api/v1/uploads", map[string]any{"name": "bench-upload.png", "size": size},
		&s, http.StatusCreated); err != nil {
		return t, err
	}
	t.nParts = s.Parts
	if err := e.sendParts(ctx, put, f, s); err != nil {
		return t, err
	}
	t.parts = time.Since(start)
	var j job
	if err := e.api.do(ctx, http.MethodPost, "/api/v1/items/"+attachTo+"/files", map[string]string{"upload_id": s.ID},
		&j, http.StatusAccepted); err != nil {
		return t, err
	}
	t.accepted = time.Since(start)
	for j.State != "done" {
		if j.State == "failed" {
			return t, fmt.Errorf("attach job failed: %s", j.Error)
		}
		if t.hashed == 0 && j.Result.Completed != nil {
			t.hashed = time.Since(start)
		}
		select {
		case <-ctx.Done():
			return t, ctx.Err()
		case <-time.After(jobPoll):
		}
		if err := e.api.do(ctx, http.MethodGet, "/api/v1/jobs/"+j.ID, nil, &j, http.StatusOK); err != nil {
			return t, err
		}
	}
	t.attached = time.Since(start)
	if t.hashed == 0 { // hashed and attached between two polls
		t.hashed = t.attached
	}
	t.jobTime = j.Updated.Sub(j.Created)
	return t, nil
}

// waitDerivatives waits until no file of the item has derivatives pending, and says how
// long that took and how it ended.
func (c *apiClient) waitDerivatives(ctx context.Context, itemID string) (time.Duration, string, error) {
	start := time.Now()
	for {
		var res struct {
			Files map[string]struct {
				State string `json:"state"`
			} `json:"files"`
		}
		if err := c.do(ctx, http.MethodGet, "/api/v1/items/"+itemID+"/derivatives", nil, &res, http.StatusOK); err != nil {
			return 0, "", err
		}
		pending, state := false, ""
		for _, f := range res.Files {
			if f.State == "pending" || f.State == "running" {
				pending = true
			}
			state = f.State
		}
		if !pending {
			return time.Since(start), state, nil
		}
		if time.Since(start) > 10*time.Minute {
			return 0, "", errors.New("derivatives still pending after 10 minutes")
		}
		select {
		case <-ctx.Done():
			return 0, "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

type job struct {
	ID     string `json:"id"`
	State  string `json:"state"`
	Error  string `json:"error"`
	Result struct {
		Completed *struct{} `json:"completed"` // the hashed file, once the job has it
	} `json:"result"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// sendParts PUTs every part to its presigned URL, partWorkers at a time, asking for URLs in
// batches of up to 100 when a part needs one (as library.js does). Each worker reads its part
// into its own buffer: at most partWorkers parts are in memory.
func (e *env) sendParts(ctx context.Context, put *http.Client, f *os.File, s session) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	urls := map[int]string{}
	urlFor := func(p int) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if u, ok := urls[p]; ok {
			return u, nil
		}
		var want []int
		for n := p; n <= s.Parts && len(want) < 100; n++ {
			if _, ok := urls[n]; !ok {
				want = append(want, n)
			}
		}
		var res struct {
			URLs map[string]string `json:"urls"`
		}
		if err := e.api.do(ctx, http.MethodPost, "/api/v1/uploads/"+s.ID+"/urls", map[string]any{"parts": want},
			&res, http.StatusOK); err != nil {
			return "", err
		}
		for k, v := range res.URLs {
			n, err := strconv.Atoi(k)
			if err != nil {
				return "", fmt.Errorf("part URL for %q", k)
			}
			urls[n] = v
		}
		if urls[p] == "" {
			return "", fmt.Errorf("no URL for part %d", p)
		}
		return urls[p], nil
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(partWorkers, s.Parts) {
		wg.Go(func() {
			buf := make([]byte, s.PartSize)
			for p := range next {
				if err := sendPart(ctx, put, f, s, p, buf, urlFor); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for p := 1; p <= s.Parts; p++ {
		select {
		case next <- p:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

func sendPart(ctx context.Context, put *http.Client, f *os.File, s session, p int, buf []byte,
	urlFor func(int) (string, error)) error {
	if ctx.Err() != nil {
		return nil
	}
	chunk := buf[:s.partLength(p)]
	if _, err := f.ReadAt(chunk, int64(p-1)*s.PartSize); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	sum := s.Checksum.Of(chunk)
	u, err := urlFor(p)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, bytes.NewReader(chunk))
	if err != nil {
		return err
	}
	req.ContentLength = int64(len(chunk))
	req.Header.Set(s.Checksum.Header(), sum)
	resp, err := put.Do(req)
	if err != nil {
		return fmt.Errorf("PUT part %d: %w", p, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT part %d: HTTP %d: %s", p, resp.StatusCode, body)
	}
	return nil
}
