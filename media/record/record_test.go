package record_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/shizuishan/culturecloud/media/record"
	"github.com/shizuishan/culturecloud/media/transcode"
)

// A 30 s H.264 + Opus lecture, sent as real RTP four times faster than real time, is stored
// as it goes and joined by Finish into one MP4 that plays whole and lasts 30 s.
func TestRecordH264Opus(t *testing.T) {
	st := newStorage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()

	var keyframeRequests atomic.Int64
	rec, err := record.New(ctx, st, record.Options{
		Lecture: "lec-1", Session: "s1",
		Tracks:          []record.TrackInfo{h264Track, opusTrack},
		RequestKeyframe: func() { keyframeRequests.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	prefix := record.Prefix("lec-1", "s1")

	// Watch MinIO while the lecture runs.
	var seenWhileLive atomic.Int64
	sending := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-sending:
				return
			case <-tick.C:
				seenWhileLive.Store(int64(len(segmentKeys(ctx, t, st, prefix))))
			}
		}
	}()
	src := &source{Seconds: 30, ReadRate: 4, Tap: rec.WriteRTP}
	src.run(ctx, t)
	close(sending)
	<-watched
	packets, gaps := src.counts()
	t.Logf("source: packets %v, sequence gaps %v; recorder: %+v", packets, gaps, rec.Stats())

	if n := seenWhileLive.Load(); n < 3 {
		t.Errorf("only %d segments were in MinIO while the lecture ran; want them stored as it goes", n)
	}

	res, err := rec.Finish(ctx)
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	stats := rec.Stats()
	t.Logf("result: key %s, %d bytes, duration %s, %d segments; stats %+v", res.Key, res.Size, res.Duration,
		len(res.Segments), stats)
	if stats.Dropped != 0 {
		t.Errorf("%d packets dropped", stats.Dropped)
	}
	if stats.Forwarded == 0 || stats.Restarts != 0 {
		t.Errorf("stats %+v: want packets forwarded and no ffmpeg restart", stats)
	}
	if res.Key != prefix+"recording.mp4" || res.ContentType != "video/mp4" {
		t.Errorf("result names %s (%s)", res.Key, res.ContentType)
	}
	if !within(res.Duration, 30*time.Second, time.Second) {
		t.Errorf("duration %s, want 30 s ± 1 s", res.Duration)
	}
	if !res.HasVideo || !res.HasAudio {
		t.Errorf("video %v, audio %v: want both", res.HasVideo, res.HasAudio)
	}
	if len(res.Segments) < 7 {
		t.Errorf("%d segments for 30 s of 4 s segments", len(res.Segments))
	}
	if got := segmentKeys(ctx, t, st, prefix); strings.Join(got, ",") != strings.Join(res.Segments, ",") {
		t.Errorf("segments in MinIO %v, result lists %v", got, res.Segments)
	}

	// The stored file is what the result says, and plays whole.
	local := download(ctx, t, st, res.Key)
	b, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != res.SHA256 || int64(len(b)) != res.Size {
		t.Errorf("stored object: %d bytes, sha256 %x; result says %d, %s", len(b), sum, res.Size, res.SHA256)
	}
	p := checkPlayable(ctx, t, local)
	t.Logf("ffprobe: duration %s (video %s, audio %s), %s %dx%d, %s", p.Duration, p.VideoDuration,
		p.AudioDuration, p.VideoCodec, p.Width, p.Height, p.AudioCodec)
	if p.VideoCodec != "h264" || p.AudioCodec != "opus" || p.Width != 640 || p.Height != 360 {
		t.Errorf("probe %+v: want H.264 640x360 and Opus", p)
	}
	if !within(p.Duration, 30*time.Second, time.Second) || !within(p.VideoDuration, 30*time.Second, time.Second) ||
		!within(p.AudioDuration, 30*time.Second, time.Second) {
		t.Errorf("durations: file %s, video %s, audio %s; want 30 s ± 1 s", p.Duration, p.VideoDuration, p.AudioDuration)
	}
	// Both streams start together (the recording starts at a keyframe, sound with it).
	if v, a := startTimes(ctx, t, local); v < 0 || a < 0 || v-a > 0.1 || a-v > 0.1 {
		t.Errorf("start times: video %.3f s, audio %.3f s", v, a)
	} else {
		t.Logf("start times: video %.3f s, audio %.3f s", v, a)
	}
	if ftyp := string(b[4:8]); ftyp != "ftyp" || !strings.Contains(string(b[:4096]), "moov") {
		t.Errorf("MP4 does not start with ftyp and moov (faststart)")
	}

	if _, err := rec.Finish(ctx); !errors.Is(err, record.ErrFinished) {
		t.Errorf("second Finish: %v, want ErrFinished", err)
	}
	if err := record.RemoveSegments(ctx, st, res.Segments); err != nil {
		t.Fatal(err)
	}
	if got := segmentKeys(ctx, t, st, prefix); len(got) != 0 {
		t.Errorf("segments left after RemoveSegments: %v", got)
	}
	if err := record.RemoveSegments(ctx, st, []string{res.Key}); err == nil {
		t.Error("RemoveSegments deleted the recording itself")
	}
}

// A server that dies mid-lecture loses only what was not uploaded: Recover joins the stored
// segments into a recording as long as they are.
func TestRecoverAfterCrash(t *testing.T) {
	st := newStorage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()

	recCtx, crash := context.WithCancel(ctx)
	rec, err := record.New(recCtx, st, record.Options{Lecture: "lec-2", Session: "s1",
		Tracks: []record.TrackInfo{h264Track, opusTrack}})
	if err != nil {
		t.Fatal(err)
	}
	srcCtx, stopSource := context.WithCancel(ctx)
	defer stopSource()
	src := &source{Seconds: 30, ReadRate: 4, Tap: rec.WriteRTP}
	done := make(chan struct{})
	go func() {
		defer close(done)
		src.run(srcCtx, t)
	}()
	// Crash once three segments are stored: no Finish, ffmpeg killed, local files gone.
	for rec.Stats().Segments < 3 {
		select {
		case <-done:
			t.Fatal("the source ended before three segments were stored")
		case <-time.After(50 * time.Millisecond):
		}
	}
	crash()
	rec.Abort()
	stopSource()
	<-done
	stored := rec.Segments()
	t.Logf("crashed with %d segments stored; stats %+v", len(stored), rec.Stats())

	sessions, err := record.Sessions(ctx, st, "lec-2")
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 1 || sessions[0].Session != "s1" || sessions[0].Finished || sessions[0].Segments != len(stored) {
		t.Fatalf("sessions %+v, want s1 unfinished with %d segments", sessions, len(stored))
	}

	// What the stored segments hold, joined by hand.
	var joined []byte
	for _, k := range stored {
		b, err := os.ReadFile(download(ctx, t, st, k))
		if err != nil {
			t.Fatal(err)
		}
		joined = append(joined, b...)
	}
	raw := filepath.Join(t.TempDir(), "joined.ts")
	if err := os.WriteFile(raw, joined, 0o600); err != nil {
		t.Fatal(err)
	}
	want, err := transcode.ProbeFile(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}

	res, err := record.Recover(ctx, st, "lec-2", "s1")
	if err != nil {
		t.Fatalf("recover: %v", err)
	}
	t.Logf("recovered %s: %s from %d segments (stored segments probe %s)", res.Key, res.Duration,
		len(res.Segments), want.Duration)
	if strings.Join(res.Segments, ",") != strings.Join(stored, ",") {
		t.Errorf("recovered from %v, stored were %v", res.Segments, stored)
	}
	if !within(res.Duration, want.Duration, 500*time.Millisecond) {
		t.Errorf("recovered %s, the stored segments hold %s", res.Duration, want.Duration)
	}
	if res.Duration < 8*time.Second || res.Duration >= 30*time.Second {
		t.Errorf("recovered %s: want the stored part of the lecture", res.Duration)
	}
	p := checkPlayable(ctx, t, download(ctx, t, st, res.Key))
	if p.VideoCodec != "h264" || p.AudioCodec != "opus" {
		t.Errorf("recovered %+v", p)
	}
	sessions, _ = record.Sessions(ctx, st, "lec-2")
	if len(sessions) != 1 || !sessions[0].Finished {
		t.Errorf("after recovery: %+v", sessions)
	}
}

// VP8 goes into WebM segments, joined into one WebM.
func TestRecordVP8Opus(t *testing.T) {
	st := newStorage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	// No tracks declared: the recorder learns them from the packets.
	rec, err := record.New(ctx, st, record.Options{Lecture: "lec-3", Session: "s1", SegmentDuration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	src := &source{Seconds: 10, ReadRate: 4, VP8: true, Tap: rec.WriteRTP}
	src.run(ctx, t)
	res, err := rec.Finish(ctx)
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	t.Logf("result: %s, %s, %d segments; stats %+v", res.Key, res.Duration, len(res.Segments), rec.Stats())
	if res.ContentType != "video/webm" || !strings.HasSuffix(res.Key, "/recording.webm") {
		t.Errorf("result %s (%s)", res.Key, res.ContentType)
	}
	if len(res.Segments) < 4 {
		t.Errorf("%d segments for 10 s of 2 s segments", len(res.Segments))
	}
	p := checkPlayable(ctx, t, download(ctx, t, st, res.Key))
	t.Logf("ffprobe: duration %s (video %s, audio %s), %s %dx%d, %s", p.Duration, p.VideoDuration,
		p.AudioDuration, p.VideoCodec, p.Width, p.Height, p.AudioCodec)
	if p.VideoCodec != "vp8" || p.AudioCodec != "opus" {
		t.Errorf("probe %+v: want VP8 and Opus", p)
	}
	if !within(p.Duration, 10*time.Second, time.Second) || !within(res.Duration, 10*time.Second, time.Second) {
		t.Errorf("duration %s (result %s), want 10 s ± 1 s", p.Duration, res.Duration)
	}
}

// A lecture with sound only (no camera) is recorded after VideoWait without video.
func TestRecordSoundOnly(t *testing.T) {
	st := newStorage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rec, err := record.New(ctx, st, record.Options{Lecture: "lec-6", Session: "s1", VideoWait: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	src := &source{Seconds: 12, ReadRate: 4, NoVideo: true, Tap: rec.WriteRTP}
	src.run(ctx, t)
	res, err := rec.Finish(ctx)
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	t.Logf("result: %s, %s, %d segments; stats %+v", res.Key, res.Duration, len(res.Segments), rec.Stats())
	p := checkPlayable(ctx, t, download(ctx, t, st, res.Key))
	if p.HasVideo || p.AudioCodec != "opus" || res.HasVideo || !res.HasAudio {
		t.Errorf("probe %+v, result %+v: want Opus alone", p, res)
	}
	// What came in the first VideoWait (0.1 s, 0.4 s of sound at 4×) is not recorded.
	if !within(p.Duration, 12*time.Second, time.Second) {
		t.Errorf("duration %s, want 12 s ± 1 s", p.Duration)
	}
}

// A recorder that got no keyframe has nothing to join; one that is aborted refuses Finish.
func TestNothingRecorded(t *testing.T) {
	st := newStorage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rec, err := record.New(ctx, st, record.Options{Lecture: "lec-4", Session: "s1",
		Tracks: []record.TrackInfo{h264Track}})
	if err != nil {
		t.Fatal(err)
	}
	// Inter frames only (an FU-A piece of a non-IDR slice): no start.
	for i := range 50 {
		rec.WriteRTP(h264Track, &rtp.Header{SequenceNumber: uint16(i), Timestamp: uint32(i * 3000)}, []byte{0x7C, 0x01, 0xAA})
	}
	if _, err := rec.Finish(ctx); !errors.Is(err, record.ErrNothingRecorded) {
		t.Errorf("finish without a keyframe: %v, want ErrNothingRecorded", err)
	}
	if s := rec.Stats(); s.Received != 50 || s.Forwarded != 0 {
		t.Errorf("stats %+v", s)
	}
	if _, err := record.Recover(ctx, st, "lec-4", "s1"); !errors.Is(err, record.ErrNothingRecorded) {
		t.Errorf("recover of nothing: %v", err)
	}

	rec2, err := record.New(ctx, st, record.Options{Lecture: "lec-4", Session: "s2"})
	if err != nil {
		t.Fatal(err)
	}
	rec2.Abort()
	if _, err := rec2.Finish(ctx); !errors.Is(err, record.ErrFinished) {
		t.Errorf("finish after abort: %v", err)
	}

	for _, o := range []record.Options{
		{Lecture: "../x", Session: "s"},
		{Lecture: "x", Session: ""},
		{Lecture: "x", Session: "s", Tracks: []record.TrackInfo{{Kind: "video", MimeType: "video/AV1"}}},
		{Lecture: "x", Session: "s", Tracks: []record.TrackInfo{opusTrack, opusTrack}},
	} {
		if _, err := record.New(ctx, st, o); err == nil {
			t.Errorf("New accepted %+v", o)
		}
	}
}

// The recorder's ffmpeg can be killed mid-lecture; the recorder starts another at the next
// keyframe and the recording goes on, losing only the segment being written.
func TestFFmpegDiesMidLecture(t *testing.T) {
	st := newStorage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	dir := t.TempDir()
	st.TempDir = dir
	rec, err := record.New(ctx, st, record.Options{Lecture: "lec-5", Session: "s1",
		Tracks: []record.TrackInfo{h264Track, opusTrack}})
	if err != nil {
		t.Fatal(err)
	}
	src := &source{Seconds: 24, ReadRate: 4, Tap: rec.WriteRTP}
	done := make(chan struct{})
	go func() {
		defer close(done)
		src.run(ctx, t)
	}()
	for rec.Stats().Segments < 2 {
		select {
		case <-done:
			t.Fatal("the source ended before two segments were stored")
		case <-time.After(50 * time.Millisecond):
		}
	}
	pid := recorderFFmpeg(t, dir)
	if err := killPID(pid); err != nil {
		t.Fatalf("kill ffmpeg %d: %v", pid, err)
	}
	<-done
	res, err := rec.Finish(ctx)
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	s := rec.Stats()
	t.Logf("result %s from %d segments; stats %+v", res.Duration, len(res.Segments), s)
	if s.Restarts != 1 {
		t.Errorf("restarts %d, want 1", s.Restarts)
	}
	// Up to a segment (4 s) and the wait for the next keyframe (1 s) are lost.
	if res.Duration < 17*time.Second || res.Duration > 25*time.Second {
		t.Errorf("duration %s: want the 24 s lecture less what the killed ffmpeg was writing", res.Duration)
	}
	p := checkPlayable(ctx, t, download(ctx, t, st, res.Key))
	if p.VideoCodec != "h264" || p.AudioCodec != "opus" {
		t.Errorf("probe %+v", p)
	}
}

// recorderFFmpeg finds the pid of the recorder's ffmpeg (a child of this test process whose
// command line names a file in dir).
func recorderFFmpeg(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if filepath.Base(args[0]) == "ffmpeg" && strings.Contains(string(cmdline), "file:"+dir) &&
			strings.Contains(string(cmdline), ".sdp") {
			if pid, err := strconv.Atoi(e.Name()); err == nil {
				return pid
			}
		}
	}
	t.Fatal("the recorder's ffmpeg is not running")
	return 0
}

func killPID(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
