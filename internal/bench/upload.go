package bench

import (
	"bytes"
	"context"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/media/upload"
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
	complete time.Duration // parts, then the upload completed and hashed (no attach)
	attach   time.Duration // parts, then the attach job done
	jobTime  time.Duration // the attach job as the server recorded it (created → updated)
	nParts   int
}

func measureUploads(ctx context.Context, e *env, o Options) ([]Row, error) {
	size := int64(o.UploadMiB) << 20
	path := filepath.Join(e.dir, "bench-upload.png")
	e.log("upload: writing a %d MiB test file", o.UploadMiB)
	if err := writeTestFile(path, size); err != nil {
		return nil, err
	}
	defer func() { _ = os.Remove(path) }()

	direct, err := minio.New(e.cfg.MinIO.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(e.cfg.MinIO.AccessKey, e.cfg.MinIO.SecretKey.Reveal(), ""),
	})
	if err != nil {
		return nil, err
	}
	// The product's own upload manager on the product's own MinIO client, as app.Connect
	// builds them: it completes the upload that has no attach step.
	docs, err := docstore.Connect(docstore.Options{Endpoint: e.cfg.MinIO.Endpoint, AccessKey: e.cfg.MinIO.AccessKey,
		SecretKey: e.cfg.MinIO.SecretKey.Reveal(), Bucket: e.cfg.MinIO.Bucket, Timeout: e.cfg.MinIO.Timeout})
	if err != nil {
		return nil, err
	}
	uploads := upload.New(&minio.Core{Client: docs.Client()}, upload.Options{Bucket: e.cfg.MinIO.Bucket,
		Prefix: "uploads/", MaxSize: e.cfg.Library.MaxUploadBytes})
	draft, err := e.api.createItem(ctx, "上传性能测试")
	if err != nil {
		return nil, err
	}
	put := &http.Client{Transport: newTransport(partWorkers), Timeout: 10 * time.Minute}

	// PutObject before and after the two product flows, so that drift in the machine's
	// speed shows and the baseline is the mean of both.
	e.log("upload: minio-go PutObject (1/2)")
	before, err := putObject(ctx, direct, e.cfg.MinIO.Bucket, path, size)
	if err != nil {
		return nil, err
	}
	e.log("upload: the browser's flow through the API, with the attach job")
	full, err := e.apiUpload(ctx, put, path, size, draft.ID, nil)
	if err != nil {
		return nil, err
	}
	// The attach queued the file's derivatives (a worker copies the whole file to local disk
	// and runs ffmpeg on it): let them finish, so that they do not slow the next measurements.
	derive, deriveState, err := e.api.waitDerivatives(ctx, draft.ID)
	if err != nil {
		return nil, err
	}
	e.log("upload: the browser's flow without attach (parts, then the product's Complete)")
	noAttach, err := e.apiUpload(ctx, put, path, size, "", uploads)
	if err != nil {
		return nil, err
	}
	e.log("upload: minio-go PutObject (2/2)")
	after, err := putObject(ctx, direct, e.cfg.MinIO.Bucket, path, size)
	if err != nil {
		return nil, err
	}

	e.log("upload: SHA-512 of as many bytes in memory (the floor of the server's digest)")
	sha512Time := hashInMemory(size)

	mbps := func(d time.Duration) float64 { return float64(size) / 1e6 / d.Seconds() }
	base := (mbps(before) + mbps(after)) / 2
	baseStr := fmt.Sprintf("%.0f MB/s", base)
	baseNote := fmt.Sprintf("baseline: minio-go PutObject of the same file, %d MiB parts, 4 threads, mean of %.0f (before) and %.0f MB/s (after)",
		partSize>>20, mbps(before), mbps(after))
	fullMBps := mbps(full.attach)
	return []Row{
		{
			Measure:  fmt.Sprintf("Upload %d MiB: browser flow through the API, attach included", o.UploadMiB),
			Product:  fmt.Sprintf("%.0f MB/s (%.1f s)", fullMBps, full.attach.Seconds()),
			Baseline: baseStr, Ratio: ratio(fullMBps, base), Goal: "≥ 0.9×",
			Result: fmt.Sprintf("%.2f: %s", fullMBps/base, verdict(fullMBps/base >= 0.9)),
			Note: fmt.Sprintf("POST uploads, POST urls, %d parts PUT %d at a time, POST items/{id}/files, poll the job every %v "+
				"until done (server: SHA-256+SHA-512 read, copy into the OCFL object; job took %.1f s); "+
				"each part's checksum (the session's algorithm) computed inside the timed flow, just before its PUT, as the browser does; "+
				"the derivative worker then took %.1f more seconds (%s), awaited before the next measurement; %s",
				full.nParts, partWorkers, jobPoll, full.jobTime.Seconds(), derive.Seconds(), deriveState, baseNote),
		},
		{
			Measure:  "Upload: parts + completion, no attach",
			Product:  fmt.Sprintf("%.0f MB/s (%.1f s)", mbps(noAttach.complete), noAttach.complete.Seconds()),
			Baseline: baseStr, Ratio: ratio(mbps(noAttach.complete), base), Goal: "— (for clarity)",
			Result: fmt.Sprintf("%.2f", mbps(noAttach.complete)/base),
			Note: "the same parts through the API, then the product's upload.Manager.Complete called in-process " +
				"(complete the multipart upload, one SHA-256+SHA-512 read): the API has no completion without attach",
		},
		{
			Measure:  "Upload: parts only",
			Product:  fmt.Sprintf("%.0f MB/s (%.1f s)", mbps(noAttach.parts), noAttach.parts.Seconds()),
			Baseline: baseStr, Ratio: ratio(mbps(noAttach.parts), base), Goal: "— (for clarity)",
			Result: fmt.Sprintf("%.2f", mbps(noAttach.parts)/base),
			Note:   "POST uploads, POST urls, every part PUT to its presigned URL (the same run as the row above)",
		},
		{
			Measure:  "Reference: SHA-512 of as many bytes in memory, one core",
			Product:  fmt.Sprintf("%.0f MB/s (%.1f s)", mbps(sha512Time), sha512Time.Seconds()),
			Baseline: baseStr, Ratio: ratio(mbps(sha512Time), base), Goal: "— (the floor)",
			Result: fmt.Sprintf("%.2f", mbps(sha512Time)/base),
			Note: "OCFL wants a SHA-512 of every file and the server computes it from its own read: this alone, " +
				"without any I/O, bounds a flow that hashes after the upload (the product hashes SHA-256 beside it, in parallel)",
		},
	}, nil
}

// hashInMemory is the time SHA-512 takes over size bytes already in memory.
func hashInMemory(size int64) time.Duration {
	buf := make([]byte, 4<<20)
	h := sha512.New()
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

// putObject uploads the file with minio-go straight to MinIO, then removes that version.
func putObject(ctx context.Context, c *minio.Client, bucket, path string, size int64) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	key := "bench/putobject-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	start := time.Now()
	info, err := c.PutObject(ctx, bucket, key, f, size,
		minio.PutObjectOptions{PartSize: partSize, NumThreads: partWorkers, ContentType: "image/png"})
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("PutObject: %w", err)
	}
	if err := c.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{VersionID: info.VersionID}); err != nil {
		return 0, fmt.Errorf("remove %s: %w", key, err)
	}
	return took, nil
}

// apiUpload sends the file as the browser does. With attachTo it then attaches the upload to
// that item and waits for the job; otherwise it completes the upload with m.
func (e *env) apiUpload(ctx context.Context, put *http.Client, path string, size int64, attachTo string,
	m *upload.Manager) (uploadTimes, error) {
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
	if attachTo == "" {
		file, err := m.Complete(ctx, s.ID, adminName)
		if err != nil {
			return t, fmt.Errorf("complete: %w", err)
		}
		t.complete = time.Since(start)
		if file.MediaType != "image/png" {
			return t, fmt.Errorf("completed upload detected as %q", file.MediaType)
		}
		return t, m.Remove(ctx, file.Key)
	}
	var j job
	if err := e.api.do(ctx, http.MethodPost, "/api/v1/items/"+attachTo+"/files", map[string]string{"upload_id": s.ID},
		&j, http.StatusAccepted); err != nil {
		return t, err
	}
	for j.State != "done" {
		if j.State == "failed" {
			return t, fmt.Errorf("attach job failed: %s", j.Error)
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
	t.attach = time.Since(start)
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
	ID      string    `json:"id"`
	State   string    `json:"state"`
	Error   string    `json:"error"`
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
