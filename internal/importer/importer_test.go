package importer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/configs"
	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/importer"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/ocfl"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/storage"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type nopNotifier struct{}

func (nopNotifier) ItemChanged(context.Context, string)       {}
func (nopNotifier) FileAdded(context.Context, string, string) {}

// newDeps connects to a bucket of the test's own, prepared as `culturecloud setup` does.
func newDeps(t *testing.T) importer.Deps {
	t.Helper()
	cfg := testenv.Config(t, testenv.Shared(t))
	ctx := t.Context()
	docs, err := docstore.Connect(docstore.Options{
		Endpoint: cfg.MinIO.Endpoint, AccessKey: cfg.MinIO.AccessKey, SecretKey: cfg.MinIO.SecretKey.Reveal(),
		Bucket: cfg.MinIO.Bucket, UseTLS: cfg.MinIO.UseTLS, Timeout: cfg.MinIO.Timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := docs.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	store := ocfl.New(docs.Objects(), "ocfl/", cfg.MinIO.Timeout)
	if err := store.Init(ctx); err != nil {
		t.Fatal(err)
	}
	unitStore := units.NewDocStore(docs)
	tree, err := units.ParseSeed(configs.Units)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unitStore.Seed(ctx, tree); err != nil {
		t.Fatal(err)
	}
	vocab, err := library.ParseVocabulary(configs.Vocabulary)
	if err != nil {
		t.Fatal(err)
	}
	return importer.Deps{Library: library.NewService(store, unitStore, vocab, nopNotifier{}), Docs: docs}
}

var librarian = accounts.Account{Name: "wang.li", DisplayName: "王丽", Role: accounts.Librarian, Unit: "szs"}

func pngBytes(n int) []byte {
	return append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), fmt.Sprintf("image %d", n)...)
}

func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeCSV(t *testing.T, path string, bom bool, rows [][]string) {
	t.Helper()
	var buf bytes.Buffer
	if bom {
		buf.WriteString("\uFEFF")
	}
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

var zhHeader = []string{"标题", "创建者", "主题词", "描述", "日期", "类型", "专题", "单位", "地点", "纬度", "经度",
	"年代", "许可", "标签", "语种", "文件", "状态"}

// zhRow fills zhHeader's columns.
func zhRow(title, date, theme, files, status string) []string {
	return []string{title, "张三；李四", "支宁;移民", "口述与照片", date, "图片", theme, "石嘴山市图书馆", "大武口",
		"39.01", "106.38", "1958-1966", "CC BY 4.0", "老照片", "中文", files, status}
}

func TestImport(t *testing.T) {
	d := newDeps(t)
	ctx := t.Context()
	dir := t.TempDir()
	writeFile(t, dir, "notes/说明.txt", []byte("1958 年从上海迁来的移民的口述记录。\n"))
	writeFile(t, dir, "photos/lying.jpg", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 64)...))

	// Rows 2–121; the bad ones, with the column their reason must name.
	bad := map[int]string{12: "专题", 20: "日期", 33: "文件", 47: "文件", 60: "标题", 81: "文件"}
	rows := [][]string{zhHeader}
	good, held := 0, 0
	for num := 2; num <= 121; num++ {
		title := fmt.Sprintf("支宁老照片 %03d", num)
		theme, date, status := "移民文化", "1959-05-01", ""
		name := fmt.Sprintf("photos/p%03d.png", num)
		writeFile(t, dir, name, pngBytes(num))
		files := name
		switch {
		case num%7 == 0:
			files = name + "；notes/说明.txt" // two files
		case num%11 == 0, num == 100:
			files = "" // no file: keyed by its fields
			theme = "migrant"
		}
		switch {
		case num == 100:
			status = "草稿" // draft, by its Chinese name
		case num%3 == 1:
			status = "published"
		case num%3 == 2:
			status = "in_review"
		}
		switch num {
		case 12:
			theme = "外星文化"
		case 20:
			date = "1958-02-30"
		case 33:
			files = "photos/missing.png"
		case 47:
			files = "photos/lying.jpg"
		case 60:
			title = "  "
		case 81:
			files = fmt.Sprintf("photos/p%03d.png", 80) // the same file as row 80
		}
		if _, isBad := bad[num]; !isBad {
			good++
			if status == "published" {
				held++
			}
		}
		rows = append(rows, zhRow(title, date, theme, files, status))
	}
	csvPath := filepath.Join(dir, "items.csv")
	writeCSV(t, csvPath, true, rows)

	var stderr, stdout bytes.Buffer
	rep, err := importer.Run(ctx, d, importer.Options{CSV: csvPath, Dir: dir, Actor: librarian, Stderr: &stderr, Stdout: &stdout, Workers: 4})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, stdout.String())
	}
	// Rows that ask for published stay in review: the librarian's import is her submission.
	if rep.Imported != good || rep.Skipped != 0 || len(rep.Failed) != len(bad) || rep.AwaitingReview != held || held == 0 {
		t.Logf("awaiting review %d, want %d", rep.AwaitingReview, held)
		t.Fatalf("imported %d, skipped %d, failed %d; want %d, 0, %d\n%s", rep.Imported, rep.Skipped, len(rep.Failed), good, len(bad), stdout.String())
	}
	for _, f := range rep.Failed {
		col, ok := bad[f.Row]
		if !ok {
			t.Errorf("row %d failed but is good: %s", f.Row, f.Reason)
			continue
		}
		if !strings.Contains(f.Reason, col) {
			t.Errorf("row %d: reason %q does not name column %s", f.Row, f.Reason, col)
		}
		if f.Item != "" {
			t.Errorf("row %d: an item %s was created for a row that failed its checks", f.Row, f.Item)
		}
	}
	for _, want := range []string{fmt.Sprintf("%d imported rows asked for published and wait in review", held), "row 20: 日期", "1958-02-30", "row 81: 文件", "第 80 行", "application/x-elf"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout.String())
		}
	}
	if !strings.HasPrefix(stdout.String(), fmt.Sprintf("imported %d, skipped 0, failed %d\n", good, len(bad))) {
		t.Errorf("summary starts wrong:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "导入 10/") || !strings.Contains(stderr.String(), "检查 120/120") {
		t.Errorf("progress lines missing:\n%s", stderr.String())
	}

	items := itemsByTitle(t, d)
	if len(items) != good {
		t.Fatalf("%d items stored, want %d", len(items), good)
	}
	it := items["支宁老照片 014"] // 14 % 7 == 0: two files; 14 % 3 == 2: in review
	if it.Theme != "migrant" || it.Type != "StillImage" || it.Licence != "cc-by-4.0" || it.Unit != "szs-library" ||
		it.Language != "zh" || it.Status != library.InReview || len(it.Files) != 2 ||
		strings.Join(it.Creator, "|") != "张三|李四" || strings.Join(it.Subject, "|") != "支宁|移民" ||
		it.Place.Lat == nil || *it.Place.Lat != 39.01 || it.Files[1].Name != "说明.txt" || it.CreatedBy != librarian.Name {
		t.Errorf("item 014 = %+v", it)
	}
	if it := items["支宁老照片 013"]; it.Status != library.InReview || it.PublishedAt != nil || it.Review.SubmittedBy() != librarian.Name || len(it.Files) != 1 ||
		it.Files[0].MediaType != "image/png" || it.Format != "image/png" {
		t.Errorf("item 013 = %+v", it)
	}
	// The digests the importer computed while staging are those of the bytes on disk.
	note := []byte("1958 年从上海迁来的移民的口述记录。\n")
	want256, want512 := sha256.Sum256(note), sha512.Sum512(note)
	if f := items["支宁老照片 014"].Files[1]; f.SHA256 != hex.EncodeToString(want256[:]) || f.SHA512 != hex.EncodeToString(want512[:]) {
		t.Errorf("说明.txt digests = %s / %s, want %x / %x", f.SHA256, f.SHA512, want256, want512)
	}
	if it := items["支宁老照片 011"]; it.Status != library.InReview || len(it.Files) != 0 { // 11 % 3 == 2
		t.Errorf("item 011 = %+v", it)
	}
	if it := items["支宁老照片 100"]; it.Status != library.Draft || len(it.Files) != 0 {
		t.Errorf("item 100 = %+v", it)
	}
	assertNoStaging(t, d)

	// A second run finds every row imported.
	stdout.Reset()
	rep, err = importer.Run(ctx, d, importer.Options{CSV: csvPath, Dir: dir, Actor: librarian, Stderr: &stderr, Stdout: &stdout})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != 0 || rep.Skipped != good || len(rep.Failed) != len(bad) {
		t.Fatalf("second run: imported %d, skipped %d, failed %d\n%s", rep.Imported, rep.Skipped, len(rep.Failed), stdout.String())
	}
	if n := len(itemsByTitle(t, d)); n != good {
		t.Errorf("second run left %d items, want %d", n, good)
	}
	assertNoStaging(t, d)
}

func TestImportEnglishHeader(t *testing.T) {
	d := newDeps(t)
	dir := t.TempDir()
	writeFile(t, dir, "a.png", pngBytes(1))
	writeFile(t, dir, "b.txt", []byte("Transcript of an interview at the Dawukou coal washery.\n"))
	rows := [][]string{
		{"Title", "creator", "type", "theme", "unit", "licence", "files", "status", "date", "language"},
		{"Dawukou coal washery", "Zhao Min; Liu Wei", "Image", "Industrial heritage", "dwk-library", "cc0-1.0", "a.png", "published", "1975", "en"},
		{"Washery interview", "", "Text", "industrial", "Dawukou District Library", "CC0 1.0 public domain", `b.txt`, "", "", "English"},
		{"Bad status", "", "Text", "industrial", "dwk-library", "cc0-1.0", "", "archived", "", ""},
		{"Escaping path", "", "Text", "industrial", "dwk-library", "cc0-1.0", "../etc/passwd", "", "", ""},
	}
	csvPath := filepath.Join(dir, "en.csv")
	writeCSV(t, csvPath, false, rows)
	var stdout bytes.Buffer
	rep, err := importer.Run(t.Context(), d, importer.Options{CSV: csvPath, Dir: dir, Actor: librarian, Stdout: &stdout})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != 2 || len(rep.Failed) != 2 || rep.Failed[0].Row != 4 || rep.Failed[1].Row != 5 ||
		!strings.Contains(rep.Failed[0].Reason, "status") || !strings.Contains(rep.Failed[1].Reason, "files") {
		t.Fatalf("report %+v\n%s", rep, stdout.String())
	}
	items := itemsByTitle(t, d)
	if it := items["Dawukou coal washery"]; it.Theme != "industrial" || it.Type != "StillImage" || it.Status != library.InReview ||
		strings.Join(it.Creator, "|") != "Zhao Min|Liu Wei" {
		t.Errorf("item = %+v", it)
	}
	if it := items["Washery interview"]; it.Unit != "dwk-library" || it.Licence != "cc0-1.0" || it.Language != "en" ||
		len(it.Files) != 1 || it.Files[0].MediaType != "text/plain" {
		t.Errorf("item = %+v", it)
	}
	assertNoStaging(t, d)
}

func TestImportStopsOnBadHeader(t *testing.T) {
	d := newDeps(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		header []string
		want   string
	}{
		{"unknown", []string{"标题", "类型", "专题", "单位", "许可", "颜色", "Remarks"}, `"颜色", "Remarks"`},
		{"repeated", []string{"标题", "title", "类型", "专题", "单位", "许可"}, "title"},
		{"missing", []string{"标题", "类型", "专题", "单位"}, "licence"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			csvPath := filepath.Join(dir, tc.name+".csv")
			row := make([]string, len(tc.header))
			copy(row, []string{"好行", "图片", "移民文化", "szs-library", "cc0-1.0"})
			writeCSV(t, csvPath, false, [][]string{tc.header, row})
			_, err := importer.Run(t.Context(), d, importer.Options{CSV: csvPath, Dir: dir, Actor: librarian})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to name %s", err, tc.want)
			}
		})
	}
	if n := len(itemsByTitle(t, d)); n != 0 {
		t.Errorf("%d items imported despite a bad header", n)
	}
}

func TestImportRefusesCitizen(t *testing.T) {
	_, err := importer.Run(t.Context(), importer.Deps{}, importer.Options{Actor: accounts.Account{Name: "x", Role: accounts.Citizen}})
	if err == nil {
		t.Fatal("a citizen may import")
	}
}

func itemsByTitle(t *testing.T, d importer.Deps) map[string]library.Item {
	t.Helper()
	ids, err := d.Library.IDs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]library.Item{}
	for _, id := range ids {
		it, err := d.Library.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := out[it.Title]; dup {
			t.Errorf("two items titled %q", it.Title)
		}
		out[it.Title] = it
	}
	return out
}

// assertNoStaging checks that no staging object, nor any version of one, is left.
func assertNoStaging(t *testing.T, d importer.Deps) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for obj, err := range d.Docs.Objects().List(ctx, "uploads/staging/import/", storage.ListOptions{Recursive: true, Versions: true}) {
		if err != nil {
			t.Fatal(err)
		}
		t.Errorf("staging object left: %s (version %s)", obj.Key, obj.VersionID)
	}
}

func FuzzParseRow(f *testing.F) {
	vocab, err := library.ParseVocabulary(configs.Vocabulary)
	if err != nil {
		f.Fatal(err)
	}
	tree, err := units.ParseSeed(configs.Units)
	if err != nil {
		f.Fatal(err)
	}
	header := []string{"标题", "创建者", "日期", "类型", "专题", "单位", "纬度", "经度", "年代", "许可", "语种", "文件", "状态", "标签"}
	for _, seed := range []string{
		"支宁老照片\t张三；李四\t1958-03-01\t图片\t移民文化\tszs-library\t39.0\t106.4\t1958-1966\tcc0-1.0\tzh\ta.png;b.txt\tpublished\t老照片",
		"\t\t1958-02-30\tImage\t外星\tnowhere\tNaN\t200\t1966-1958\tx\tklingon\t../x\tarchived\t",
		"t\t\t\t\t\t\t\t\t\t\t/etc/passwd\t\t\textra",
		"t\x00\t" + strings.Repeat("a;", 40) + "\t\t\t\t\t\t1e999\t\t\t\tC:\\x\t\t",
	} {
		f.Add(seed)
	}
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, line string) {
		record := strings.Split(line, "\t")
		_, _, files, err := importer.ParseRow(header, record, vocab, &tree, librarian, now)
		if err != nil {
			cols := importer.ErrorColumns(err)
			if len(cols) == 0 {
				t.Fatalf("error names no column: %v", err)
			}
			for _, c := range cols {
				if c == "" {
					t.Fatalf("error with an empty column: %v", err)
				}
			}
			return
		}
		for _, p := range files {
			if strings.HasPrefix(p, "/") || p == ".." || strings.HasPrefix(p, "../") {
				t.Fatalf("path %q escapes the folder", p)
			}
		}
	})
}
