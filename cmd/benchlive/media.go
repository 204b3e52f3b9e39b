package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// accessUnit is one H.264 picture in Annex B form (an IDR carries its SPS and PPS).
type accessUnit struct {
	data []byte
	idr  bool
}

// testMedia is what the publisher loops: 30 pictures and 50 Opus packets a second.
type testMedia struct {
	aus   []accessUnit
	opus  [][]byte // one 20 ms packet each
	bytes int      // H.264 bytes in aus, for the bitrate in the caption
}

// Flags of the generated video: 720p30 constrained baseline (profile-level-id 42e01f, what
// the publisher offers), 2.5 Mbit/s held by the VBV, a keyframe every 2 s and no B-frames,
// as a lecture encoder (OBS with the WebRTC preset, a browser) sends. One thread: with
// -tune zerolatency x264 cuts a picture into one slice per thread, and the stream (packets
// per second) would depend on the machine.
func videoArgs(seconds int, out string) []string {
	return []string{"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", strconv.Itoa(seconds),
		"-c:v", "libx264", "-threads", "1", "-preset", "veryfast", "-tune", "zerolatency", "-profile:v", "baseline", "-level:v", "3.1",
		"-pix_fmt", "yuv420p", "-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "2500k",
		"-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-bf", "0", out}
}

// audioArgs: a 440 Hz sine as 64 kbit/s Opus, one 20 ms packet per Ogg page, so that a
// page is an RTP packet.
func audioArgs(seconds int, out string) []string {
	return []string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", strconv.Itoa(seconds),
		"-c:a", "libopus", "-b:a", "64k", "-page_duration", "20000", out}
}

// makeMedia runs ffmpeg once into dir and loads the result.
func makeMedia(ctx context.Context, dir string, seconds int) (*testMedia, error) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return nil, errors.New("ffmpeg not found in PATH")
	}
	h264 := filepath.Join(dir, "lecture.h264")
	ogg := filepath.Join(dir, "lecture.ogg")
	for _, args := range [][]string{videoArgs(seconds, h264), audioArgs(seconds, ogg)} {
		cmd := exec.CommandContext(ctx, "ffmpeg", append([]string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ffmpeg: %w: %s", err, out)
		}
	}
	m := &testMedia{}
	if err := m.loadH264(h264); err != nil {
		return nil, err
	}
	if err := m.loadOpus(ogg); err != nil {
		return nil, err
	}
	if len(m.aus) < 30*seconds*9/10 || !m.aus[0].idr || len(m.opus) < 50*seconds*9/10 {
		return nil, fmt.Errorf("unexpected media: %d pictures (first IDR: %v), %d Opus packets", len(m.aus),
			len(m.aus) > 0 && m.aus[0].idr, len(m.opus))
	}
	return m, nil
}

func (m *testMedia) loadH264(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := h264reader.NewReader(f)
	if err != nil {
		return err
	}
	// A picture (access unit) ends where the next begins: at a parameter set, SEI or
	// delimiter after a slice, or at a slice whose first_mb_in_slice is 0 (its ue(v) is the
	// single bit 1) after another slice.
	var cur accessUnit
	slices := false
	flush := func() {
		if slices {
			m.aus = append(m.aus, cur)
			m.bytes += len(cur.data)
		}
		cur, slices = accessUnit{}, false
	}
	for {
		nal, err := r.NextNAL()
		if errors.Is(err, io.EOF) {
			flush()
			return nil
		}
		if err != nil {
			return err
		}
		slice := nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr || nal.UnitType == h264reader.NalUnitTypeCodedSliceNonIdr
		if slices && (!slice || len(nal.Data) > 1 && nal.Data[1]&0x80 != 0) {
			flush()
		}
		cur.data = append(cur.data, 0, 0, 0, 1)
		cur.data = append(cur.data, nal.Data...)
		if slice {
			slices = true
			cur.idr = cur.idr || nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr
		}
	}
}

func (m *testMedia) loadOpus(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		return err
	}
	for {
		page, _, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if bytes.HasPrefix(page, []byte("OpusTags")) {
			continue
		}
		m.opus = append(m.opus, append([]byte(nil), page...))
	}
}

// videoBitrate is the H.264 bitrate of the loop in bit/s.
func (m *testMedia) videoBitrate() float64 {
	if len(m.aus) == 0 {
		return 0
	}
	return float64(m.bytes) * 8 * 30 / float64(len(m.aus))
}
