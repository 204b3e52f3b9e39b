package derivatives_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/configs"
	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/derivatives"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/ocfl"
	"github.com/shizuishan/culturecloud/internal/outbox"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/storage"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var admin = accounts.Account{Name: "admin", Role: accounts.Admin}

// recorder is the library's notifier: it keeps the derive events the outbox would carry.
type recorder struct {
	mu     sync.Mutex
	events []outbox.Event
}

func (r *recorder) ItemChanged(context.Context, string) {}

func (r *recorder) FileAdded(_ context.Context, id, path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, outbox.Event{Kind: "derive", ID: id, Ref: path})
}

func (r *recorder) last(t *testing.T) outbox.Event {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		t.Fatal("no derive event was sent")
	}
	return r.events[len(r.events)-1]
}

type env struct {
	docs  *docstore.Store
	lib   *library.Service
	svc   *derivatives.Service
	notes *recorder
}

func newEnv(t *testing.T) *env {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe", "pdftoppm"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Unavailable(t, err)
		}
	}
	cfg := testenv.Config(t, testenv.Shared(t))
	ctx := context.Background()
	docs, err := docstore.Connect(docstore.Options{Endpoint: cfg.MinIO.Endpoint, AccessKey: cfg.MinIO.AccessKey,
		SecretKey: cfg.MinIO.SecretKey.Reveal(), Bucket: cfg.MinIO.Bucket, Timeout: cfg.MinIO.Timeout})
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
	notes := &recorder{}
	lib := library.NewService(store, unitStore, vocab, notes)
	log := slog.New(slog.NewTextHandler(testenv.LogWriter(t), nil))
	return &env{docs: docs, lib: lib, svc: derivatives.New(docs, lib, log), notes: notes}
}

func (e *env) newItem(t *testing.T) library.Item {
	t.Helper()
	it, err := e.lib.Create(context.Background(), admin, library.Fields{
		Title: "测试", Type: "StillImage", Theme: "history", Unit: "szs", Licence: "cc-by-4.0"})
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// addFile stages data in MinIO, adds it to the item and returns the derive event it caused.
func (e *env) addFile(t *testing.T, item, name, mediaType string, data []byte) (library.File, outbox.Event) {
	t.Helper()
	ctx := context.Background()
	key := "uploads/staging/" + item + "/" + name
	if _, err := e.docs.Objects().PutBytes(ctx, key, data, storage.PutOptions{ContentType: mediaType}); err != nil {
		t.Fatal(err)
	}
	s256, s512 := sha256.Sum256(data), sha512.Sum512(data)
	_, f, err := e.lib.AddFile(ctx, admin, item, "", library.Upload{Key: key, Name: name, SafeName: name,
		MediaType: mediaType, SHA256: hex.EncodeToString(s256[:]), SHA512: hex.EncodeToString(s512[:]), Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	return f, e.notes.last(t)
}

// keys lists the stored derivative objects of an item.
func (e *env) keys(t *testing.T, item string) []string {
	t.Helper()
	var keys []string
	for o, err := range e.docs.Objects().List(context.Background(), "derivatives/"+item+"/", storage.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, o.Key)
	}
	return keys
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestHandleImage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	it := e.newItem(t)
	f, ev := e.addFile(t, it.ID, "gate.png", "image/png", pngOf(t, 1600, 900))

	if err := e.svc.Handle(ctx, ev); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	rec, err := e.svc.Get(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := rec.Files[f.Path]
	if !ok || st.State != derivatives.Done || st.SHA256 != f.SHA256 || st.Error != "" {
		t.Fatalf("status of %s = %+v", f.Path, st)
	}
	want := map[string][2]int{"thumb-160.jpg": {160, 90}, "thumb-480.jpg": {480, 270}, "thumb-1200.jpg": {1200, 675}}
	if len(st.Outputs) != len(want) {
		t.Fatalf("outputs %+v, want %v", st.Outputs, want)
	}
	for _, o := range st.Outputs {
		if o.Path != derivatives.ObjectKey(it.ID, f.SHA256, o.Name) {
			t.Errorf("%s stored at %s", o.Name, o.Path)
		}
		info, err := e.docs.Objects().Stat(ctx, o.Path, "")
		if err != nil || info.ContentType != "image/jpeg" || info.Size == 0 {
			t.Errorf("%s in MinIO: %+v %v", o.Path, info, err)
		}
		if w := want[o.Name]; o.Width != w[0] || o.Height != w[1] {
			t.Errorf("%s is %dx%d, want %dx%d", o.Name, o.Width, o.Height, w[0], w[1])
		}
	}

	obj, ctype, err := e.svc.Open(ctx, it.ID, f.SHA256, "thumb-480.jpg")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	cfg, format, err := image.DecodeConfig(obj)
	obj.Close()
	if err != nil || format != "jpeg" || ctype != "image/jpeg" || cfg.Width != 480 || cfg.Height != 270 {
		t.Errorf("thumb-480.jpg: %s %s %dx%d %v", ctype, format, cfg.Width, cfg.Height, err)
	}

	// The same event again (at-least-once delivery) leaves the same record and objects.
	before := e.keys(t, it.ID)
	if err := e.svc.Handle(ctx, ev); err != nil {
		t.Fatalf("second Handle: %v", err)
	}
	again, err := e.svc.Get(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, rec) {
		t.Errorf("record changed on a repeated event:\n%+v\n%+v", rec, again)
	}
	if after := e.keys(t, it.ID); !reflect.DeepEqual(after, before) || len(after) != 3 {
		t.Errorf("objects %v, then %v", before, after)
	}
}

func TestHandleCorruptVideo(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	it := e.newItem(t)
	junk := make([]byte, 32<<10)
	_, _ = rand.Read(junk)
	f, ev := e.addFile(t, it.ID, "clip.mp4", "video/mp4", junk)

	if err := e.svc.Handle(ctx, ev); err != nil {
		t.Fatalf("Handle must acknowledge a bad file, got %v", err)
	}
	rec, err := e.svc.Get(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	st := rec.Files[f.Path]
	if st.State != derivatives.Failed || len(st.Outputs) != 0 {
		t.Fatalf("status = %+v", st)
	}
	if !strings.Contains(st.Error, "moov atom not found") && !strings.Contains(st.Error, "Invalid data found") {
		t.Errorf("error does not say what the tool found: %q", st.Error)
	}
	if keys := e.keys(t, it.ID); len(keys) != 0 {
		t.Errorf("a failed file left objects: %v", keys)
	}
	// A retry runs the tools again and records the same outcome.
	if err := e.svc.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	again, _ := e.svc.Get(ctx, it.ID)
	if got := again.Files[f.Path]; got.State != derivatives.Failed || got.Error != st.Error {
		t.Errorf("retry gave %+v", got)
	}
}

func TestHandleConcurrentFiles(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	it := e.newItem(t)
	var events []outbox.Event
	for _, name := range []string{"a.png", "b.png", "c.txt"} {
		data, mt := pngOf(t, 300+len(events), 200), "image/png"
		if strings.HasSuffix(name, ".txt") {
			data, mt = []byte("石嘴山文化"), "text/plain"
		}
		_, ev := e.addFile(t, it.ID, name, mt, data)
		events = append(events, ev)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(events))
	for i, ev := range events {
		wg.Go(func() { errs[i] = e.svc.Handle(ctx, ev) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Handle %s: %v", events[i].Ref, err)
		}
	}
	rec, err := e.svc.Get(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Files) != 3 {
		t.Fatalf("record lost a concurrent update: %+v", rec.Files)
	}
	for path, st := range rec.Files {
		if st.State != derivatives.Done {
			t.Errorf("%s: %+v", path, st)
		}
	}
	if txt := rec.Files["files/c.txt"]; len(txt.Outputs) != 0 {
		t.Errorf("text got outputs: %+v", txt)
	}
}

func TestHandleSkips(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	it := e.newItem(t)
	tests := []struct {
		name string
		ev   outbox.Event
	}{
		{"another kind", outbox.Event{Kind: "item", ID: it.ID}},
		{"unknown item", outbox.Event{Kind: "derive", ID: "szm-nosuchitem", Ref: "files/x.png"}},
		{"file not in item", outbox.Event{Kind: "derive", ID: it.ID, Ref: "files/gone.png"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.svc.Handle(ctx, tt.ev); err != nil {
				t.Errorf("Handle: %v", err)
			}
		})
	}
	rec, err := e.svc.Get(ctx, it.ID)
	if err != nil || rec.Item != it.ID || len(rec.Files) != 0 {
		t.Errorf("record = %+v, %v; want empty", rec, err)
	}
}

func TestOpenUnknown(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	it := e.newItem(t)
	f, ev := e.addFile(t, it.ID, "p.png", "image/png", pngOf(t, 200, 100))
	if err := e.svc.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, item, sha, out string }{
		{"unknown item", "szm-nosuchitem", f.SHA256, "thumb-160.jpg"},
		{"bad item id", "../records", f.SHA256, "thumb-160.jpg"},
		{"unknown content", it.ID, strings.Repeat("0", 64), "thumb-160.jpg"},
		{"bad digest", it.ID, "abc", "thumb-160.jpg"},
		{"unknown output", it.ID, f.SHA256, "poster.jpg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj, _, err := e.svc.Open(ctx, tt.item, tt.sha, tt.out)
			if obj != nil {
				obj.Close()
			}
			if !errors.Is(err, derivatives.ErrNotFound) {
				t.Errorf("Open = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestHandleMinIODown(t *testing.T) {
	e := newEnv(t) // only for the skip rules and a valid configuration shape
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	docs, err := docstore.Connect(docstore.Options{Endpoint: dead, AccessKey: "x", SecretKey: "y", Bucket: e.docs.Bucket(),
		Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	vocab, _ := library.ParseVocabulary(configs.Vocabulary)
	lib := library.NewService(ocfl.New(docs.Objects(), "ocfl/", 5*time.Second), units.NewDocStore(docs), vocab, &recorder{})
	svc := derivatives.New(docs, lib, slog.New(slog.NewTextHandler(testenv.LogWriter(t), nil)))

	err = svc.Handle(context.Background(), outbox.Event{Kind: "derive", ID: "szm-abcdefghij", Ref: "files/a.png"})
	if !errors.Is(err, outbox.ErrRetry) {
		t.Errorf("Handle with MinIO down = %v, want outbox.ErrRetry", err)
	}
	if _, err := svc.Get(context.Background(), "szm-abcdefghij"); err == nil {
		t.Error("Get with MinIO down succeeded")
	}
}
