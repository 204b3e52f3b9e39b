package record

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/shizuishan/culturecloud/storage"
)

// A caller writing while the queue is full is never held up: the packets are dropped and
// counted. The forwarder is not started here, so nothing empties the queue.
func TestWriteRTPNeverBlocks(t *testing.T) {
	objects, err := storage.Connect(storage.Options{Endpoint: "127.0.0.1:1", Bucket: "bucket"}) // never contacted
	if err != nil {
		t.Fatal(err)
	}
	r, err := newRecorder(context.Background(), Storage{Objects: objects, TempDir: t.TempDir()},
		Options{Lecture: "l", Session: "s", QueueSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(r.dir) }()
	info := TrackInfo{Kind: "video", MimeType: "video/H264", ClockRate: 90000, PayloadType: 96}
	payload := bytes.Repeat([]byte{0x65}, 1200)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h := rtp.Header{}
		for i := range 10000 {
			h.SequenceNumber = uint16(i)
			r.WriteRTP(info, &h, payload)
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second): // a hang guard, not a speed requirement
		t.Fatal("WriteRTP blocked on a full queue")
	}
	s := r.Stats()
	if s.Received != 10000 || s.Dropped != 10000-16 || len(r.queue) != 16 {
		t.Errorf("stats %+v, queued %d: want 16 queued and the rest dropped", s, len(r.queue))
	}
	// The queue holds copies: the caller may reuse its buffers.
	payload[0] = 0
	if p := <-r.queue; p.buf[12] != 0x65 || len(p.buf) != 12+1200 {
		t.Error("queued packet shares the caller's buffer")
	}

	// Once finishing, packets are ignored, still without blocking.
	r.closing.Store(true)
	r.WriteRTP(info, &rtp.Header{}, payload)
	if s := r.Stats(); s.Ignored != 1 {
		t.Errorf("stats after closing %+v", s)
	}
}

func TestWriteRTPCopiesHeader(t *testing.T) {
	objects, _ := storage.Connect(storage.Options{Endpoint: "127.0.0.1:1", Bucket: "bucket"})
	r, err := newRecorder(context.Background(), Storage{Objects: objects, TempDir: t.TempDir()},
		Options{Lecture: "l", Session: "s", QueueSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(r.dir) }()
	h := &rtp.Header{Version: 2, Marker: true, PayloadType: 100, SequenceNumber: 0x1234, Timestamp: 0xA1B2C3D4,
		SSRC: 0x01020304, Extension: true, ExtensionProfile: rtp.ExtensionProfileOneByte}
	_ = h.SetExtension(1, []byte{9})
	r.WriteRTP(TrackInfo{Kind: "audio", MimeType: "audio/opus", PayloadType: 111}, h, []byte{1, 2, 3})
	r.WriteRTP(TrackInfo{Kind: "video", RID: "l"}, h, []byte{1}) // another simulcast layer
	r.WriteRTP(TrackInfo{Kind: "data"}, h, []byte{1})
	p := <-r.queue
	var got rtp.Packet
	if err := got.Unmarshal(p.buf); err != nil {
		t.Fatal(err)
	}
	if !got.Marker || got.PayloadType != 111 || got.SequenceNumber != 0x1234 || got.Timestamp != 0xA1B2C3D4 ||
		got.SSRC != 0x01020304 || got.Extension || !bytes.Equal(got.Payload, []byte{1, 2, 3}) {
		t.Errorf("queued %+v", got)
	}
	if s := r.Stats(); s.Ignored != 2 || len(r.queue) != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestWithSprop(t *testing.T) {
	sps := []byte{0x67, 0x42, 0xC0, 0x1F, 0xDA}
	pps := []byte{0x68, 0xCE, 0x3C, 0x80}
	f := withSprop("packetization-mode=1;profile-level-id=42e01f", sps, pps)
	want := "packetization-mode=1;profile-level-id=42e01f;sprop-parameter-sets=" +
		base64.StdEncoding.EncodeToString(sps) + "," + base64.StdEncoding.EncodeToString(pps)
	if f != want || withSprop(f, sps, pps) != f || withSprop("", nil, pps) != "" {
		t.Errorf("withSprop: %q", f)
	}
}

// tsPacket makes a 188-byte transport packet.
func tsPacket(pid int, cc byte, payload bool) []byte {
	p := make([]byte, tsSize)
	p[0], p[1], p[2] = tsSync, byte(pid>>8)&0x1F, byte(pid)
	p[3] = 0x20 | cc // adaptation field only
	if payload {
		p[3] = 0x10 | cc
	}
	return p
}

func TestCCFixerJoinsSegments(t *testing.T) {
	seg := func(ccs ...byte) []byte { // PID 0x100, payload packets, then one PCR-only packet
		var b []byte
		for _, c := range ccs {
			b = append(b, tsPacket(0x100, c, true)...)
		}
		b = append(b, tsPacket(0x100, ccs[len(ccs)-1], false)...)
		return append(b, tsPacket(tsNull, 7, true)...)
	}
	f := newCCFixer()
	var out bytes.Buffer
	for _, s := range [][]byte{seg(14, 15, 0), seg(0, 1, 2), append(seg(0, 1), 0x47, 1, 2)} { // last: a partial packet
		if err := f.copy(&out, bytes.NewReader(s)); err != nil {
			t.Fatal(err)
		}
	}
	b := out.Bytes()
	if len(b)%tsSize != 0 {
		t.Fatalf("%d bytes out", len(b))
	}
	var got []byte
	for i := 0; i < len(b); i += tsSize {
		if pid := int(b[i+1]&0x1F)<<8 | int(b[i+2]); pid == 0x100 {
			got = append(got, b[i+3]&0x0F)
		}
	}
	want := []byte{14, 15, 0, 0, 1, 2, 3, 3, 4, 5, 5}
	if !bytes.Equal(got, want) {
		t.Errorf("counters %v, want %v", got, want)
	}
}

func TestReadList(t *testing.T) {
	p := filepath.Join(t.TempDir(), "list.csv")
	if e, err := readList(p); err != nil || e != nil {
		t.Errorf("missing list: %v %v", e, err)
	}
	if err := os.WriteFile(p, []byte("seg-000001.ts,0.000000,4.997000\nseg-000002.ts,4.997000,8.99\nbogus,1,2\nseg-000003.ts,8.99"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := readList(p)
	if err != nil || len(e) != 2 || e[1].num != 2 || e[1].end != 8.99 || e[0].name != "seg-000001.ts" {
		t.Errorf("entries %+v, %v", e, err)
	}
}

func TestBuildSDP(t *testing.T) {
	sdp := buildSDP([]runTrack{
		{video: true, codec: codecH264, pt: 102, clock: 90000, fmtp: "packetization-mode=1\r\na=evil", port: 40000},
		{codec: codecOpus, pt: 111, clock: 48000, port: 40002},
	})
	for _, want := range []string{
		"c=IN IP4 127.0.0.1\r\n",
		"m=video 40000 RTP/AVP 102\r\na=rtpmap:102 H264/90000\r\na=fmtp:102 packetization-mode=1a=evil\r\n",
		"m=audio 40002 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n",
	} {
		if !strings.Contains(sdp, want) {
			t.Errorf("SDP lacks %q:\n%s", want, sdp)
		}
	}
	if strings.Count(sdp, "a=fmtp") != 1 {
		t.Errorf("SDP:\n%s", sdp)
	}
}
