package imageservice_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	_ "image/jpeg" // the answers' size
	"image/png"
	"log/slog"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/configs"
	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/imageservice"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/ocfl"
	"github.com/shizuishan/culturecloud/internal/outbox"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/media/iiif"
	"github.com/shizuishan/culturecloud/storage"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var admin = accounts.Account{Name: "admin", Role: accounts.Admin}

type quiet struct{}

func (quiet) ItemChanged(context.Context, string)       {}
func (quiet) FileAdded(context.Context, string, string) {}

type env struct {
	docs *docstore.Store
	lib  *library.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if _, err := exec.LookPath("vips"); err != nil {
		testenv.Unavailable(t, err)
	}
	cfg := testenv.Config(t, testenv.Shared(t))
	ctx := t.Context()
	docs := testenv.Docs(t, cfg)
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
	return &env{docs: docs, lib: library.NewService(store, unitStore, vocab, quiet{})}
}

func (e *env) service(t *testing.T, maxMasterPixels int64) *imageservice.Service {
	return imageservice.New(e.docs, e.lib, slog.New(slog.NewTextHandler(testenv.LogWriter(t), nil)), imageservice.Options{
		Limits:   iiif.Limits{MaxWidth: 2000, MaxHeight: 2000, MaxArea: 4_000_000, Formats: []string{"jpg", "png"}},
		TileSize: 256, MaxCuts: 2, MaxCutsPerClient: 2, Timeout: time.Minute, MaxMasterPixels: maxMasterPixels,
		TileCacheBytes: 1 << 20,
	})
}

// itemWith makes an item holding data as one file and returns the item and the file.
func (e *env) itemWith(t *testing.T, name, mediaType string, data []byte) (library.Item, library.File) {
	t.Helper()
	ctx := t.Context()
	it, err := e.lib.Create(ctx, admin, library.Fields{Title: "测试", Type: "StillImage", Theme: "history", Unit: "szs", Licence: "cc-by-4.0"})
	if err != nil {
		t.Fatal(err)
	}
	key := "uploads/staging/" + it.ID + "/" + name
	if _, err := e.docs.Objects().PutBytes(ctx, key, data, storage.PutOptions{ContentType: mediaType}); err != nil {
		t.Fatal(err)
	}
	s256, s512 := sha256.Sum256(data), sha512.Sum512(data)
	it, f, err := e.lib.AddFile(ctx, admin, it.ID, "", library.Upload{Key: key, Name: name, SafeName: name,
		MediaType: mediaType, SHA256: hex.EncodeToString(s256[:]), SHA512: hex.EncodeToString(s512[:]), Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	return it, f
}

func pngOf(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), 99, 255})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

var full = [4]string{"full", "100,", "0", "default.jpg"}

// TestPyramidOnce: before the worker, the dimensions are unknown and a master above
// max_master_pixels is never cut (not found); the worker makes the pyramid once, a repeated
// event leaves it as it is, and then the dimensions and answers come from it.
func TestPyramidOnce(t *testing.T) {
	e := newEnv(t)
	svc := e.service(t, 100_000) // the 600 × 400 master is above it
	it, f := e.itemWith(t, "scan.png", "image/png", pngOf(600, 400))
	ctx := t.Context()
	if _, _, err := svc.Dimensions(ctx, it.ID, f.SHA256); !errors.Is(err, imageservice.ErrNotFound) {
		t.Fatalf("dimensions before the pyramid: %v", err)
	}
	if _, err := svc.Image(ctx, it.ID, f.SHA256, "client", full); !errors.Is(err, imageservice.ErrNotFound) {
		t.Fatalf("a large master before its pyramid: %v, want not found", err)
	}
	ev := outbox.Event{Kind: "derive", ID: it.ID, Ref: f.Path}
	if err := svc.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	first, err := svc.Get(ctx, it.ID, f.SHA256)
	if err != nil || first.State != imageservice.Done || first.Width != 600 || first.Height != 400 || first.Tile != 256 {
		t.Fatalf("record %+v, %v", first, err)
	}
	if err := svc.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	// A fresh service reads the record from MinIO, not from its cache.
	again, err := e.service(t, 100_000).Get(ctx, it.ID, f.SHA256)
	if err != nil || !again.Updated.Equal(first.Updated) {
		t.Fatalf("a repeated event made the pyramid again: %v → %v (%v)", first.Updated, again.Updated, err)
	}
	if w, h, err := svc.Dimensions(ctx, it.ID, f.SHA256); w != 600 || h != 400 || err != nil {
		t.Fatalf("dimensions %d×%d, %v", w, h, err)
	}
	ans, err := svc.Image(ctx, it.ID, f.SHA256, "client", full)
	if err != nil || ans.MediaType != "image/jpeg" {
		t.Fatalf("image after the pyramid: %v", err)
	}
	if img, err := jpegSize(ans.Body); err != nil || img != "100×67" {
		t.Fatalf("full/100, is %s (%v)", img, err)
	}
}

// TestSmallMasterBeforeItsPyramid: a master within max_master_pixels is cut from directly
// until its pyramid exists.
func TestSmallMasterBeforeItsPyramid(t *testing.T) {
	e := newEnv(t)
	svc := e.service(t, 1_000_000)
	it, f := e.itemWith(t, "small.png", "image/png", pngOf(300, 200))
	ans, err := svc.Image(t.Context(), it.ID, f.SHA256, "client", full)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := jpegSize(ans.Body); err != nil || got != "100×67" {
		t.Fatalf("full/100, is %s (%v)", got, err)
	}
	if _, _, err := svc.Dimensions(t.Context(), it.ID, f.SHA256); !errors.Is(err, imageservice.ErrNotFound) {
		t.Fatalf("dimensions come from the pyramid only: %v", err)
	}
}

// TestUnreadableImageIsRecordedAsFailed: a file vips cannot read gets a failed record with
// vips's reason, and the event is done (no retry for a bad file).
func TestUnreadableImageIsRecordedAsFailed(t *testing.T) {
	e := newEnv(t)
	svc := e.service(t, 1_000_000)
	it, f := e.itemWith(t, "broken.png", "image/png", []byte("\x89PNG\r\n\x1a\n but nothing an image reader understands"))
	if err := svc.Handle(t.Context(), outbox.Event{Kind: "derive", ID: it.ID, Ref: f.Path}); err != nil {
		t.Fatal(err)
	}
	rec, err := svc.Get(t.Context(), it.ID, f.SHA256)
	if err != nil || rec.State != imageservice.Failed || rec.Error == "" {
		t.Fatalf("record %+v, %v", rec, err)
	}
	if _, _, err := svc.Dimensions(t.Context(), it.ID, f.SHA256); !errors.Is(err, imageservice.ErrNotFound) {
		t.Fatalf("dimensions of a failed pyramid: %v", err)
	}
}

func jpegSize(data []byte) (string, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	return strconv.Itoa(cfg.Width) + "×" + strconv.Itoa(cfg.Height), nil
}
