package sfutest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// MediaSpec is what ffmpeg makes: 10 s of a test picture at 30 fps in H.264 (constrained
// baseline, no B frames, so that decode order is send order) and 10 s of a sine in Opus.
// The suites differ in picture size and keyframes: the SFU's tests send an IDR every
// second, the server's a single one, so that every later keyframe is one a viewer asked for.
// cmd/benchlive sends 720p at a lecture encoder's bitrate, for as long as it is asked.
type MediaSpec struct {
	Size         string   // picture size, such as "640x360"
	X264         []string // further libx264 options (keyframe interval, preset)
	AudioBitrate string   // libopus, such as "64k"
	Source       string   // the lavfi picture source, "testsrc" if empty
	Seconds      int      // the length of both, 10 if 0
	// StartSize, if set, is the picture size of the first StartSeconds, with a keyframe
	// every second: a browser's encoder starts small while it learns the bandwidth, and
	// sends Size from a new keyframe on once it has.
	StartSize    string
	StartSeconds int

	// What the media must hold, so that a changed ffmpeg fails here and not in a test.
	MinPictures int
	MinOpus     int
	IDRs        int // if not 0, the exact number of IDR pictures
}

// AccessUnit is one picture as a publisher sends it.
type AccessUnit struct {
	Data []byte // Annex B
	IDR  bool
}

// Media is what a test publisher loops.
type Media struct {
	AUs  []AccessUnit
	Opus [][]byte // one 20 ms packet each
	// IDRSums are the SHA-256 sums of the IDR slices, so that a viewer can tell that what
	// it reassembled is a whole, intact keyframe.
	IDRSums map[[32]byte]bool
}

// MakeMedia has ffmpeg make the media in dir and reads it.
func MakeMedia(ctx context.Context, dir string, spec MediaSpec) (*Media, error) {
	h264 := filepath.Join(dir, "out.h264")
	ogg := filepath.Join(dir, "out.ogg")
	source, seconds := cmp.Or(spec.Source, "testsrc"), strconv.Itoa(cmp.Or(spec.Seconds, 10))
	videoArgs := func(size, seconds string, x264 []string, out string) []string {
		a := []string{"-f", "lavfi", "-i", source + "=size=" + size + ":rate=30", "-t", seconds, "-c:v", "libx264"}
		a = append(a, x264...)
		return append(a, "-profile:v", "baseline", "-bf", "0", "-pix_fmt", "yuv420p", out)
	}
	var h264s []string
	var runs [][]string
	if spec.StartSize != "" {
		start := filepath.Join(dir, "start.h264")
		h264s = append(h264s, start)
		runs = append(runs, videoArgs(spec.StartSize, strconv.Itoa(spec.StartSeconds), []string{"-g", "30"}, start))
		seconds = strconv.Itoa(cmp.Or(spec.Seconds, 10) - spec.StartSeconds)
	}
	h264s = append(h264s, h264)
	runs = append(runs, videoArgs(spec.Size, seconds, spec.X264, h264))
	seconds = strconv.Itoa(cmp.Or(spec.Seconds, 10))
	for _, args := range append(runs,
		// One 20 ms Opus packet per Ogg page, so that a page is an RTP packet.
		[]string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", seconds, "-c:a", "libopus",
			"-b:a", spec.AudioBitrate, "-page_duration", "20000", ogg}) {
		cmd := exec.CommandContext(ctx, "ffmpeg", append([]string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ffmpeg: %w: %s", err, out)
		}
	}
	m := &Media{IDRSums: map[[32]byte]bool{}}
	for _, f := range h264s { // one stream, the sizes in turn
		if err := m.readH264(f); err != nil {
			return nil, err
		}
	}
	if err := m.readOgg(ogg); err != nil {
		return nil, err
	}
	idrs := 0
	for _, au := range m.AUs {
		if au.IDR {
			idrs++
		}
	}
	if len(m.AUs) < spec.MinPictures || !m.AUs[0].IDR || (spec.IDRs != 0 && idrs != spec.IDRs) || len(m.Opus) < spec.MinOpus {
		return nil, fmt.Errorf("unexpected test media: %d pictures (%d IDR), %d Opus packets", len(m.AUs), idrs, len(m.Opus))
	}
	return m, nil
}

// readH264 groups the NAL units into pictures: parameter sets and SEI go with the slice
// after them, as an encoder hands them over. A picture is one slice, as libx264 makes it
// unless it cuts pictures for sliced threads (-tune zerolatency with more than one thread).
func (m *Media) readH264(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	hr, err := h264reader.NewReader(f)
	if err != nil {
		return err
	}
	var cur []byte
	for {
		nal, err := hr.NextNAL()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		cur = append(cur, 0, 0, 0, 1)
		cur = append(cur, nal.Data...)
		idr := nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr
		if idr {
			m.IDRSums[sha256.Sum256(nal.Data)] = true
		}
		if idr || nal.UnitType == h264reader.NalUnitTypeCodedSliceNonIdr {
			m.AUs = append(m.AUs, AccessUnit{Data: cur, IDR: idr})
			cur = nil
		}
	}
}

func (m *Media) readOgg(name string) error {
	o, err := os.Open(name)
	if err != nil {
		return err
	}
	defer o.Close()
	or, _, err := oggreader.NewWith(o)
	if err != nil {
		return err
	}
	for {
		page, _, err := or.ParseNextPage()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if bytes.HasPrefix(page, []byte("OpusTags")) {
			continue
		}
		m.Opus = append(m.Opus, append([]byte(nil), page...))
	}
}

// MediaOnce makes the media the first time a test of the binary asks: ffmpeg takes
// seconds, and every publisher loops the same 10 s.
type MediaOnce struct {
	Spec MediaSpec
	// NoFFmpeg ends a test when ffmpeg is not installed; each suite skips or fails by its
	// own rules.
	NoFFmpeg func(t testing.TB, err error)

	once sync.Once
	m    *Media
	err  error
}

// Load returns the media, failing the test if it could not be made.
func (o *MediaOnce) Load(t testing.TB) *Media {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		o.NoFFmpeg(t, err)
	}
	o.once.Do(func() {
		dir, err := os.MkdirTemp("", "sfutest-media-")
		if err != nil {
			o.err = err
			return
		}
		defer func() { _ = os.RemoveAll(dir) }()
		o.m, o.err = MakeMedia(context.Background(), dir, o.Spec)
	})
	if o.err != nil {
		t.Fatal(o.err)
	}
	return o.m
}
