package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/app"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/review"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
	"github.com/shizuishan/culturecloud/storage"
)

var (
	admin    = accounts.Account{Name: testenv.AdminName, Role: accounts.Admin}
	reviewer = accounts.Account{Name: "rev.szs", Role: accounts.Librarian, Unit: "szs"}
)

func publishItems(t *testing.T, core *app.Core, n int) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for i := range n {
		it, err := core.Library.Create(ctx, admin, library.Fields{Title: fmt.Sprintf("黄河记忆第%d号", i), Type: "StillImage",
			Theme: "yellow-river", Unit: "szs-library", Licence: "cc-by-4.0"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err = core.Library.Move(ctx, admin, it.ID, "", library.InReview); err != nil {
			t.Fatal(err)
		}
		// Approved by a second person (先审后发).
		if it, err = core.Library.Review(ctx, reviewer, it.ID, "", review.Decision{Approve: true}); err != nil || it.Status != library.Published {
			t.Fatalf("approval: %v, status %s", err, it.Status)
		}
		ids = append(ids, it.ID)
	}
	return ids
}

func searchTotal(url string) (int, error) {
	resp, err := testenv.Client().Get(url + "/api/v1/items?per_page=100")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return 0, fmt.Errorf("%s: %s", resp.Status, b)
	}
	var r struct {
		Total int `json:"total"`
	}
	return r.Total, json.NewDecoder(resp.Body).Decode(&r)
}

// TestReindexWhileSearching rebuilds the indexes from MinIO while a client searches without
// pause: no search fails and none misses an item.
func TestReindexWhileSearching(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	srv := testenv.StartServer(t, cfg)
	core, err := app.Connect(cfg, app.NewLogger(cfg.Log, testenv.LogWriter(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	const n = 40
	publishItems(t, core, n)
	testwait.Until(t, "every published item searchable", func() bool { total, err := searchTotal(srv.URL); return err == nil && total == n })

	stop := make(chan struct{})
	var searches, bad atomic.Int64
	var firstBad atomic.Value
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			total, err := searchTotal(srv.URL)
			searches.Add(1)
			if err != nil || total != n {
				bad.Add(1)
				firstBad.CompareAndSwap(nil, fmt.Sprintf("total %d, err %v", total, err))
			}
		}
	})
	var out bytes.Buffer
	code := app.Run(context.Background(), []string{"reindex"}, func(k string) string { return envOf(cfg)[k] }, strings.NewReader(""), &out, testenv.LogWriter(t))
	close(stop)
	wg.Wait()
	if code != 0 || !strings.Contains(out.String(), fmt.Sprintf("%d published items", n)) {
		t.Fatalf("reindex exit %d: %s", code, out.String())
	}
	if bad.Load() > 0 || searches.Load() < 5 {
		t.Fatalf("%d of %d searches during the reindex went wrong (first: %v)", bad.Load(), searches.Load(), firstBad.Load())
	}
	t.Logf("%d searches during the reindex, all complete", searches.Load())
}

func TestFixityCommand(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	core, err := app.Connect(cfg, app.NewLogger(cfg.Log, testenv.LogWriter(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	ctx := context.Background()
	if err := core.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	ids := publishItems(t, core, 2)
	run := func() (int, string) {
		var out bytes.Buffer
		code := app.Run(ctx, []string{"fixity"}, func(k string) string { return envOf(cfg)[k] }, strings.NewReader(""), &out, testenv.LogWriter(t))
		return code, out.String()
	}
	if code, out := run(); code != 0 || !strings.Contains(out, "checked 2 objects (") || !strings.Contains(out, ": 0 damaged files") {
		t.Fatalf("clean store: exit %d\n%s", code, out)
	}
	// Rot one stored metadata file.
	key := "ocfl/" + ids[1] + "/v1/content/metadata.json"
	rot := []byte(`{"title":"bit rot"}`)
	if _, err := core.Docs.Objects().PutBytes(ctx, key, rot, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	code, out := run()
	if code != 1 || !strings.Contains(out, "DAMAGED object="+ids[1]+" version=v1 path=v1/content/metadata.json") || !strings.Contains(out, "1 damaged files in 1 objects") {
		t.Fatalf("rot not reported: exit %d\n%s", code, out)
	}
}

func TestImportCommand(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	env := envOf(cfg)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "note.txt"), []byte("1958年支宁青年的来信。\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	csv := "标题,类型,专题,单位,许可,文件,状态\n支宁来信,Text,移民文化,szs-library,cc-by-4.0,note.txt,published\n缺少文件,Text,移民文化,szs-library,cc-by-4.0,none.txt,draft\n"
	csvPath := filepath.Join(dir, "items.csv")
	if err := os.WriteFile(csvPath, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := app.Run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &out)
		return code, out.String()
	}
	if code, out := run("import", "--csv", csvPath, "--dir", dir, "--as", "nobody"); code != 2 {
		t.Fatalf("unknown --as: exit %d %s", code, out)
	}
	if code, out := run("import", "--csv", csvPath); code != 2 || !strings.Contains(out, "required") {
		t.Fatalf("missing flags: exit %d %s", code, out)
	}
	// The bootstrap admin exists once a server has prepared the store.
	env["CC_AUTH_BOOTSTRAP_ADMIN"], env["CC_AUTH_BOOTSTRAP_ADMIN_PASSWORD"] = testenv.AdminName, testenv.AdminPassword
	code, out := run("import", "--csv", csvPath, "--dir", dir, "--as", testenv.AdminName)
	if code != 1 || !strings.Contains(out, "imported 1") || !strings.Contains(out, "row 3") {
		t.Fatalf("import: exit %d\n%s", code, out)
	}
	code, out = run("import", "--csv", csvPath, "--dir", dir, "--as", testenv.AdminName)
	if !strings.Contains(out, "imported 0, skipped 1") {
		t.Fatalf("re-run: exit %d\n%s", code, out)
	}
}
