package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/app"
	"github.com/shizuishan/culturecloud/internal/attach"
	"github.com/shizuishan/culturecloud/internal/jobs"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
	"github.com/shizuishan/culturecloud/media/upload"
	"github.com/shizuishan/culturecloud/storage"
)

// uploadFile sends content through the resumable flow as a browser would: start, get part
// URLs, PUT each part straight to storage with its checksum. It returns the upload id.
func (c *client) uploadFile(name string, content []byte) string {
	c.t.Helper()
	var sess struct {
		ID             string          `json:"id"`
		Parts          int             `json:"parts"`
		PartSize       int64           `json:"part_size"`
		ChecksumHeader string          `json:"checksum_header"`
		Checksum       upload.Checksum `json:"checksum_algorithm"`
	}
	c.want(http.StatusCreated, "POST", "/api/v1/uploads", map[string]any{"name": name, "size": len(content)}).json(c.t, &sess)
	parts := make([]int, sess.Parts)
	for i := range parts {
		parts[i] = i + 1
	}
	var urls struct {
		URLs map[string]string `json:"urls"`
	}
	c.want(http.StatusOK, "POST", "/api/v1/uploads/"+sess.ID+"/urls", map[string]any{"parts": parts}).json(c.t, &urls)
	for i := range parts {
		start := int64(i) * sess.PartSize
		chunk := content[start:min(start+sess.PartSize, int64(len(content)))]
		req, _ := http.NewRequest(http.MethodPut, urls.URLs[itoa(i+1)], bytes.NewReader(chunk))
		req.Header.Set(sess.ChecksumHeader, sess.Checksum.Of(chunk))
		resp, err := c.http.Do(req)
		if err != nil {
			c.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			c.t.Fatalf("part %d: %s", i+1, resp.Status)
		}
	}
	return sess.ID
}

func itoa(n int) string { return strconv.Itoa(n) }

type jobJSON struct {
	ID     string `json:"id"`
	State  string `json:"state"`
	Error  string `json:"error"`
	Result struct {
		Version string `json:"version"`
		File    struct {
			Path   string `json:"path"`
			SHA256 string `json:"sha256"`
		} `json:"file"`
	} `json:"result"`
}

func (c *client) attach(itemID, uploadID string) jobJSON {
	c.t.Helper()
	var job jobJSON
	c.want(http.StatusAccepted, "POST", "/api/v1/items/"+itemID+"/files", map[string]any{"upload_id": uploadID}).json(c.t, &job)
	testwait.Until(c.t, "the attach job finishes", func() bool {
		c.want(http.StatusOK, "GET", "/api/v1/jobs/"+job.ID, nil).json(c.t, &job)
		return job.State == "done" || job.State == "failed"
	})
	return job
}

// pngBytes is a real PNG image (so that thumbnails can be made of it) padded to about n bytes
// with noise.
func pngBytes(n int) []byte {
	side := 64
	for side*side*3 < n && side < 2048 {
		side *= 2
	}
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = byte(i*7 + i/13)
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

func TestUploadAttachServeAndCount(t *testing.T) {
	srv := startServer(t)
	_, dwk, hn := staffClients(t, srv)
	it := dwk.createItem(sampleItem("石炭井矿区旧照", map[string]any{"theme": "industrial"}))

	content := pngBytes(300_000)
	job := dwk.attach(it.ID, dwk.uploadFile("石炭井 1965.png", content))
	want := sha256.Sum256(content)
	if job.State != "done" || job.Result.File.SHA256 != hex.EncodeToString(want[:]) {
		t.Fatalf("attach job %+v", job)
	}

	// The worker makes thumbnails; staff and (once published) visitors get them.
	var der struct {
		Files map[string]struct {
			State   string `json:"state"`
			Error   string `json:"error"`
			Outputs []struct {
				Name  string `json:"name"`
				Width int    `json:"width"`
				URL   string `json:"url"`
			} `json:"outputs"`
		} `json:"files"`
	}
	testwait.Until(t, "thumbnails are made", func() bool {
		dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID+"/derivatives", nil).json(t, &der)
		st := der.Files[job.Result.File.Path]
		return st.State == "done" || st.State == "failed"
	})
	st := der.Files[job.Result.File.Path]
	if st.State != "done" || len(st.Outputs) != 3 {
		t.Fatalf("derivatives %+v", st)
	}
	thumb := dwk.want(http.StatusOK, "GET", st.Outputs[0].URL, nil)
	if thumb.header.Get("Content-Type") != "image/jpeg" || len(thumb.body) < 100 {
		t.Fatalf("thumbnail %s %d bytes", thumb.header.Get("Content-Type"), len(thumb.body))
	}
	newClient(t, srv.URL).want(http.StatusNotFound, "GET", st.Outputs[0].URL, nil) // draft: not public

	// A file that lies about its type is refused at once, the upload is gone, and the item
	// is unchanged.
	liar := dwk.uploadFile("photo.jpg", []byte("\x7fELF\x02\x01\x01 pretending to be a photo"))
	p := dwk.want(http.StatusUnprocessableEntity, "POST", "/api/v1/items/"+it.ID+"/files", map[string]any{"upload_id": liar}).problem(t)
	if e := p["errors"].([]any)[0].(map[string]any); e["field"] != "file" || e["code"] != "file_type" {
		t.Fatalf("lying file: %v", p)
	}
	dwk.want(http.StatusNotFound, "GET", "/api/v1/uploads/"+liar, nil)
	var cur struct {
		Version string `json:"version"`
		Files   []struct {
			Path string `json:"path"`
		} `json:"files"`
	}
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID, nil).json(t, &cur)
	if len(cur.Files) != 1 || cur.Version != job.Result.Version {
		t.Fatalf("item after the refused file: %+v", cur)
	}

	// Another district's librarian cannot attach (and is told whose the item is), nor see the upload.
	other := hn.uploadFile("x.png", pngBytes(1000))
	hn.want(http.StatusForbidden, "POST", "/api/v1/items/"+it.ID+"/files", map[string]any{"upload_id": other})
	dwk.want(http.StatusNotFound, "GET", "/api/v1/uploads/"+other, nil)

	// Drafts' files are not public; published ones are, with byte ranges.
	anon := newClient(t, srv.URL)
	path := "/api/v1/items/" + it.ID + "/files/" + job.Result.File.Path
	anon.want(http.StatusNotFound, "GET", path, nil)
	var item itemJSON
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID, nil).json(t, &item)
	dwk.publish(item)
	r := anon.want(http.StatusPartialContent, "GET", path, nil, "Range", "bytes=0-7")
	if !bytes.Equal(r.body, content[:8]) || r.header.Get("Content-Type") != "image/png" {
		t.Fatalf("range answer %q %s", r.body, r.header.Get("Content-Type"))
	}
	var thumb480 string
	for _, o := range st.Outputs {
		if o.Name == "thumb-480.jpg" {
			thumb480 = o.URL
		}
	}
	testwait.Until(t, "search shows the thumbnail", func() bool {
		res := anon.search("q=" + url.QueryEscape("石炭井"))
		return len(res.Hits) == 1 && thumb480 != "" && res.Hits[0].Thumb == thumb480
	})
	full := anon.want(http.StatusOK, "GET", path, nil)
	if !bytes.Equal(full.body, content) {
		t.Fatal("served bytes differ from the upload")
	}

	// Views: one per visitor per window; a second visitor counts.
	var v struct {
		Counted bool `json:"counted"`
		Stats   struct {
			Total, Unique, Today int64
		} `json:"stats"`
	}
	anon.want(http.StatusOK, "POST", "/api/v1/items/"+it.ID+"/views", nil).json(t, &v)
	if !v.Counted || v.Stats.Total != 1 || v.Stats.Today != 1 {
		t.Fatalf("first view: %+v", v)
	}
	anon.want(http.StatusOK, "POST", "/api/v1/items/"+it.ID+"/views", nil).json(t, &v)
	if v.Counted || v.Stats.Total != 1 {
		t.Fatalf("second view by the same visitor counted: %+v", v)
	}
	before := v.Stats.Total
	newClient(t, srv.URL).want(http.StatusOK, "POST", "/api/v1/items/"+it.ID+"/views", nil, "User-Agent", "another browser").json(t, &v)
	if !v.Counted || v.Stats.Total != before+1 {
		t.Fatalf("a new visitor did not count: %+v (before %d)", v, before)
	}
	var trend struct {
		Items []struct{ ID string } `json:"items"`
	}
	anon.want(http.StatusOK, "GET", "/api/v1/trending", nil).json(t, &trend)
	if len(trend.Items) == 0 || trend.Items[0].ID != it.ID {
		t.Fatalf("trending %+v", trend)
	}
	_ = io.Discard
}

func TestAttachWithAMissingPartIsRefused(t *testing.T) {
	srv := startServer(t)
	_, dwk, _ := staffClients(t, srv)
	it := dwk.createItem(sampleItem("缺片测试", nil))
	var sess struct {
		ID       string `json:"id"`
		Parts    int    `json:"parts"`
		PartSize int64  `json:"part_size"`
	}
	content := pngBytes(1000)
	size := 16<<20 + len(content) // two parts with the default part size
	dwk.want(http.StatusCreated, "POST", "/api/v1/uploads", map[string]any{"name": "big.png", "size": size}).json(t, &sess)
	if sess.Parts != 2 {
		t.Fatalf("parts %d", sess.Parts)
	}
	p := dwk.want(http.StatusUnprocessableEntity, "POST", "/api/v1/items/"+it.ID+"/files", map[string]any{"upload_id": sess.ID}).problem(t)
	errs := p["errors"].([]any)
	if errs[0].(map[string]any)["field"] != "parts" || !strings.Contains(errs[0].(map[string]any)["message"].(string), "1 2") {
		t.Fatalf("problem %v", p)
	}
	// Nothing changed: the item has no file, the upload is still there to be finished.
	var cur struct {
		Version string `json:"version"`
		Files   []any  `json:"files"`
	}
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID, nil).json(t, &cur)
	if cur.Version != it.Version || len(cur.Files) != 0 {
		t.Fatalf("item changed: %+v", cur)
	}
	dwk.want(http.StatusOK, "GET", "/api/v1/uploads/"+sess.ID, nil)
	dwk.want(http.StatusNoContent, "DELETE", "/api/v1/uploads/"+sess.ID, nil)
	dwk.want(http.StatusNotFound, "GET", "/api/v1/uploads/"+sess.ID, nil)
}

// TestAttachIsOncePerUpload: the answer to attaching means the upload is stored and checked;
// asking again (a retry after a lost answer), even after the job is done, returns the same
// job and adds the file once; the upload can then be neither cancelled nor attached to
// another item, and a console that comes back to it is told the job.
func TestAttachIsOncePerUpload(t *testing.T) {
	srv := startServer(t)
	_, dwk, _ := staffClients(t, srv)
	it := dwk.createItem(sampleItem("贺兰山岩画拓片", nil))
	other := dwk.createItem(sampleItem("另一个条目", nil))
	up := dwk.uploadFile("岩画.png", pngBytes(50_000))

	// Four requests at once (a double click, a retry racing the first): one job.
	answers := make([]jobJSON, 4)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() {
			r := dwk.do("POST", "/api/v1/items/"+it.ID+"/files", map[string]any{"upload_id": up})
			if r.status != http.StatusAccepted {
				t.Errorf("concurrent attach %d: %d %s", i, r.status, r.body)
				return
			}
			r.json(t, &answers[i])
		})
	}
	wg.Wait()
	for _, a := range answers {
		if a.ID == "" || a.ID != answers[0].ID {
			t.Fatalf("concurrent attach requests got jobs %+v, want one", answers)
		}
	}
	first := answers[0]
	var again jobJSON
	testwait.Until(t, "the attach job finishes", func() bool {
		dwk.want(http.StatusOK, "GET", "/api/v1/jobs/"+first.ID, nil).json(t, &first)
		return first.State == "done" || first.State == "failed"
	})
	if first.State != "done" {
		t.Fatalf("job %+v", first)
	}
	dwk.want(http.StatusAccepted, "POST", "/api/v1/items/"+it.ID+"/files", map[string]any{"upload_id": up}).json(t, &again)
	if again.ID != first.ID || again.State != "done" {
		t.Fatalf("asking again gave job %+v, want %s (done)", again, first.ID)
	}
	var view struct {
		Job string `json:"job"`
	}
	dwk.want(http.StatusOK, "GET", "/api/v1/uploads/"+up, nil).json(t, &view)
	if view.Job != first.ID {
		t.Fatalf("GET upload says job %q, want %s", view.Job, first.ID)
	}
	for _, r := range []struct{ method, path string }{
		{"POST", "/api/v1/items/" + other.ID + "/files"},
		{"DELETE", "/api/v1/uploads/" + up},
	} {
		p := dwk.want(http.StatusUnprocessableEntity, r.method, r.path, map[string]any{"upload_id": up}).problem(t)
		if e := p["errors"].([]any)[0].(map[string]any); e["field"] != "upload" || e["code"] != "upload_attached" {
			t.Fatalf("%s %s: %v", r.method, r.path, p)
		}
	}
	var cur struct {
		Files []struct {
			Path string `json:"path"`
		} `json:"files"`
	}
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID, nil).json(t, &cur)
	if len(cur.Files) != 1 {
		t.Fatalf("files after two attach requests: %+v", cur.Files)
	}
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+other.ID, nil).json(t, &cur)
	if len(cur.Files) != 0 {
		t.Fatalf("the other item got a file: %+v", cur.Files)
	}
}

// TestAttachRecovers: the states a crash or an outage can leave between the request and the
// job (made here with the product's own stores, no worker event appended) end, on the next
// request, in exactly one file; a failed job's upload can be tried again or cancelled.
func TestAttachRecovers(t *testing.T) {
	srv := startServer(t)
	_, dwk, _ := staffClients(t, srv)
	core := connectCore(t, srv)
	ctx := context.Background()

	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, item, upload, owner string) string // returns the job it made
		cancel  bool                                                  // DELETE instead of attaching again
		sameJob bool                                                  // the request answers with the prepared job
		after   func(t *testing.T, prepared string)                   // more to check, if anything
	}{
		{name: "sealed, the request died before the claim",
			prepare: func(t *testing.T, _, up, owner string) string {
				if _, err := core.Uploads.Seal(ctx, up, owner); err != nil {
					t.Fatal(err)
				}
				// A console coming back is told that every part is stored.
				var view struct {
					Size     int64 `json:"size"`
					Sealed   bool  `json:"sealed"`
					Uploaded []struct {
						Number int   `json:"number"`
						Size   int64 `json:"size"`
					} `json:"uploaded"`
				}
				dwk.want(http.StatusOK, "GET", "/api/v1/uploads/"+up, nil).json(t, &view)
				if !view.Sealed || len(view.Uploaded) != 1 || view.Uploaded[0].Number != 1 || view.Uploaded[0].Size != view.Size {
					t.Fatalf("GET a sealed upload: %+v", view)
				}
				return ""
			}},
		{name: "claimed, the request died before the job", sameJob: true,
			prepare: func(t *testing.T, item, up, owner string) string {
				id, _ := claimed(t, core, item, up, owner, false)
				return id
			}},
		{name: "claimed long ago, the request died before the job",
			prepare: func(t *testing.T, item, up, owner string) string {
				id, _ := claimed(t, core, item, up, owner, false)
				backdateClaim(t, core, srv.Config.MinIO.Bucket, up, time.Hour)
				return id
			},
			after: func(t *testing.T, prepared string) {
				// The claim's job is recorded as failed, so its request can never record it.
				j, err := core.Jobs.Get(ctx, prepared)
				if err != nil || j.State != jobs.Failed || j.Error == "" {
					t.Errorf("the abandoned claim's job: %+v, %v; want failed with a reason", j, err)
				}
			}},
		{name: "job queued, its event lost", sameJob: true,
			prepare: func(t *testing.T, item, up, owner string) string {
				id, _ := claimed(t, core, item, up, owner, true)
				return id
			}},
		{name: "the worker died after adding the file", sameJob: true,
			prepare: func(t *testing.T, item, up, owner string) string {
				id, sealed := claimed(t, core, item, up, owner, true)
				// What the worker did before it died: hashed (kept in the job), added the file.
				f, err := core.Uploads.Hash(ctx, sealed, upload.BothDigests(), nil)
				if err != nil {
					t.Fatal(err)
				}
				progress, _ := json.Marshal(map[string]any{"completed": f})
				if err := core.Jobs.Update(ctx, id, func(j *jobs.Job) { j.Result = progress }); err != nil {
					t.Fatal(err)
				}
				actor, err := core.Accounts.Store().Get(ctx, owner)
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := core.Library.AddCompleted(ctx, actor, item, f, core.Uploads); err != nil {
					t.Fatal(err)
				}
				return id
			}},
		{name: "job failed: try again", prepare: failedJob(core)},
		{name: "job failed: cancel", cancel: true, prepare: failedJob(core)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := dwk.createItem(sampleItem("恢复测试 "+tc.name, nil))
			up := dwk.uploadFile("恢复.png", pngBytes(30_000))
			var sess struct {
				Owner string `json:"owner"`
			}
			dwk.want(http.StatusOK, "GET", "/api/v1/uploads/"+up, nil).json(t, &sess)
			prepared := tc.prepare(t, it.ID, up, sess.Owner)
			if tc.cancel {
				dwk.want(http.StatusNoContent, "DELETE", "/api/v1/uploads/"+up, nil)
				dwk.want(http.StatusNotFound, "GET", "/api/v1/uploads/"+up, nil)
				return
			}
			job := dwk.attach(it.ID, up)
			if job.State != "done" || (job.ID == prepared) != tc.sameJob {
				t.Fatalf("job %+v; prepared %s, same job wanted: %v", job, prepared, tc.sameJob)
			}
			var cur struct {
				Files []any `json:"files"`
			}
			dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID, nil).json(t, &cur)
			if len(cur.Files) != 1 {
				t.Fatalf("files: %+v", cur.Files)
			}
			if tc.after != nil {
				tc.after(t, prepared)
			}
		})
	}
}

// claimed seals an upload and claims it for a new job id, as the attach request does; with
// record it also records the job (queued, with no event appended: no worker runs it).
func claimed(t *testing.T, core *app.Core, item, up, owner string, record bool) (string, *upload.Sealed) {
	t.Helper()
	ctx := context.Background()
	sealed, err := core.Uploads.Seal(ctx, up, owner)
	if err != nil {
		t.Fatal(err)
	}
	id := jobs.NewID()
	if _, err := core.Uploads.Claim(ctx, up, owner, id); err != nil {
		t.Fatal(err)
	}
	if record {
		if _, _, err := core.Jobs.CreateOnce(ctx, id, "attach", owner, attach.Job{Item: item, Upload: up, Sealed: sealed}); err != nil {
			t.Fatal(err)
		}
	}
	return id, sealed
}

// backdateClaim moves the session's claim back by age, as if its request had died that long
// ago (the session is a JSON document in MinIO).
func backdateClaim(t *testing.T, core *app.Core, bucket, up string, age time.Duration) {
	t.Helper()
	ctx := context.Background()
	key := "uploads/sessions/" + up + ".json"
	obj, _, err := core.Docs.Objects().Get(ctx, key, storage.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	err = json.NewDecoder(obj).Decode(&doc)
	obj.Close()
	if err != nil || doc["claimed_by"] == nil {
		t.Fatalf("session %v: %v", doc, err)
	}
	doc["claimed_at"] = time.Now().Add(-age).UTC().Format(time.RFC3339Nano)
	data, _ := json.Marshal(doc)
	if _, err := core.Docs.Objects().PutBytes(ctx, key, data, storage.PutOptions{ContentType: "application/json"}); err != nil {
		t.Fatal(err)
	}
}

// failedJob prepares an upload claimed by an attach job that failed.
func failedJob(core *app.Core) func(t *testing.T, item, up, owner string) string {
	return func(t *testing.T, item, up, owner string) string {
		id, _ := claimed(t, core, item, up, owner, true)
		if err := core.Jobs.Fail(context.Background(), id, "MinIO read failed"); err != nil {
			t.Fatal(err)
		}
		return id
	}
}

// TestUploadQuota: a staff account may hold library.max_open_uploads open uploads and
// library.max_open_upload_bytes declared bytes (429 with Retry-After past them; cancelling
// frees its share); administrators are exempt; a part URL takes no more bytes than declared.
func TestUploadQuota(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	cfg.Library.MaxUploadBytes = 8 << 20
	cfg.Library.MaxOpenUploads, cfg.Library.MaxOpenUploadBytes = 2, 12<<20
	srv := testenv.StartServer(t, cfg)
	admin, dwk, _ := staffClients(t, srv)
	start := func(c *client, size int64, want int) string {
		t.Helper()
		var sess struct {
			ID string `json:"id"`
		}
		r := c.want(want, "POST", "/api/v1/uploads", map[string]any{"name": "photo.png", "size": size})
		if want == http.StatusCreated {
			r.json(t, &sess)
		} else if r.header.Get("Retry-After") == "" || r.problem(t)["status"] != float64(http.StatusTooManyRequests) {
			t.Fatalf("quota answer without Retry-After: %s", r.body)
		}
		return sess.ID
	}
	first := start(dwk, 8<<20, http.StatusCreated)
	start(dwk, 5<<20, http.StatusTooManyRequests) // 13 MiB declared > 12 MiB
	second := start(dwk, 4<<20, http.StatusCreated)
	start(dwk, 1, http.StatusTooManyRequests) // a third open upload
	for range 3 {
		start(admin, 8<<20, http.StatusCreated)
	}
	dwk.want(http.StatusNoContent, "DELETE", "/api/v1/uploads/"+first, nil)
	start(dwk, 8<<20, http.StatusCreated)

	// The part URL is signed for the declared length.
	var urls struct {
		URLs map[string]string `json:"urls"`
	}
	dwk.want(http.StatusOK, "POST", "/api/v1/uploads/"+second+"/urls", map[string]any{"parts": []int{1}}).json(t, &urls)
	req, _ := http.NewRequest(http.MethodPut, urls.URLs["1"], bytes.NewReader(make([]byte, 6<<20)))
	resp, err := testenv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		t.Fatalf("storage took 6 MiB for a part declared as 4 MiB: %s", resp.Status)
	}
}

// connectCore connects the product's own stores to the services of srv, for tests that make
// or inspect states the API cannot (crashes, objects written the old way); closed at the end.
func connectCore(t *testing.T, srv *testenv.Server) *app.Core {
	t.Helper()
	core, err := app.Connect(srv.Config, app.NewLogger(srv.Config.Log, testenv.LogWriter(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(core.Close)
	return core
}
