package record

import (
	"fmt"
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/media/keyframe"
)

type codec int

const (
	codecH264 codec = iota + 1
	codecVP8
	codecOpus
)

// codecOf checks that a track can be recorded and says how.
func codecOf(t TrackInfo) (codec, error) {
	kind := strings.ToLower(t.Kind)
	switch m := strings.ToLower(t.MimeType); {
	case m == "video/h264" && kind == "video":
		return codecH264, nil
	case m == "video/vp8" && kind == "video":
		return codecVP8, nil
	case m == "audio/opus" && kind == "audio":
		return codecOpus, nil
	}
	return 0, fmt.Errorf("%w: %s track %q", ErrUnsupported, t.Kind, t.MimeType)
}

const (
	tickEvery        = 250 * time.Millisecond
	keyframeReqEvery = time.Second
	maxFailures      = 8 // ffmpeg starts or runs in a row that gave no segment before giving up
	byeWait          = 10 * time.Second
	interruptWait    = 5 * time.Second
	settleBeforeBye  = 150 * time.Millisecond
	audioWait        = time.Second // for an undeclared sound track, from the first packet
	maxPending       = 2048        // packets held while waiting for it
)

// track is what the forwarder knows of one of the publisher's tracks.
type track struct {
	info  TrackInfo
	codec codec
}

// fwd is the state of the forwarder goroutine, which alone touches it.
type fwd struct {
	r            *Recorder
	video, audio *track // nil until declared or seen
	rejected     map[string]bool

	waitSince  time.Time // when the wait for a start began (first packet, or ffmpeg's death)
	lastKeyReq time.Time
	sps, pps   []byte // the latest H.264 parameter sets seen in band

	pending   []inPacket // from the start point, while the tracks are not all known
	run       *run
	runs      int
	container string // "ts" or "webm", fixed by the first run
	soundOnly bool   // video given up on: no keyframe came, or the first run had none
	nextSeg   int    // first segment number of the next run
	offset    float64
	failures  int
	nextTry   time.Time
	gaveUp    bool
}

// forward moves packets from the queue to ffmpeg, starting, restarting and ending ffmpeg.
func (r *Recorder) forward() {
	defer close(r.fwdDone)
	f := &fwd{r: r, nextSeg: 1, rejected: map[string]bool{}}
	for _, t := range r.o.Tracks {
		f.learn(t)
	}
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	for {
		var exited chan struct{}
		if f.run != nil {
			exited = f.run.exited
		}
		select {
		case <-r.ctx.Done():
			f.kill()
			return
		case <-r.stop:
			f.drain()
			f.end()
			return
		case p := <-r.queue:
			f.packet(p, time.Now())
		case <-exited:
			f.died(time.Now())
		case now := <-tick.C:
			f.tick(now)
		}
	}
}

// learn records a track's description; the first one of each kind stays.
func (f *fwd) learn(t TrackInfo) *track {
	video := strings.EqualFold(t.Kind, "video")
	if video && f.video != nil {
		return f.video
	}
	if !video && f.audio != nil {
		return f.audio
	}
	c, err := codecOf(t)
	if err != nil {
		if key := t.Kind + " " + t.MimeType; !f.rejected[key] {
			f.rejected[key] = true
			f.r.log.Warn("record: track not recorded", "err", err)
		}
		return nil
	}
	tr := &track{info: t, codec: c}
	if video {
		f.video = tr
	} else {
		f.audio = tr
	}
	return tr
}

func (f *fwd) packet(p inPacket, now time.Time) {
	r := f.r
	if f.waitSince.IsZero() {
		f.waitSince = now
	}
	tr := f.learn(p.info)
	if tr == nil {
		r.ignored.Add(1)
		return
	}
	isKey := false
	if p.video {
		switch tr.codec {
		case codecH264:
			s := keyframe.ScanH264(p.buf[12:])
			if s.SPS != nil {
				f.sps = s.SPS
			}
			if s.PPS != nil {
				f.pps = s.PPS
			}
			isKey = s.HasSPS || (s.IDRStart && (hasSprop(tr.info.SDPFmtpLine) || (f.sps != nil && f.pps != nil)))
		case codecVP8:
			isKey = keyframe.VP8(p.buf[12:])
		}
	}
	if f.run != nil {
		if !f.run.has(p.video) {
			r.ignored.Add(1)
			return
		}
		f.run.send(p.video, p.buf)
		r.forwarded.Add(1)
		return
	}
	switch {
	case f.pending != nil:
		f.pending = append(f.pending, p)
	case f.mayStart(p.video, isKey, now):
		f.pending = []inPacket{p}
	default:
		r.ignored.Add(1)
		return
	}
	f.launch(now)
}

// launch starts ffmpeg for the pending packets (from the start point on) once the tracks
// are known: a first run that starts on a video keyframe waits up to audioWait from the
// first packet for a sound track that was not declared, so as not to leave it out.
func (f *fwd) launch(now time.Time) {
	if f.pending == nil {
		return
	}
	if f.runs == 0 && f.audio == nil && f.pending[0].video && now.Sub(f.waitSince) < audioWait &&
		len(f.pending) < maxPending {
		return
	}
	pending := f.pending
	f.pending = nil
	f.startRun(now)
	for _, q := range pending {
		if f.run == nil || !f.run.has(q.video) {
			f.r.ignored.Add(1)
			continue
		}
		f.run.send(q.video, q.buf)
		f.r.forwarded.Add(1)
	}
}

// mayStart says whether a packet can be the first of a new ffmpeg run: a video keyframe,
// or any sound packet when the recording is of sound only.
func (f *fwd) mayStart(video, keyframe bool, now time.Time) bool {
	if f.gaveUp || f.r.closing.Load() || now.Before(f.nextTry) {
		return false
	}
	if video {
		return keyframe && !f.soundOnly
	}
	if f.soundOnly {
		return true
	}
	// Sound without video: only when no video is expected (none declared, none seen for
	// VideoWait) — the first keyframe otherwise starts the recording for both.
	return f.video == nil && now.Sub(f.waitSince) >= f.r.o.VideoWait
}

// tick asks for keyframes while waiting for one, and gives up on video after KeyframeWait.
func (f *fwd) tick(now time.Time) {
	f.launch(now)
	if f.run != nil || f.pending != nil || f.video == nil || f.soundOnly || f.gaveUp {
		return
	}
	if f.audio != nil && !f.waitSince.IsZero() && now.Sub(f.waitSince) >= f.r.o.KeyframeWait {
		f.soundOnly = true
		f.r.log.Warn("record: no video keyframe came; recording the sound only",
			"waited", f.r.o.KeyframeWait)
		return
	}
	if f.r.o.RequestKeyframe != nil && now.Sub(f.lastKeyReq) >= keyframeReqEvery {
		f.lastKeyReq = now
		f.r.o.RequestKeyframe()
	}
}

func (f *fwd) startRun(now time.Time) {
	r := f.r
	var tracks []runTrack
	if f.video != nil && !f.soundOnly {
		c := f.video.codec
		if f.container == "" || (c == codecVP8) == (f.container == "webm") {
			fmtp := f.video.info.SDPFmtpLine
			if c == codecH264 {
				fmtp = withSprop(fmtp, f.sps, f.pps)
			}
			tracks = append(tracks, runTrack{video: true, codec: c, pt: f.video.info.PayloadType,
				clock: f.video.info.ClockRate, fmtp: fmtp})
		}
	}
	if f.audio != nil {
		tracks = append(tracks, runTrack{codec: codecOpus, pt: f.audio.info.PayloadType,
			clock: f.audio.info.ClockRate, fmtp: f.audio.info.SDPFmtpLine})
	}
	if len(tracks) == 0 {
		return
	}
	if f.container == "" {
		f.container = "ts"
		if tracks[0].codec == codecVP8 {
			f.container = "webm"
		}
		if !tracks[0].video {
			f.soundOnly = true // later runs must have the same streams as the first
		}
	}
	f.runs++
	run, err := startRun(r.ctx, runSpec{
		dir: r.dir, n: f.runs, tracks: tracks, container: f.container,
		firstSegment: f.nextSeg, offset: f.offset, segment: r.o.SegmentDuration,
	})
	if err != nil {
		f.failed(now, err)
		return
	}
	f.run = run
	r.recording.Store(true)
	r.mu.Lock()
	r.lists = append(r.lists, run.list)
	r.mu.Unlock()
}

// failed notes a failed start or a run that gave nothing, and backs off.
func (f *fwd) failed(now time.Time, err error) {
	f.failures++
	f.nextTry = now.Add(min(time.Duration(f.failures)*time.Second, 10*time.Second))
	f.r.log.Warn("record: ffmpeg failed", "err", err, "failures", f.failures)
	if f.failures >= maxFailures {
		f.gaveUp = true
		f.r.mu.Lock()
		f.r.fatal = fmt.Errorf("record: ffmpeg failed %d times, last: %w", f.failures, err)
		f.r.mu.Unlock()
	}
}

// died handles an ffmpeg that ended on its own: the next keyframe starts another one,
// continuing the segment numbers and the timeline where the last listed segment ended.
func (f *fwd) died(now time.Time) {
	run := f.run
	f.run = nil
	run.close()
	f.r.recording.Store(false)
	f.r.restarts.Add(1)
	f.waitSince = now
	entries, _ := readList(run.list)
	if len(entries) > 0 {
		last := entries[len(entries)-1]
		f.nextSeg = last.num + 1
		f.offset = last.end
		f.failures = 0
		f.r.log.Warn("record: ffmpeg ended; restarting at the next keyframe", "err", run.error())
		return
	}
	f.failed(now, run.error())
}

// drain forwards what is still queued.
func (f *fwd) drain() {
	for {
		select {
		case p := <-f.r.queue:
			f.packet(p, time.Now())
		default:
			return
		}
	}
}

// end stops ffmpeg cleanly so that it closes and lists its last segment: an RTCP BYE on
// every stream makes it see the end of its input. SIGINT, then SIGKILL, if it does not.
func (f *fwd) end() {
	f.r.ignored.Add(uint64(len(f.pending))) // under a second, before the tracks were known
	f.pending = nil
	run := f.run
	if run == nil {
		return
	}
	f.run = nil
	defer f.r.recording.Store(false)
	defer run.close()
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-run.exited:
			return true
		case <-f.r.ctx.Done():
			return false
		case <-t.C:
			return false
		}
	}
	if wait(settleBeforeBye) { // let ffmpeg read the last packets before the BYE
		return
	}
	run.bye()
	if wait(byeWait) {
		return
	}
	f.r.log.Warn("record: ffmpeg did not end after RTCP BYE; interrupting it")
	run.interrupt()
	if wait(interruptWait) {
		return
	}
	run.kill()
	<-run.exited
}

// kill ends ffmpeg at once (the recorder was aborted).
func (f *fwd) kill() {
	if f.run == nil {
		return
	}
	f.run.kill()
	<-f.run.exited
	f.run.close()
	f.run = nil
	f.r.recording.Store(false)
}
