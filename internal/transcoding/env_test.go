package transcoding_test

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/configs"
	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/jobs"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/ocfl"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
	"github.com/shizuishan/culturecloud/internal/transcoding"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/media/transcode"
	"github.com/shizuishan/culturecloud/storage"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var admin = accounts.Account{Name: "admin", Role: accounts.Admin}

// services says where the test's Redis and MinIO are; a worker process gets it in its
// environment.
type services struct {
	RedisAddr, Prefix                   string
	MinIO, Bucket, AccessKey, SecretKey string
}

type env struct {
	services
	rdb  *redis.Client
	docs *docstore.Store
	lib  *library.Service
	jobs *jobs.Store
}

type quiet struct{}

func (quiet) ItemChanged(context.Context, string)       {}
func (quiet) FileAdded(context.Context, string, string) {}

func newEnv(t *testing.T) *env {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Unavailable(t, err)
		}
	}
	cfg := testenv.Config(t, testenv.Shared(t))
	s := services{RedisAddr: cfg.Redis.Addr, Prefix: cfg.Redis.KeyPrefix, MinIO: cfg.MinIO.Endpoint,
		Bucket: cfg.MinIO.Bucket, AccessKey: cfg.MinIO.AccessKey, SecretKey: cfg.MinIO.SecretKey.Reveal()}
	e := connect(t, s)
	ctx := context.Background()
	if err := e.docs.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.lib.Store().Init(ctx); err != nil {
		t.Fatal(err)
	}
	tree, err := units.ParseSeed(configs.Units)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := units.NewDocStore(e.docs).Seed(ctx, tree); err != nil {
		t.Fatal(err)
	}
	return e
}

// connect builds the clients for s, as a worker process does.
func connect(t testing.TB, s services) *env {
	t.Helper()
	const timeout = 2 * time.Second
	rdb := redis.NewClient(&redis.Options{Addr: s.RedisAddr, DialTimeout: time.Second, ReadTimeout: time.Second,
		WriteTimeout: time.Second, PoolTimeout: time.Second, MaxRetries: 1})
	t.Cleanup(func() { _ = rdb.Close() })
	docs, err := docstore.Connect(docstore.Options{Endpoint: s.MinIO, AccessKey: s.AccessKey, SecretKey: s.SecretKey,
		Bucket: s.Bucket, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	vocab, err := library.ParseVocabulary(configs.Vocabulary)
	if err != nil {
		t.Fatal(err)
	}
	store := ocfl.New(docs.Objects(), "ocfl/", timeout)
	lib := library.NewService(store, units.NewDocStore(docs), vocab, quiet{})
	return &env{services: s, rdb: rdb, docs: docs, lib: lib, jobs: jobs.New(rdb, s.Prefix)}
}

// runner builds a Runner whose logs go to the test log (and to counts, when given).
func (e *env) runner(t testing.TB, o transcoding.Options, counts *logCounts) *transcoding.Runner {
	t.Helper()
	var h slog.Handler = slog.NewTextHandler(testenv.LogWriter(t), nil)
	if counts != nil {
		h = &countingHandler{Handler: h, counts: counts}
	}
	o.KeyPrefix = e.Prefix
	o.Log = slog.New(h)
	if o.Transcode.Preset == "" {
		o.Transcode.Preset = "ultrafast"
	}
	return transcoding.New(e.rdb, e.docs, e.lib, e.jobs, o)
}

// run runs r until the test ends.
func run(t *testing.T, r *transcoding.Runner) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("Run did not stop within 30s")
		}
	})
}

func (e *env) newItem(t *testing.T) library.Item {
	t.Helper()
	it, err := e.lib.Create(context.Background(), admin, library.Fields{
		Title: "石嘴山记忆", Type: "MovingImage", Theme: "history", Unit: "szs", Licence: "cc-by-4.0"})
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// addFile stages data in MinIO and adds it to the item.
func (e *env) addFile(t *testing.T, item, name, mediaType string, data []byte) library.File {
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
	return f
}

// keys lists the stored media objects of a file content, relative to its folder.
func (e *env) keys(t *testing.T, item, sha string) []string {
	t.Helper()
	folder := transcoding.Folder(item, sha)
	var keys []string
	for o, err := range e.docs.Objects().List(context.Background(), folder, storage.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, o.Key[len(folder):])
	}
	slices.Sort(keys)
	return keys
}

// pending counts the stream's messages not yet acknowledged, waiting for none (the test fails
// if some stay): a worker acknowledges a message just after it settles the job, which the
// test may see first.
func (e *env) pending(t *testing.T) int64 {
	t.Helper()
	var n int64
	testwait.UntilState(t, "every stream message acknowledged", func() (bool, string) {
		p, err := e.rdb.XPending(context.Background(), e.Prefix+"jobs:transcode", transcoding.Group).Result()
		if err != nil {
			t.Fatal(err)
		}
		n = p.Count
		return n == 0, fmt.Sprintf("%d pending", n)
	})
	return n
}

// waitJob polls the job until ok says yes.
func (e *env) waitJob(t *testing.T, id string, timeout time.Duration, ok func(jobs.Job) bool) jobs.Job {
	t.Helper()
	var j jobs.Job
	testwait.UntilStateWithin(t, "job "+id, timeout, func() (bool, string) {
		var err error
		if j, err = e.jobs.Get(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		return ok(j), fmt.Sprintf("%+v", j)
	})
	return j
}

func settled(j jobs.Job) bool { return j.State == jobs.Done || j.State == jobs.Failed }

var (
	clipsMu sync.Mutex
	clips   = map[string][]byte{}
)

// clip makes (once per test binary) a test video of the given length and size.
func clip(t *testing.T, seconds int, size string) []byte {
	t.Helper()
	clipsMu.Lock()
	defer clipsMu.Unlock()
	key := fmt.Sprint(seconds, size)
	if b, ok := clips[key]; ok {
		return b
	}
	out := filepath.Join(t.TempDir(), "clip.mp4")
	cmd := exec.Command("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size="+size+":rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
		"-t", fmt.Sprint(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-movflags", "+faststart", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	clips[key] = b
	return b
}

// logCounts counts log messages, to see how often something happened.
type logCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *logCounts) get(msg string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[msg]
}

type countingHandler struct {
	slog.Handler
	counts *logCounts
}

func (h *countingHandler) Handle(ctx context.Context, r slog.Record) error {
	h.counts.mu.Lock()
	if h.counts.n == nil {
		h.counts.n = map[string]int{}
	}
	h.counts.n[r.Message]++
	h.counts.mu.Unlock()
	return h.Handler.Handle(ctx, r)
}

func (h *countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &countingHandler{Handler: h.Handler.WithAttrs(as), counts: h.counts}
}

func (h *countingHandler) WithGroup(name string) slog.Handler {
	return &countingHandler{Handler: h.Handler.WithGroup(name), counts: h.counts}
}

// contentTypeOK checks that every object of a file content has the type transcode gives it.
func (e *env) contentTypeOK(t *testing.T, item, sha string, names []string) {
	t.Helper()
	for _, n := range names {
		info, err := e.docs.Objects().Stat(context.Background(), transcoding.Folder(item, sha)+n, "")
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if want := transcode.ContentType(n); info.ContentType != want || info.Size == 0 {
			t.Errorf("%s stored as %q (%d bytes), want %q", n, info.ContentType, info.Size, want)
		}
	}
}
