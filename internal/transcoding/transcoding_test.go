package transcoding_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/jobs"
	"github.com/shizuishan/culturecloud/internal/transcoding"
)

func TestTranscodeVideo(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	it := e.newItem(t)
	f := e.addFile(t, it.ID, "黄河.mp4", "video/mp4", clip(t, 4, "640x360"))
	counts := &logCounts{}
	r := e.runner(t, transcoding.Options{Consumer: "w1", MinIdle: 5 * time.Second}, counts)

	j, err := r.Enqueue(ctx, it.ID, f)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	if j.State != jobs.Queued || j.Kind != transcoding.Kind {
		t.Fatalf("new job = %+v", j)
	}
	if rec, err := r.Get(ctx, it.ID); err != nil || rec.Files[f.Path].State != transcoding.Queued || rec.Files[f.Path].Job != j.ID {
		t.Errorf("record before the run = %+v, %v", rec, err)
	}
	if _, _, err := r.Open(ctx, it.ID, f.SHA256, "master.m3u8"); !errors.Is(err, transcoding.ErrNotFound) {
		t.Errorf("Open before done = %v, want ErrNotFound", err)
	}
	run(t, r)
	j = e.waitJob(t, j.ID, 90*time.Second, settled)
	if j.State != jobs.Done || j.Attempts != 1 || j.Percent != 100 || j.Error != "" {
		t.Fatalf("job = %+v", j)
	}

	rec, err := r.Get(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	fm := rec.Files[f.Path]
	if fm.State != transcoding.Done || fm.SHA256 != f.SHA256 || fm.Job != j.ID || fm.Error != "" {
		t.Fatalf("media of %s = %+v", f.Path, fm)
	}
	for name, v := range map[string]string{"master": fm.Master, "poster": fm.Poster, "sprite": fm.Sprite,
		"sprite vtt": fm.SpriteVTT, "download": fm.Download} {
		if v == "" {
			t.Errorf("record has no %s: %+v", name, fm)
		}
	}
	if len(fm.Rungs) == 0 || fm.Duration < 3.5 || fm.Duration > 4.5 {
		t.Errorf("rungs %+v, duration %v", fm.Rungs, fm.Duration)
	}
	stored := e.keys(t, it.ID, f.SHA256)
	if !reflect.DeepEqual(stored, fm.Files) {
		t.Errorf("stored objects %v\nrecord lists  %v", stored, fm.Files)
	}
	e.contentTypeOK(t, it.ID, f.SHA256, stored)

	// The master playlist names rung playlists that are served, and they name segments that are.
	variants := playlistRefs(t, r, it.ID, f.SHA256, fm.Master)
	if len(variants) == 0 {
		t.Fatal("master playlist names no rung")
	}
	for _, v := range variants {
		segs := playlistRefs(t, r, it.ID, f.SHA256, v)
		if len(segs) == 0 {
			t.Errorf("rung playlist %s names no segment", v)
		}
		for _, s := range segs {
			obj, _, err := r.Open(ctx, it.ID, f.SHA256, s)
			if err != nil {
				t.Errorf("segment %s of %s: %v", s, v, err)
				continue
			}
			obj.Close()
		}
	}

	// The same file again: the same job, no new work.
	xlen := e.rdb.XLen(ctx, e.Prefix+"jobs:transcode").Val()
	again, err := r.Enqueue(ctx, it.ID, f)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != j.ID || again.State != jobs.Done || !again.Updated.Equal(j.Updated) {
		t.Errorf("second Enqueue = %+v, want the done job %+v", again, j)
	}
	if n := e.rdb.XLen(ctx, e.Prefix+"jobs:transcode").Val(); n != xlen {
		t.Errorf("stream grew from %d to %d", xlen, n)
	}
	if after, _ := r.Get(ctx, it.ID); !reflect.DeepEqual(after, rec) {
		t.Errorf("record changed:\n%+v\n%+v", rec, after)
	}
	if n := counts.get("transcoding done"); n != 1 {
		t.Errorf("%d done transitions", n)
	}

	tests := []struct{ name, item, sha, out string }{
		{"unknown item", "szm-nosuchitem", f.SHA256, fm.Master},
		{"bad item id", "../records", f.SHA256, fm.Master},
		{"unknown content", it.ID, strings.Repeat("0", 64), fm.Master},
		{"bad digest", it.ID, "abc", fm.Master},
		{"unknown output", it.ID, f.SHA256, "nothing.ts"},
		{"escape", it.ID, f.SHA256, "../" + f.SHA256 + "/" + fm.Master},
		{"empty", it.ID, f.SHA256, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj, _, err := r.Open(ctx, tt.item, tt.sha, tt.out)
			if obj != nil {
				obj.Close()
			}
			if !errors.Is(err, transcoding.ErrNotFound) {
				t.Errorf("Open = %v, want ErrNotFound", err)
			}
		})
	}
	if rec, err := r.Get(ctx, "szm-nosuchitem"); err != nil || len(rec.Files) != 0 || rec.Files == nil {
		t.Errorf("Get of an unknown item = %+v, %v", rec, err)
	}

	// Files of other kinds are not transcoded.
	doc := e.addFile(t, it.ID, "notes.txt", "text/plain", []byte("石嘴山"))
	if j, err := r.Enqueue(ctx, it.ID, doc); err != nil || j.ID != "" {
		t.Errorf("Enqueue of text = %+v, %v", j, err)
	}
}

// playlistRefs opens an HLS playlist through Open and returns the names it refers to,
// relative to the media folder.
func playlistRefs(t *testing.T, r *transcoding.Runner, item, sha, name string) []string {
	t.Helper()
	obj, ctype, err := r.Open(context.Background(), item, sha, name)
	if err != nil {
		t.Fatalf("Open %s: %v", name, err)
	}
	defer obj.Close()
	if !strings.Contains(strings.ToLower(ctype), "mpegurl") {
		t.Errorf("%s served as %q", name, ctype)
	}
	var refs []string
	sc := bufio.NewScanner(obj)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#EXT-X-MAP:") { // fMP4 init segment
			if _, uri, ok := strings.Cut(line, `URI="`); ok {
				line = strings.TrimSuffix(uri, `"`)
			}
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		refs = append(refs, path.Join(path.Dir(name), line))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return refs
}

func TestTranscodeCorrupt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	it := e.newItem(t)
	junk := make([]byte, 64<<10)
	_, _ = rand.Read(junk)
	f := e.addFile(t, it.ID, "clip.mp4", "video/mp4", junk)
	before, err := e.lib.Get(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	r := e.runner(t, transcoding.Options{Consumer: "w1", MinIdle: time.Second, Backoff: 10 * time.Millisecond}, nil)
	j, err := r.Enqueue(ctx, it.ID, f)
	if err != nil {
		t.Fatal(err)
	}
	run(t, r)
	j = e.waitJob(t, j.ID, 30*time.Second, settled)
	if j.State != jobs.Failed || j.Attempts != 1 {
		t.Fatalf("job = %+v, want failed after one attempt", j)
	}
	if !strings.Contains(j.Error, "not a video or audio file") && !strings.Contains(j.Error, "Invalid data") {
		t.Errorf("error does not say what is wrong: %q", j.Error)
	}
	rec, err := r.Get(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fm := rec.Files[f.Path]; fm.State != transcoding.Failed || fm.Error != j.Error || fm.Master != "" || len(fm.Files) != 0 {
		t.Errorf("media = %+v", fm)
	}
	// No retry comes later, nothing was stored, and the item is as it was. Only a pending
	// message runs again (reclaimed after MinIdle, once its due time is past), so a message
	// acknowledged with no due time left is the proof, without waiting out MinIdle.
	if n := e.pending(t); n != 0 {
		t.Errorf("%d messages still pending", n)
	}
	if due, err := e.rdb.HExists(ctx, e.Prefix+"transcode:due", j.ID).Result(); err != nil || due {
		t.Errorf("a retry time is still set for the failed job (%v)", err)
	}
	if again, _ := e.jobs.Get(ctx, j.ID); again.Attempts != 1 || again.State != jobs.Failed {
		t.Errorf("job later = %+v", again)
	}
	if keys := e.keys(t, it.ID, f.SHA256); len(keys) != 0 {
		t.Errorf("a failed file left objects: %v", keys)
	}
	after, err := e.lib.Get(ctx, it.ID)
	if err != nil || after.Version != before.Version || !reflect.DeepEqual(after.Files, before.Files) {
		t.Errorf("item changed: %+v → %+v (%v)", before, after, err)
	}
	obj, err := e.lib.OpenFile(ctx, it.ID, f.Path)
	if err != nil {
		t.Fatalf("the original is not served any more: %v", err)
	}
	obj.Close()
	// Staff retry: a failed job is replaced by a new one.
	retry, err := r.Enqueue(ctx, it.ID, f)
	if err != nil || retry.ID == j.ID || retry.State != jobs.Queued {
		t.Errorf("Enqueue after failure = %+v, %v", retry, err)
	}
}

func TestTranscodeRetry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	it := e.newItem(t)
	f := e.addFile(t, it.ID, "a.mp4", "video/mp4", clip(t, 4, "640x360"))
	counts := &logCounts{}
	r := e.runner(t, transcoding.Options{Consumer: "w1", MinIdle: time.Second, Backoff: 300 * time.Millisecond}, counts)
	var calls atomic.Int32
	var failedAt, retriedAt atomic.Int64
	transcoding.SetBeforeAttempt(r, func(_ context.Context, j jobs.Job) error {
		if calls.Add(1) == 1 {
			failedAt.Store(time.Now().UnixMilli())
			return errors.New("minio unavailable: connection refused")
		}
		retriedAt.Store(time.Now().UnixMilli())
		return nil
	})
	j, err := r.Enqueue(ctx, it.ID, f)
	if err != nil {
		t.Fatal(err)
	}
	run(t, r)
	queued := e.waitJob(t, j.ID, 10*time.Second, func(j jobs.Job) bool { return j.Attempts == 1 && j.State == jobs.Queued })
	if !strings.Contains(queued.Error, "attempt 1 of 3 failed") || !strings.Contains(queued.Error, "connection refused") {
		t.Errorf("job between attempts = %+v", queued)
	}
	j = e.waitJob(t, j.ID, 90*time.Second, settled)
	if j.State != jobs.Done || j.Attempts != 2 || j.Error != "" {
		t.Fatalf("job = %+v, want done on attempt 2", j)
	}
	if wait := time.Duration(retriedAt.Load()-failedAt.Load()) * time.Millisecond; wait < 300*time.Millisecond {
		t.Errorf("retried after %s, before its backoff", wait)
	}
	if counts.get("transcoding done") != 1 || counts.get("transcoding attempt failed; will retry") != 1 {
		t.Errorf("log counts %v", counts.n)
	}
	if n := e.pending(t); n != 0 {
		t.Errorf("%d messages still pending", n)
	}
	rec, _ := r.Get(ctx, it.ID)
	if fm := rec.Files[f.Path]; fm.State != transcoding.Done || !reflect.DeepEqual(e.keys(t, it.ID, f.SHA256), fm.Files) {
		t.Errorf("media = %+v", fm)
	}
}

func TestTranscodeDead(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	it := e.newItem(t)
	f := e.addFile(t, it.ID, "b.mp3", "audio/mpeg", []byte("never read"))
	const complaint = "ffmpeg: exit status 1: Conversion failed!"
	r := e.runner(t, transcoding.Options{Consumer: "w1", MinIdle: time.Second, Backoff: 10 * time.Millisecond,
		MaxAttempts: 2}, nil)
	transcoding.SetBeforeAttempt(r, func(context.Context, jobs.Job) error { return errors.New(complaint) })
	j, err := r.Enqueue(ctx, it.ID, f)
	if err != nil {
		t.Fatal(err)
	}
	run(t, r)
	j = e.waitJob(t, j.ID, 30*time.Second, settled)
	if j.State != jobs.Failed || j.Attempts != 2 || j.Error != complaint {
		t.Fatalf("job = %+v, want dead after 2 attempts with ffmpeg's words", j)
	}
	rec, _ := r.Get(ctx, it.ID)
	if fm := rec.Files[f.Path]; fm.State != transcoding.Failed || fm.Error != complaint {
		t.Errorf("media = %+v", fm)
	}
	dead, err := e.rdb.XRange(ctx, e.Prefix+"jobs:transcode:dead", "-", "+").Result()
	if err != nil || len(dead) != 1 || dead[0].Values["job"] != j.ID || dead[0].Values["error"] != complaint {
		t.Errorf("dead letters = %+v, %v", dead, err)
	}
	if n := e.pending(t); n != 0 {
		t.Errorf("%d messages still pending", n)
	}
}

func TestHeartbeatKeepsJob(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	it := e.newItem(t)
	f := e.addFile(t, it.ID, "d.mp4", "video/mp4", clip(t, 4, "640x360"))
	counts := &logCounts{}
	slow := func(ctx context.Context, _ jobs.Job) error { // a job that runs several times MinIdle
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(3500 * time.Millisecond):
			return nil
		}
	}
	var runners []*transcoding.Runner
	for _, name := range []string{"w1", "w2"} {
		r := e.runner(t, transcoding.Options{Consumer: name, MinIdle: time.Second}, counts)
		transcoding.SetBeforeAttempt(r, slow)
		runners = append(runners, r)
	}
	j, err := runners[0].Enqueue(ctx, it.ID, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runners {
		run(t, r)
	}
	j = e.waitJob(t, j.ID, 90*time.Second, settled)
	if j.State != jobs.Done || j.Attempts != 1 {
		t.Fatalf("job = %+v, want done on the first attempt", j)
	}
	if s, d := counts.get("transcoding started"), counts.get("transcoding done"); s != 1 || d != 1 {
		t.Errorf("started %d times, done %d times; the other worker took the job over", s, d)
	}
}

func TestTranscodeAudio(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	it := e.newItem(t)
	out := filepath.Join(t.TempDir(), "hua-er.m4a")
	if msg, err := exec.Command("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", "sine=frequency=330", "-t", "3", "-c:a", "aac", out).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	f := e.addFile(t, it.ID, "宁夏花儿.m4a", "audio/mp4", data)
	r := e.runner(t, transcoding.Options{Consumer: "w1"}, nil)
	j, err := r.Enqueue(ctx, it.ID, f)
	if err != nil {
		t.Fatal(err)
	}
	run(t, r)
	if j = e.waitJob(t, j.ID, 60*time.Second, settled); j.State != jobs.Done {
		t.Fatalf("job = %+v", j)
	}
	rec, err := r.Get(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	fm := rec.Files[f.Path]
	if fm.Master == "" || fm.Download == "" || fm.Waveform == "" || fm.Poster != "" || fm.Sprite != "" || fm.Percent != 100 {
		t.Errorf("media of a sound = %+v", fm)
	}
	stored := e.keys(t, it.ID, f.SHA256)
	if !reflect.DeepEqual(stored, fm.Files) {
		t.Errorf("stored objects %v\nrecord lists  %v", stored, fm.Files)
	}
	e.contentTypeOK(t, it.ID, f.SHA256, stored)
}

func TestEnqueueConcurrent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	it := e.newItem(t)
	a := e.addFile(t, it.ID, "a.mp4", "video/mp4", []byte("one"))
	b := e.addFile(t, it.ID, "b.wav", "audio/wav", []byte("two"))
	r := e.runner(t, transcoding.Options{Consumer: "w1"}, nil)
	files := []struct {
		f   int
		job jobs.Job
		err error
	}{{f: 0}, {f: 0}, {f: 0}, {f: 1}, {f: 1}, {f: 1}}
	var wg sync.WaitGroup
	for i := range files {
		wg.Go(func() {
			f := a
			if files[i].f == 1 {
				f = b
			}
			files[i].job, files[i].err = r.Enqueue(ctx, it.ID, f)
		})
	}
	wg.Wait()
	ids := map[int]string{}
	for _, x := range files {
		if x.err != nil {
			t.Fatalf("Enqueue: %v", x.err)
		}
		if id, ok := ids[x.f]; ok && id != x.job.ID {
			t.Errorf("file %d got jobs %s and %s", x.f, id, x.job.ID)
		}
		ids[x.f] = x.job.ID
	}
	if n := e.rdb.XLen(ctx, e.Prefix+"jobs:transcode").Val(); n != 2 {
		t.Errorf("%d messages queued for 2 files", n)
	}
	rec, err := r.Get(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Files) != 2 || rec.Files[a.Path].Job != ids[0] || rec.Files[b.Path].Job != ids[1] ||
		rec.Files[a.Path].State != transcoding.Queued {
		t.Errorf("record = %+v, jobs %v", rec.Files, ids)
	}
}
