package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/internal/app"
	"github.com/shizuishan/culturecloud/internal/testenv"
)

// minioDataDir is the folder a running MinIO keeps its drive in (its "server DIR" argument).
func minioDataDir(t *testing.T, pid int) string {
	t.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		t.Skipf("cannot find MinIO's data folder: %v", err)
	}
	args := strings.Split(string(raw), "\x00")
	for i, a := range args {
		if a == "server" && i+1 < len(args) {
			return args[i+1]
		}
	}
	t.Fatalf("no data folder in MinIO's arguments %q", args)
	return ""
}

// flipByte rots one byte of a stored object's content on MinIO's drive, as a failing disk
// would: MinIO's own checksums then refuse to read it back.
func flipByte(t *testing.T, objectDir string, within []byte) {
	t.Helper()
	flipped := false
	err := filepath.WalkDir(objectDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || flipped {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		at := bytes.Index(data, within)
		if at < 0 {
			return nil
		}
		data[at] ^= 0x01
		flipped = true
		return os.WriteFile(path, data, 0o600)
	})
	if err != nil || !flipped {
		t.Fatalf("no file under %s holds %q to rot (%v)", objectDir, within, err)
	}
}

// TestFixityReportsEveryDamagedFile rots the stored bytes of two of three items on MinIO's
// drive: the command names both files (object, version, path, expected digest, what
// happened), checks the clean item too, exits non-zero only at the end, and records each
// object's result.
func TestFixityReportsEveryDamagedFile(t *testing.T) {
	stack := testenv.NewStack(t)
	cfg := testenv.Config(t, stack)
	core, err := app.Connect(cfg, app.NewLogger(cfg.Log, testenv.LogWriter(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	ctx := context.Background()
	if err := core.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	ids := publishItems(t, core, 3)
	data := minioDataDir(t, stack.Pid("minio"))
	rotted := []string{ids[0], ids[2]}
	for _, id := range rotted {
		flipByte(t, filepath.Join(data, cfg.MinIO.Bucket, "ocfl", id, "v1", "content", "metadata.json"), []byte("黄河记忆"))
	}

	var out bytes.Buffer
	code := app.Run(ctx, []string{"fixity"}, func(k string) string { return envOf(cfg)[k] }, strings.NewReader(""), &out, testenv.LogWriter(t))
	t.Logf("fixity output:\n%s", out.String())
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		"DAMAGED object=" + ids[0] + " version=v1 path=v1/content/metadata.json sha256=",
		"DAMAGED object=" + ids[2] + " version=v1 path=v1/content/metadata.json sha256=",
		"checked 3 objects",
		"2 damaged files in 2 objects, 0 objects not checked",
		"[3/3]",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "unavailable") {
		t.Errorf("damaged files were blamed on an unavailable MinIO")
	}

	// Staff see the results through the API and in the console.
	srv := testenv.StartServer(t, cfg)
	hc := testenv.Client()
	hc.Jar, _ = cookiejar.New(nil)
	login, _ := json.Marshal(map[string]string{"name": testenv.AdminName, "password": testenv.AdminPassword})
	if resp, err := hc.Post(srv.URL+"/api/v1/auth/login", "application/json", bytes.NewReader(login)); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %v %v", resp, err)
	}
	get := func(path string) string {
		resp, err := hc.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", path, resp.Status, body)
		}
		return string(body)
	}
	var api struct {
		Checked bool `json:"checked"`
		OK      bool `json:"ok"`
		Damaged []struct {
			Version, Path, Want, Error string
		} `json:"damaged"`
	}
	if err := json.Unmarshal([]byte(get("/api/v1/items/"+ids[0]+"/fixity")), &api); err != nil {
		t.Fatal(err)
	}
	if !api.Checked || api.OK || len(api.Damaged) != 1 || api.Damaged[0].Version != "v1" || api.Damaged[0].Error == "" {
		t.Errorf("API result %+v", api)
	}
	if page := get("/console/items/" + ids[0]); !strings.Contains(page, "1 个文件已损坏") || !strings.Contains(page, "v1/content/metadata.json") {
		t.Errorf("console page does not show the damage")
	}
	if page := get("/console/items/" + ids[1]); !strings.Contains(page, "所有文件完好") {
		t.Errorf("console page does not show the clean check")
	}

	for _, id := range ids {
		res, err := core.Fixity.Last(ctx, id)
		if err != nil {
			t.Fatalf("no recorded result of %s: %v", id, err)
		}
		wantOK := id == ids[1]
		if res.OK != wantOK || res.CheckedAt.IsZero() {
			t.Errorf("recorded result of %s: ok %v at %v, want ok %v", id, res.OK, res.CheckedAt, wantOK)
		}
		if !wantOK && (len(res.Damaged) != 1 || res.Damaged[0].Path != "v1/content/metadata.json" || res.Damaged[0].Want == "") {
			t.Errorf("recorded damage of %s: %+v", id, res.Damaged)
		}
	}
}
