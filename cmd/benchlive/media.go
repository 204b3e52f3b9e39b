package main

import (
	"context"
	"errors"
	"os/exec"

	"github.com/shizuishan/culturecloud/media/sfu/sfutest"
)

// mediaSpec is the generated lecture: 720p30 constrained baseline (profile-level-id 42e01f,
// what the publisher offers), 2.5 Mbit/s held by the VBV, a keyframe every 2 s and no
// B-frames, as a lecture encoder (OBS with the WebRTC preset, a browser) sends, and a 440 Hz
// sine as 64 kbit/s Opus in 20 ms packets. One thread: with -tune zerolatency x264 cuts a
// picture into one slice per thread, and the stream (packets per second) would depend on the
// machine; sfutest also takes a picture to be one slice.
func mediaSpec(seconds int) sfutest.MediaSpec {
	return sfutest.MediaSpec{
		Source: "testsrc2", Size: "1280x720", Seconds: seconds, AudioBitrate: "64k",
		X264: []string{"-threads", "1", "-preset", "veryfast", "-tune", "zerolatency", "-level:v", "3.1",
			"-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "2500k", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0"},
		MinPictures: 30 * seconds * 9 / 10, MinOpus: 50 * seconds * 9 / 10,
	}
}

// makeMedia runs ffmpeg once into dir and loads what the publisher loops: 30 pictures and
// 50 Opus packets a second.
func makeMedia(ctx context.Context, dir string, seconds int) (*sfutest.Media, error) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return nil, errors.New("ffmpeg not found in PATH")
	}
	return sfutest.MakeMedia(ctx, dir, mediaSpec(seconds))
}

// videoBitrate is the H.264 bitrate of the loop in bit/s.
func videoBitrate(m *sfutest.Media) float64 {
	if len(m.AUs) == 0 {
		return 0
	}
	bytes := 0
	for _, au := range m.AUs {
		bytes += len(au.Data)
	}
	return float64(bytes) * 8 * 30 / float64(len(m.AUs))
}
