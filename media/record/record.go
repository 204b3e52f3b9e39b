// Package record records a live lecture while it runs, into MinIO, a few seconds at a time.
//
// The SFU hands every RTP packet of the publisher to Recorder.WriteRTP (its Tap), which
// never blocks: packets go on a bounded queue, and a full queue drops and counts them. One
// goroutine takes them off the queue and, from the first video keyframe on, sends them over
// loopback UDP to an ffmpeg that reads them with an SDP file (one m= line per track) and
// copies them, without re-encoding, into short segments: MPEG-TS for H.264 and Opus, WebM
// for VP8. Another goroutine uploads each segment as soon as ffmpeg closes it, under
// Prefix(lecture, session), and deletes the local file. Nothing is held whole in memory, and
// a crash of the server loses the segment being written and any upload in flight: seconds,
// not the talk.
//
// Finish ends ffmpeg cleanly (an RTCP BYE on each stream, so that it writes the last
// segment), uploads the rest and joins the stored segments into one file for the library:
// MP4 (+faststart) for H.264 or sound only, WebM for VP8, made with ffmpeg -c copy in a
// temporary file and uploaded as recording.mp4 or recording.webm beside the segments.
// Recover does the same for a session whose server died, from what MinIO holds.
//
// If ffmpeg dies during a recording, the recorder starts a new one at the next keyframe,
// continuing the segment numbers and the timeline, so a failure costs a few seconds too.
package record

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/shizuishan/culturecloud/storage"
)

// Errors.
var (
	// ErrNothingRecorded: the recording has no segment (no keyframe ever came, or the
	// session holds none).
	ErrNothingRecorded = errors.New("record: nothing was recorded")
	// ErrFinished: Finish or Abort was already called.
	ErrFinished = errors.New("record: recorder already finished")
	// ErrBadName: a lecture or session name that cannot be part of an object key.
	ErrBadName = errors.New("record: lecture and session must be 1-64 letters, digits, '-' or '_'")
	// ErrUnsupported: a declared track whose codec cannot be recorded.
	ErrUnsupported = errors.New("record: unsupported codec (H.264 or VP8 video, Opus audio)")
)

// TrackInfo describes a publisher's track. It has the fields of sfu.TrackInfo, so that one
// converts to the other: record.TrackInfo(t).
type TrackInfo struct {
	Kind        string // "audio" or "video"
	MimeType    string // "video/H264", "video/VP8", "audio/opus" (any case)
	ClockRate   uint32
	Channels    uint16
	PayloadType uint8  // as sent by the publisher
	SDPFmtpLine string // e.g. "packetization-mode=1;profile-level-id=42e01f"
	RID         string // simulcast layer ("h", "m", "l"), "" without simulcast
}

// Storage is where recordings go: an object store (without an answer timeout of its own:
// a recording's upload takes minutes), and a local folder for ffmpeg's files.
type Storage struct {
	Objects *storage.Store
	// TempDir holds the segments being written (a few seconds each, more while MinIO is
	// unreachable) and, during Finish or Recover, the joined file (the whole recording).
	// Default os.TempDir().
	TempDir string
}

// Options configure a Recorder.
type Options struct {
	Lecture string // names the objects: Prefix(Lecture, Session)
	Session string // one publishing session of the lecture; a new one for each publish
	// Tracks declares the publisher's tracks (one audio, one video at most). Tracks not
	// declared are learned from the first packets; one that shows up only after recording
	// started is not recorded.
	Tracks []TrackInfo
	// VideoRID is the simulcast layer recorded. Default: packets without RID, or "h".
	VideoRID string
	// SegmentDuration is the length of a segment, and about what a crash loses. Segments
	// are cut at this interval whether or not a keyframe falls there. Default 4 s.
	SegmentDuration time.Duration
	// QueueSize is the number of packets WriteRTP may queue; more are dropped and counted.
	// Default 2048 (a few seconds of 720p video with sound; at most ~3 MB).
	QueueSize int
	// RequestKeyframe, if set, asks the publisher for a keyframe (a PLI). It is called
	// once a second while the recorder waits for one to start from. It must not block.
	RequestKeyframe func()
	// KeyframeWait is how long to wait for a video keyframe before recording the sound
	// alone. Default 10 s.
	KeyframeWait time.Duration
	// VideoWait is how long to wait for a first video packet, when no video track was
	// declared, before recording the sound alone. Default 2 s.
	VideoWait time.Duration
	// Logger receives warnings (ffmpeg restarts, failed uploads). Default: discarded.
	Logger *slog.Logger
}

// Result is one recording joined into one object.
type Result struct {
	Key         string // e.g. "live/<lecture>/rec/<session>/recording.mp4"
	ContentType string // "video/mp4" or "video/webm"
	Size        int64
	SHA256      string        // hex
	Duration    time.Duration // as ffprobe reads it from the joined file
	HasVideo    bool
	HasAudio    bool
	// Segments are the segment objects joined, in order; the caller deletes them
	// (RemoveSegments) once the recording is safe in the library.
	Segments []string
}

// Stats are a recorder's counters.
type Stats struct {
	Received  uint64 // packets given to WriteRTP
	Dropped   uint64 // packets lost because the queue was full
	Ignored   uint64 // packets of no recorded track, or before the first keyframe
	Forwarded uint64 // packets sent to ffmpeg
	Recording bool   // ffmpeg is running
	Restarts  int    // ffmpeg runs started after one died
	Segments  int    // segments uploaded
	Bytes     int64  // their bytes
}

const (
	defaultSegment      = 4 * time.Second
	defaultQueue        = 2048
	defaultKeyframeWait = 10 * time.Second
	defaultVideoWait    = 2 * time.Second
	maxPayload          = 1500 // larger is not RTP from a WebRTC peer
)

var nameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Prefix is the folder of a session's objects: "live/<lecture>/rec/<session>/".
func Prefix(lecture, session string) string {
	return "live/" + lecture + "/rec/" + session + "/"
}

func checkNames(lecture, session string) error {
	if !nameRe.MatchString(lecture) || !nameRe.MatchString(session) {
		return ErrBadName
	}
	return nil
}

// inPacket is a queued RTP packet: a plain 12-byte header (the publisher's sequence
// number, timestamp, marker and SSRC) and the payload.
type inPacket struct {
	video bool
	info  TrackInfo
	buf   []byte
}

// Recorder records one publishing session. Its methods are safe for concurrent use.
type Recorder struct {
	st     Storage
	o      Options
	prefix string
	log    *slog.Logger

	ctx    context.Context // canceled by Abort, by New's context, or at the end of Finish
	cancel context.CancelFunc
	dir    string // local folder of this recording

	queue    chan inPacket
	closing  atomic.Bool   // Finish or Abort called: WriteRTP ignores packets
	stop     chan struct{} // closed by Finish: the forwarder drains and ends ffmpeg
	stopOnce sync.Once
	fwdDone  chan struct{} // the forwarder is gone and so is every ffmpeg
	upDone   chan struct{} // the uploader is gone
	started  bool

	received, dropped, ignored, forwarded atomic.Uint64
	recording                             atomic.Bool
	restarts                              atomic.Int64

	mu       sync.Mutex
	lists    []string // segment lists of the ffmpeg runs, in order
	uploaded []string // segment keys uploaded, in order
	bytes    int64
	upErr    error // a segment that could not be uploaded in the end
	fatal    error // the forwarder gave up
}

// New starts a recorder. It starts no ffmpeg until a keyframe arrives. Canceling ctx aborts
// the recording as a crash would: ffmpeg is killed, local files are removed, and what was
// uploaded stays for Recover.
func New(ctx context.Context, st Storage, o Options) (*Recorder, error) {
	r, err := newRecorder(ctx, st, o)
	if err != nil {
		return nil, err
	}
	r.start()
	return r, nil
}

// newRecorder checks the options and makes the recorder without starting its goroutines.
func newRecorder(ctx context.Context, st Storage, o Options) (*Recorder, error) {
	if st.Objects == nil {
		return nil, errors.New("record: no object store to record into")
	}
	if err := checkNames(o.Lecture, o.Session); err != nil {
		return nil, err
	}
	kinds := map[string]bool{}
	for _, t := range o.Tracks {
		k := strings.ToLower(t.Kind)
		if kinds[k] {
			return nil, fmt.Errorf("record: two %s tracks declared", k)
		}
		kinds[k] = true
		if _, err := codecOf(t); err != nil {
			return nil, err
		}
	}
	if o.SegmentDuration <= 0 {
		o.SegmentDuration = defaultSegment
	}
	if o.QueueSize <= 0 {
		o.QueueSize = defaultQueue
	}
	if o.KeyframeWait <= 0 {
		o.KeyframeWait = defaultKeyframeWait
	}
	if o.VideoWait <= 0 {
		o.VideoWait = defaultVideoWait
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if st.TempDir == "" {
		st.TempDir = os.TempDir()
	}
	if strings.ContainsRune(st.TempDir, '%') {
		return nil, errors.New("record: temporary folder: no % allowed (ffmpeg reads it as a pattern)")
	}
	dir, err := os.MkdirTemp(st.TempDir, "rec-"+o.Session+"-")
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	rctx, cancel := context.WithCancel(ctx)
	return &Recorder{
		st: st, o: o, prefix: Prefix(o.Lecture, o.Session),
		log: log.With("lecture", o.Lecture, "session", o.Session),
		ctx: rctx, cancel: cancel, dir: dir,
		queue:   make(chan inPacket, o.QueueSize),
		stop:    make(chan struct{}),
		fwdDone: make(chan struct{}),
		upDone:  make(chan struct{}),
	}, nil
}

func (r *Recorder) start() {
	r.started = true
	go r.forward()
	go r.upload()
	go func() { // local files go when everything is done, unless some could not be uploaded
		<-r.fwdDone
		<-r.upDone
		r.mu.Lock()
		upErr := r.upErr
		r.mu.Unlock()
		if upErr != nil {
			r.log.Error("record: segments that could not be uploaded are kept", "dir", r.dir, "err", upErr)
			return
		}
		_ = os.RemoveAll(r.dir)
	}()
}

// Prefix is the folder of this recording's objects.
func (r *Recorder) Prefix() string { return r.prefix }

// WriteRTP queues a packet of the publisher's track. It never blocks: when the queue is
// full the packet is dropped and counted. It copies what it keeps, so header and payload
// may be reused when it returns. Its signature is that of the SFU's Tap.
func (r *Recorder) WriteRTP(track TrackInfo, header *rtp.Header, payload []byte) {
	r.received.Add(1)
	if r.closing.Load() || header == nil || len(payload) == 0 || len(payload) > maxPayload {
		r.ignored.Add(1)
		return
	}
	var video bool
	switch strings.ToLower(track.Kind) {
	case "video":
		video = true
		if !r.wantRID(track.RID) {
			r.ignored.Add(1)
			return
		}
	case "audio":
	default:
		r.ignored.Add(1)
		return
	}
	buf := make([]byte, 12+len(payload))
	buf[0] = 0x80 // version 2, no padding, no extension, no CSRC
	if header.Marker {
		buf[1] = 0x80
	}
	buf[1] |= track.PayloadType & 0x7F
	buf[2], buf[3] = byte(header.SequenceNumber>>8), byte(header.SequenceNumber)
	buf[4], buf[5], buf[6], buf[7] = byte(header.Timestamp>>24), byte(header.Timestamp>>16),
		byte(header.Timestamp>>8), byte(header.Timestamp)
	buf[8], buf[9], buf[10], buf[11] = byte(header.SSRC>>24), byte(header.SSRC>>16),
		byte(header.SSRC>>8), byte(header.SSRC)
	copy(buf[12:], payload)
	select {
	case r.queue <- inPacket{video: video, info: track, buf: buf}:
	default:
		r.dropped.Add(1)
	}
}

func (r *Recorder) wantRID(rid string) bool {
	if r.o.VideoRID != "" {
		return rid == r.o.VideoRID
	}
	return rid == "" || rid == "h"
}

// Stats returns the recorder's counters.
func (r *Recorder) Stats() Stats {
	r.mu.Lock()
	segs, n := len(r.uploaded), r.bytes
	r.mu.Unlock()
	return Stats{
		Received: r.received.Load(), Dropped: r.dropped.Load(), Ignored: r.ignored.Load(),
		Forwarded: r.forwarded.Load(), Recording: r.recording.Load(), Restarts: int(r.restarts.Load()),
		Segments: segs, Bytes: n,
	}
}

// Segments returns the keys of the segments uploaded so far, in order.
func (r *Recorder) Segments() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.uploaded...)
}

// Finish ends the recording: ffmpeg writes its last segment, every segment is uploaded,
// and the segments are joined into one object. When ctx ends first, Finish aborts and
// returns its error; what was uploaded stays for Recover.
func (r *Recorder) Finish(ctx context.Context) (Result, error) {
	if r.closing.Swap(true) {
		return Result{}, ErrFinished
	}
	defer r.cancel()
	r.stopOnce.Do(func() { close(r.stop) })
	for _, done := range []chan struct{}{r.fwdDone, r.upDone} {
		select {
		case <-done:
		case <-ctx.Done():
			return Result{}, fmt.Errorf("record: finish: %w", ctx.Err())
		}
	}
	r.mu.Lock()
	keys := append([]string(nil), r.uploaded...)
	upErr, fatal := r.upErr, r.fatal
	r.mu.Unlock()
	if upErr != nil {
		return Result{}, upErr
	}
	if len(keys) == 0 {
		if fatal != nil {
			return Result{}, fatal
		}
		return Result{}, ErrNothingRecorded
	}
	return assemble(ctx, r.st, r.prefix, keys)
}

// Abort ends the recording without joining it: ffmpeg is killed, the segment being written
// is lost, and what was uploaded stays for Recover. It returns when the recorder's
// goroutines are gone.
func (r *Recorder) Abort() {
	r.closing.Store(true)
	r.cancel()
	if r.started {
		<-r.fwdDone
		<-r.upDone
	}
}
