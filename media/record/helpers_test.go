package record_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/shizuishan/culturecloud/internal/testservices"
	"github.com/shizuishan/culturecloud/media/record"
	"github.com/shizuishan/culturecloud/media/transcode"
	"github.com/shizuishan/culturecloud/storage"
)

func TestMain(m *testing.M) { testservices.Main(m) }

// newStorage makes a bucket of the test's own on the shared real MinIO.
func newStorage(tb testing.TB) record.Storage {
	tb.Helper()
	needTools(tb)
	stack := testservices.Shared(tb)
	svc := testservices.For(tb, stack)
	return record.Storage{Objects: testservices.Objects(tb, svc).Long(), TempDir: tb.TempDir()}
}

func needTools(tb testing.TB) {
	tb.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			testservices.Unavailable(tb, err)
		}
	}
}

var (
	h264Track = record.TrackInfo{Kind: "video", MimeType: "video/H264", ClockRate: 90000, PayloadType: 102,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}
	vp8Track  = record.TrackInfo{Kind: "video", MimeType: "video/VP8", ClockRate: 90000, PayloadType: 96}
	opusTrack = record.TrackInfo{Kind: "audio", MimeType: "audio/opus", ClockRate: 48000, Channels: 2,
		PayloadType: 111, SDPFmtpLine: "minptime=10;useinbandfec=1"}
)

// source is a publisher: ffmpeg encodes a test picture and a tone and sends them as RTP,
// which the test reads from UDP and hands to a tap, as the SFU hands a publisher's packets.
type source struct {
	Seconds  int
	ReadRate float64 // media seconds per second; 0 is as fast as ffmpeg goes
	VP8      bool
	NoVideo  bool // sound only
	Tap      func(track record.TrackInfo, h *rtp.Header, payload []byte)

	mu      sync.Mutex
	packets map[string]int
	gaps    map[string]int
}

// run sends the whole stream and returns when ffmpeg is done and the sockets are quiet, or
// when ctx ends (it then kills ffmpeg).
func (s *source) run(ctx context.Context, tb testing.TB) {
	tb.Helper()
	s.packets, s.gaps = map[string]int{}, map[string]int{}
	var lc net.ListenConfig
	listen := func() *net.UDPConn {
		c, err := lc.ListenPacket(ctx, "udp4", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		uc := c.(*net.UDPConn)
		_ = uc.SetReadBuffer(4 << 20)
		return uc
	}
	vc, ac := listen(), listen()
	defer func() { _, _ = vc.Close(), ac.Close() }()
	port := func(c *net.UDPConn) string { return strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port) }

	video := h264Track
	d := strconv.Itoa(s.Seconds)
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error"}
	if s.ReadRate > 0 {
		args = append(args, "-readrate", strconv.FormatFloat(s.ReadRate, 'f', 2, 64))
	}
	size := "640x360"
	if s.VP8 {
		size = "320x240"
		video = vp8Track
	}
	// An unused input would make -readrate ineffective, so sound only has none.
	sound := "1:a"
	if s.NoVideo {
		sound = "0:a"
	} else {
		args = append(args, "-f", "lavfi", "-i", "testsrc=size="+size+":rate=30:duration="+d)
	}
	args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration="+d)
	switch {
	case s.NoVideo:
	case s.VP8:
		args = append(args, "-map", "0:v")
		args = append(args, "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "400k",
			"-g", "30", "-keyint_min", "30", "-auto-alt-ref", "0", "-lag-in-frames", "0")
	default:
		args = append(args, "-map", "0:v", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
			"-profile:v", "baseline", "-bf", "0", "-g", "30", "-keyint_min", "30", "-pix_fmt", "yuv420p")
	}
	if !s.NoVideo {
		args = append(args, "-f", "rtp", "-payload_type", strconv.Itoa(int(video.PayloadType)),
			"rtp://127.0.0.1:"+port(vc)+"?pkt_size=1200")
	}
	args = append(args, "-map", sound, "-c:a", "libopus", "-b:a", "64k",
		"-f", "rtp", "-payload_type", strconv.Itoa(int(opusTrack.PayloadType)), "rtp://127.0.0.1:"+port(ac)+"?pkt_size=1200")
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()

	var wg sync.WaitGroup
	read := func(c *net.UDPConn, info record.TrackInfo) {
		defer wg.Done()
		buf := make([]byte, 2048)
		var last uint16
		first := true
		for {
			_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			n, err := c.Read(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					select {
					case <-exited:
						return
					default:
						continue
					}
				}
				return
			}
			var p rtp.Packet
			if p.Unmarshal(buf[:n]) != nil || p.PayloadType >= 72 && p.PayloadType <= 76 {
				continue // not RTP (ffmpeg's RTCP goes to port+1, but be safe)
			}
			s.mu.Lock()
			s.packets[info.Kind]++
			if !first && p.SequenceNumber != last+1 {
				s.gaps[info.Kind]++
			}
			s.mu.Unlock()
			first, last = false, p.SequenceNumber
			s.Tap(info, &p.Header, p.Payload)
		}
	}
	wg.Add(2)
	go read(vc, video)
	go read(ac, opusTrack)
	wg.Wait()
	<-exited
	if ctx.Err() == nil && cmd.ProcessState != nil && !cmd.ProcessState.Success() {
		tb.Fatalf("source ffmpeg: %v: %s", cmd.ProcessState, stderr.String())
	}
}

func (s *source) counts() (map[string]int, map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.packets, s.gaps
}

// segmentKeys lists the segment objects under prefix.
func segmentKeys(ctx context.Context, tb testing.TB, st record.Storage, prefix string) []string {
	tb.Helper()
	var keys []string
	all, err := st.Objects.Keys(ctx, prefix)
	if err != nil {
		tb.Fatalf("list: %v", err)
	}
	for _, k := range all {
		if strings.HasPrefix(k[len(prefix):], "seg-") {
			keys = append(keys, k)
		}
	}
	return keys
}

// download fetches an object into the test's temporary folder.
func download(ctx context.Context, tb testing.TB, st record.Storage, key string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), filepath.Base(key))
	body, _, err := st.Objects.Get(ctx, key, storage.GetOptions{})
	if err != nil {
		tb.Fatalf("download %s: %v", key, err)
	}
	defer body.Close()
	f, err := os.Create(p)
	if err == nil {
		_, err = io.Copy(f, body)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		tb.Fatalf("download %s: %v", key, err)
	}
	return p
}

// checkPlayable probes a file and decodes all of it: ffprobe and ffmpeg must not complain.
func checkPlayable(ctx context.Context, tb testing.TB, p string) transcode.Probe {
	tb.Helper()
	pr, err := transcode.ProbeFile(ctx, p)
	if err != nil {
		tb.Fatalf("probe: %v", err)
	}
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_format", "-show_streams", p).CombinedOutput()
	if err != nil {
		tb.Fatalf("ffprobe: %v: %s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && !strings.HasPrefix(l, "[") && !strings.Contains(l, "=") {
			tb.Errorf("ffprobe complains: %s", l)
		}
	}
	dec, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-i", p, "-f", "null", "-").CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(dec))) > 0 {
		tb.Errorf("decoding the whole file: %v: %s", err, dec)
	}
	return pr
}

func within(d, want, tol time.Duration) bool { return d >= want-tol && d <= want+tol }

// startTimes returns the start time of the first video and audio streams of a file.
func startTimes(ctx context.Context, tb testing.TB, p string) (video, audio float64) {
	tb.Helper()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_entries", "stream=codec_type,start_time",
		"-of", "csv=p=0", p).Output()
	if err != nil {
		tb.Fatalf("ffprobe: %v", err)
	}
	video, audio = -1, -1
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		kind, v, _ := strings.Cut(l, ",")
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		if kind == "video" && video < 0 {
			video = f
		}
		if kind == "audio" && audio < 0 {
			audio = f
		}
	}
	return video, audio
}
