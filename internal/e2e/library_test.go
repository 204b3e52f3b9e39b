package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shizuishan/culturecloud/internal/app"
	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
	"github.com/shizuishan/culturecloud/media/upload"
	"github.com/shizuishan/culturecloud/storage"
)

// visitorBrowser starts a browser of its own with a user agent of its own: a visitor on
// another device, with no cookies of the others.
func visitorBrowser(t *testing.T, userAgent string) context.Context {
	t.Helper()
	return newBrowser(t, chromedp.UserAgent(userAgent))
}

// createLibrarian creates a librarian of 大武口区图书馆 through the API, as the admin.
func createLibrarian(t *testing.T, base, name, password string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := testenv.Client()
	hc.Jar = jar
	send := func(method, path, csrf string, body any) *http.Response {
		b, _ := json.Marshal(body)
		req, err := http.NewRequest(method, base+path, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := send("POST", "/api/v1/auth/login", "", map[string]string{"name": testenv.AdminName, "password": testenv.AdminPassword})
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	err := json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || login.CSRF == "" {
		t.Fatalf("admin login: %d %v", resp.StatusCode, err)
	}
	resp = send("POST", "/api/v1/accounts", login.CSRF, map[string]string{
		"name": name, "display_name": "高馆员", "password": password, "role": "librarian", "unit": "dwk-library"})
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create librarian: %d", resp.StatusCode)
	}
}

// testFiles writes a small PNG and a text file.
func testFiles(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{R: uint8(x * 4), G: uint8(y * 5), B: 120, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	pngPath := filepath.Join(dir, "meikuang.png")
	txtPath := filepath.Join(dir, "koushu.txt")
	if err := os.WriteFile(pngPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(txtPath, []byte("石炭井老矿工口述记录。\nOral history of a Shitanjing miner.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{pngPath, txtPath}
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shot := get(t, ctx, "screenshot", chromedp.FullScreenshot(100))
	path := filepath.Join(artifactsDir(t), name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// findInSearch opens /memory?q=query until the item is listed (indexing takes a moment).
func findInSearch(t *testing.T, ctx context.Context, base, query, id string) {
	t.Helper()
	testwait.Within(t, fmt.Sprintf("search for %q finds %s", query, id), 45*time.Second, func() bool {
		do(t, ctx, "search "+query, chromedp.Navigate(base+"/memory?lang=zh-CN&q="+url.QueryEscape(query)), chromedp.WaitReady(chromedp.ID("memory-q")))
		return get(t, ctx, "result link", chromedp.Evaluate[bool](fmt.Sprintf(`!!document.querySelector('#hits a[href="/memory/items/%s"]')`, id)))
	})
}

// checkPlainHTTP asks for pages the way an old phone or a crawler would: drafts and
// unknown items are 404, the console sends visitors to the login page, and a bad search
// parameter is explained rather than a crash.
func checkPlainHTTP(t *testing.T, base, draftID string) {
	t.Helper()
	hc := testenv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, tc := range []struct {
		path, want string
		status     int
	}{
		{"/memory/items/" + draftID, "", http.StatusNotFound},
		{"/memory/items/szm-nothing", "", http.StatusNotFound},
		{"/console", "/login?next=%2Fconsole", http.StatusSeeOther},
		{"/console/items/" + draftID, "/login?next=", http.StatusSeeOther},
		{"/memory?page=abc&sort=nope&q=%E7%85%A4", `id="memory-problems"`, http.StatusOK},
		{"/memory?lang=en&theme=industrial&decade=1950", "1950s", http.StatusOK},
	} {
		resp, err := hc.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("GET %s: %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
		if tc.want != "" && !strings.Contains(string(body)+resp.Header.Get("Location"), tc.want) {
			t.Errorf("GET %s lacks %s", tc.path, tc.want)
		}
	}
}

// newItemInConsole fills the console's new-item form (a still image of industrial heritage
// under CC BY 4.0, and whatever more fills), saves it and returns the new item's id.
func newItemInConsole(t *testing.T, ctx context.Context, base, title string, more ...chromedp.Action[chromedp.Void]) string {
	t.Helper()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/console/items/new"),
		chromedp.WaitVisible(chromedp.ID("item-form")),
		chromedp.SendKeys(chromedp.ID("item-title"), title),
		chromedp.SetValue(chromedp.ID("item-type"), "StillImage"),
		chromedp.SetValue(chromedp.ID("item-theme"), "industrial"),
		chromedp.SetValue(chromedp.ID("item-licence"), "cc-by-4.0"),
	}
	steps = append(append(steps, more...), chromedp.Click(chromedp.ID("item-save")), chromedp.WaitVisible(chromedp.ID("upload-input")))
	do(t, ctx, "create an item in the console", steps...)
	loc := get(t, ctx, "location", chromedp.Location())
	id := loc[strings.LastIndex(loc, "/")+1:]
	if !strings.HasPrefix(id, "szm-") {
		t.Fatalf("the console did not open the new item: %s", loc)
	}
	return id
}

// awaitConsole reloads the console until selector matches (its lists follow the staff
// index, which follows a write within seconds).
func awaitConsole(t *testing.T, ctx context.Context, base, selector string) {
	t.Helper()
	testwait.Within(t, "the console shows "+selector, 45*time.Second, func() bool {
		do(t, ctx, "open the console", chromedp.Navigate(base+"/console"))
		// The page fills its lists from separate requests: give this load a few seconds to
		// show the entry before asking the server again.
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`!!document.querySelector('`+selector+`')`,
			chromedp.WithPollingTimeout(5*time.Second)))
		return err == nil
	})
}

func viewCount(t *testing.T, ctx context.Context) int {
	t.Helper()
	s := get(t, ctx, "view count", chromedp.Text(chromedp.ID("view-total")))
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("view count %q: %v", s, err)
	}
	return n
}

// TestLibrarianPublishesAndVisitorsFindIt: a librarian creates an item in the console,
// uploads two files straight to the storage and submits the item for review; a second
// librarian approves it in her console; visitors find it by Chinese text and by pinyin initials, and each new visitor counts
// once.
func TestLibrarianPublishesAndVisitorsFindIt(t *testing.T) {
	srv := testenv.StartServer(t, testenv.Config(t, testenv.Shared(t)))
	const name, password = "gao.dwk", "Dawukou-Reading-7"
	const title = "石嘴山煤矿老照片"
	createLibrarian(t, srv.URL, name, password)

	ctx := browser(t)
	login(t, ctx, srv.URL, name, password)
	id := newItemInConsole(t, ctx, srv.URL, title,
		chromedp.SendKeys(chromedp.ID("item-description"), "1960 年代石炭井煤矿工人的合影。"),
		chromedp.SendKeys(chromedp.ID("item-creator"), "王师傅, 李师傅"))

	checkPlainHTTP(t, srv.URL, id)

	// The part checksums the console computes must be the ones MinIO computes: the
	// algorithms' check values, the same ones TestChecksumOf holds the Go side to.
	sums := get(t, ctx, "part checksums", chromedp.Evaluate[string](`Promise.all([
		CC.partChecksum(new Blob(['123456789']), 'CRC32C'),
		CC.partChecksum(new Blob([]), 'CRC32C'),
		CC.partChecksum(new Blob(['123456789']), 'SHA256')]).then(function (s) { return s.join(' '); })`,
		chromedp.EvalAwaitPromise))
	if want := "4waSgw== AAAAAA== FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU="; sums != want {
		t.Errorf("part checksums in the browser = %q, want %q", sums, want)
	}

	do(t, ctx, "upload two files", chromedp.SetUploadFiles(chromedp.ID("upload-input"), testFiles(t)))
	state := get(t, ctx, "uploads", chromedp.Poll[string](`(function(){
		var rows = document.querySelectorAll('#upload-list li');
		var done = document.querySelectorAll('#upload-list li[data-state="done"]').length;
		var failed = document.querySelector('#upload-list li[data-state="failed"]');
		if (failed) return 'failed: ' + failed.textContent;
		return rows.length === 2 && done === 2 ? 'done' : '';
	})()`, chromedp.WithPollingTimeout(90*time.Second), chromedp.WithPollingInterval(200*time.Millisecond)))
	if state != "done" {
		t.Fatalf("uploads: %s", state)
	}
	do(t, ctx, "both files are listed",
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#console-files li[data-path]').length === 2`,
			chromedp.WithPollingTimeout(45*time.Second)))

	do(t, ctx, "submit for review",
		chromedp.Click(chromedp.ID("status-in_review")),
		chromedp.WaitVisible(chromedp.ID("status-draft")),
	)
	// 先审后发: she cannot publish her own item. Her console lists it among her submissions,
	// waiting; a second librarian of the district approves it from her review queue (both
	// lists follow the staff index within seconds).
	awaitConsole(t, ctx, srv.URL, `#mine li[data-id="`+id+`"]`)
	const reviewer, reviewerPassword = "shen.dwk", "Dawukou-Review-7"
	createLibrarian(t, srv.URL, reviewer, reviewerPassword)
	rctx := browser(t)
	login(t, rctx, srv.URL, reviewer, reviewerPassword)
	awaitConsole(t, rctx, srv.URL, `#review li[data-id="`+id+`"] .review-approve`)
	do(t, rctx, "approve",
		chromedp.Click(chromedp.CSS(`#review li[data-id="`+id+`"] .review-approve`)),
		chromedp.WaitVisible(chromedp.CSS(`#console-status .status-ok`)),
	)
	do(t, ctx, "the item is published",
		chromedp.Navigate(srv.URL+"/console/items/"+id),
		chromedp.WaitVisible(chromedp.ID("console-public-link")),
	)

	visitor := visitorBrowser(t, "Mozilla/5.0 (X11; Linux x86_64) CultureCloudTest/1.0 visitor-a")
	findInSearch(t, visitor, srv.URL, "石嘴山煤矿", id)
	if !strings.Contains(get(t, visitor, "hit title", chromedp.Text(chromedp.CSS("#hits"))), title) {
		t.Error("the hit does not show the title")
	}
	screenshot(t, visitor, "memory-search-zh.png")
	do(t, visitor, "the home page lists the item as the latest",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#latest-list a[href="/memory/items/`+id+`"]`)),
	)
	findInSearch(t, visitor, srv.URL, "szs", id)

	do(t, visitor, "open the item",
		chromedp.Click(chromedp.CSS(`#hits a[href="/memory/items/`+id+`"]`)),
		chromedp.WaitVisible(chromedp.ID("item-title")),
	)
	first := viewCount(t, visitor)
	if first < 1 {
		t.Fatalf("view count %d does not include this visit", first)
	}
	if n := get(t, visitor, "files", chromedp.Evaluate[int](`document.querySelectorAll('#item-files li').length`)); n != 2 {
		t.Errorf("item page lists %d files, want 2", n)
	}
	do(t, visitor, "the image opens in the viewer",
		chromedp.Click(chromedp.CSS(".zoom-open")),
		chromedp.WaitVisible(chromedp.ID("viewer-close")),
		chromedp.Click(chromedp.ID("viewer-zoom-in")),
	)
	if lvl := get(t, visitor, "zoom", chromedp.Text(chromedp.ID("viewer-level"))); lvl != "150%" {
		t.Errorf("zoom level %q after one zoom in", lvl)
	}
	do(t, visitor, "close the viewer", chromedp.Click(chromedp.ID("viewer-close")))
	screenshot(t, visitor, "memory-item-zh.png")

	do(t, visitor, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("view-total")))
	if again := viewCount(t, visitor); again != first {
		t.Errorf("view count went from %d to %d on reload by the same visitor", first, again)
	}

	other := visitorBrowser(t, "Mozilla/5.0 (X11; Linux x86_64) CultureCloudTest/1.0 visitor-b")
	do(t, other, "a new visitor opens the item",
		chromedp.Navigate(srv.URL+"/memory/items/"+id),
		chromedp.WaitVisible(chromedp.ID("view-total")),
	)
	if n := viewCount(t, other); n != first+1 {
		t.Errorf("a new visitor sees %d views, want %d", n, first+1)
	}
}

// librarianWithItem starts a server, signs a new librarian in to the console in a browser
// and creates an item there; it returns the server's configuration, the browser and the item.
func librarianWithItem(t *testing.T, name, password, title string) (*config.Config, context.Context, string) {
	t.Helper()
	cfg := testenv.Config(t, testenv.Shared(t))
	srv := testenv.StartServer(t, cfg)
	createLibrarian(t, srv.URL, name, password)
	ctx := browser(t)
	login(t, ctx, srv.URL, name, password)
	return cfg, ctx, newItemInConsole(t, ctx, srv.URL, title)
}

// waitUploadDone waits until the console lists one upload as done, and fails the test if
// one failed instead.
func waitUploadDone(t *testing.T, ctx context.Context) {
	t.Helper()
	state := get(t, ctx, "upload", chromedp.Poll[string](`(function(){
		var failed = document.querySelector('#upload-list li[data-state="failed"]');
		if (failed) return 'failed: ' + failed.textContent;
		return document.querySelectorAll('#upload-list li[data-state="done"]').length === 1 ? 'done' : '';
	})()`, chromedp.WithPollingTimeout(60*time.Second), chromedp.WithPollingInterval(200*time.Millisecond)))
	if state != "done" {
		t.Fatalf("upload: %s", state)
	}
}

// TestConsoleStartsOverAnOldSHA256SessionWithoutCryptoSubtle: a session from before CRC32C
// part checksums wants SHA-256, which a plain-HTTP page cannot compute (no crypto.subtle).
// The console, about to resume it, deletes it and uploads with a new session instead.
func TestConsoleStartsOverAnOldSHA256SessionWithoutCryptoSubtle(t *testing.T) {
	const name = "ma.hn"
	cfg, ctx, id := librarianWithItem(t, name, "Huinong-Reading-3", "惠农老照片")

	// The old session, as the server made them before: same owner, file name and size.
	file := testFiles(t)[0]
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	old := upload.New(testenv.Objects(t, cfg), upload.Options{Prefix: "uploads/", PartChecksum: upload.ChecksumSHA256})
	sess, err := old.Create(context.Background(), name, filepath.Base(file), st.Size())
	if err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("cc-upload:%s:%s:%d:%d", id, filepath.Base(file), st.Size(), st.ModTime().UnixMilli())
	do(t, ctx, "remember the old session and take crypto.subtle away",
		chromedp.Evaluate[chromedp.Void](`localStorage.setItem(`+strconv.Quote(key)+`, `+strconv.Quote(sess.ID)+`);
			Object.defineProperty(window.crypto, 'subtle', { value: undefined, configurable: true });`))

	do(t, ctx, "upload the file", chromedp.SetUploadFiles(chromedp.ID("upload-input"), []string{file}))
	waitUploadDone(t, ctx)
	if _, err := old.Get(context.Background(), sess.ID, name); !errors.Is(err, upload.ErrNotFound) {
		t.Errorf("the old SHA-256 session: %v, want it deleted", err)
	}
}

// TestConsoleFollowsTheJobOfAnAttachedUpload: a librarian left the page after the upload
// was accepted, while its attach job ran. Dropping the same file again, the console learns
// from the server that a job took the upload and follows that job: nothing is sent again
// and the item gets the file once.
func TestConsoleFollowsTheJobOfAnAttachedUpload(t *testing.T) {
	const name = "zhang.sx"
	cfg, ctx, id := librarianWithItem(t, name, "Shixia-Archive-7", "石嘴山老街照片")

	// The upload as the console made it, accepted with the same request the console sends.
	file := testFiles(t)[0]
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	core, err := app.Connect(cfg, app.NewLogger(cfg.Log, testenv.LogWriter(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	bg := context.Background()
	sess, err := core.Uploads.Create(bg, name, filepath.Base(file), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	u, err := core.Uploads.PresignPart(bg, sess.ID, name, 1)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, u, bytes.NewReader(data))
	req.Header.Set(sess.PartChecksum().Header(), sess.PartChecksum().Of(data))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("part: %s", resp.Status)
	}
	key := fmt.Sprintf("cc-upload:%s:%s:%d:%d", id, filepath.Base(file), st.Size(), st.ModTime().UnixMilli())
	do(t, ctx, "remember the session and attach it as the console does",
		chromedp.Evaluate[chromedp.Void](`localStorage.setItem(`+strconv.Quote(key)+`, `+strconv.Quote(sess.ID)+`);
			CC.api('POST', '/api/v1/items/`+id+`/files', { upload_id: `+strconv.Quote(sess.ID)+` })
				.then(function (r) { window.attached = r.status; });`),
		chromedp.Poll[chromedp.Void](`window.attached === 202`, chromedp.WithPollingTimeout(30*time.Second)),
	)

	do(t, ctx, "drop the same file again", chromedp.SetUploadFiles(chromedp.ID("upload-input"), []string{file}))
	waitUploadDone(t, ctx)
	it, err := core.Library.Get(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(it.Files) != 1 {
		t.Fatalf("the item has %d files, want 1", len(it.Files))
	}
	var sessions int
	for _, err := range core.Docs.Objects().List(bg, "uploads/sessions/", storage.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		sessions++
	}
	if sessions != 1 {
		t.Errorf("%d upload sessions, want the one (no new upload)", sessions)
	}
}
