package record

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shizuishan/culturecloud/media/ffmpeg"
)

// runTrack is one m= line of a run's SDP.
type runTrack struct {
	video bool
	codec codec
	pt    uint8
	clock uint32
	fmtp  string
	port  int
}

// runSpec is what one ffmpeg run is to do.
type runSpec struct {
	dir          string
	n            int
	tracks       []runTrack
	container    string  // "ts" or "webm"
	firstSegment int     // number of its first segment
	offset       float64 // seconds added to its timestamps, so that they follow the last run's
	segment      time.Duration
}

// run is one ffmpeg process reading RTP from loopback UDP and writing segments.
type run struct {
	cmd    *exec.Cmd
	conns  map[bool]*net.UDPConn // by "is video"
	pts    map[bool]uint8
	list   string
	stderr *ffmpeg.Tail
	exited chan struct{}
	err    error // Wait's answer, once exited is closed
}

const (
	startAttempts = 3
	readyTimeout  = 10 * time.Second
	probeWait     = 30 * time.Millisecond
	waitDelay     = 5 * time.Second
	udpBuffer     = 4 << 20
)

// rtcpRR is an empty RTCP receiver report: the readiness probe. It is shorter than an RTP
// header, so ffmpeg drops it unread.
var rtcpRR = []byte{0x80, 201, 0, 1, 0x52, 0x45, 0x43, 0x31}

// rtcpBye is a compound RTCP packet (empty RR, then BYE) that ends one of ffmpeg's streams;
// when every stream has had one, ffmpeg sees the end of its input and finishes its output.
var rtcpBye = []byte{0x80, 201, 0, 1, 0x52, 0x45, 0x43, 0x31, 0x81, 203, 0, 1, 0x52, 0x45, 0x43, 0x31}

func segmentExt(container string) string {
	if container == "webm" {
		return ".webm"
	}
	return ".ts"
}

// startRun starts ffmpeg and returns once it listens on its ports. A port taken between
// choosing it and ffmpeg binding it makes ffmpeg fail; it is tried again with others.
func startRun(ctx context.Context, s runSpec) (*run, error) {
	var err error
	for range startAttempts {
		var r *run
		if r, err = tryStart(ctx, s); err == nil {
			return r, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return nil, err
}

func tryStart(ctx context.Context, s runSpec) (*run, error) {
	tracks := append([]runTrack(nil), s.tracks...)
	for i := range tracks {
		p, err := freePortPair(ctx)
		if err != nil {
			return nil, err
		}
		tracks[i].port = p
	}
	sdpPath := filepath.Join(s.dir, fmt.Sprintf("run-%d.sdp", s.n))
	if err := os.WriteFile(sdpPath, []byte(buildSDP(tracks)), 0o600); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	list := filepath.Join(s.dir, fmt.Sprintf("list-%d.csv", s.n))
	_ = os.Remove(list)

	r := &run{conns: map[bool]*net.UDPConn{}, pts: map[bool]uint8{}, list: list, stderr: &ffmpeg.Tail{},
		exited: make(chan struct{})}
	cmd := exec.CommandContext(ctx, "ffmpeg", ffmpegArgs(s, sdpPath, list)...)
	cmd.Stderr = r.stderr
	cmd.WaitDelay = waitDelay
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("record: ffmpeg: %w", err)
	}
	r.cmd = cmd
	go func() {
		r.err = cmd.Wait()
		close(r.exited)
	}()
	var d net.Dialer
	for _, t := range tracks {
		c, err := d.DialContext(ctx, "udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(t.port)))
		if err != nil {
			r.kill()
			<-r.exited
			r.close()
			return nil, fmt.Errorf("record: %w", err)
		}
		uc := c.(*net.UDPConn)
		_ = uc.SetWriteBuffer(udpBuffer)
		r.conns[t.video] = uc
		r.pts[t.video] = t.pt
	}
	if err := r.waitReady(ctx); err != nil {
		r.kill()
		<-r.exited
		r.close()
		return nil, err
	}
	return r, nil
}

func ffmpegArgs(s runSpec, sdpPath, list string) []string {
	format := "mpegts"
	if s.container == "webm" {
		format = "webm"
	}
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "warning", "-y",
		"-protocol_whitelist", "file,udp,rtp", "-buffer_size", strconv.Itoa(udpBuffer),
		"-fflags", "+genpts", "-f", "sdp", "-i", "file:" + sdpPath,
		"-map", "0", "-c", "copy"}
	if s.offset > 0 && s.container != "webm" {
		args = append(args, "-output_ts_offset", strconv.FormatFloat(s.offset, 'f', 6, 64))
	}
	// Transport-stream segments keep the timeline (they are joined byte for byte); WebM
	// segments each start at 0, which is what the concat demuxer that joins them expects.
	reset := "0"
	if s.container == "webm" {
		reset = "1"
	}
	return append(args, "-f", "segment", "-segment_format", format,
		"-segment_time", strconv.FormatFloat(s.segment.Seconds(), 'f', 3, 64),
		// Cut on time, keyframe or not: the segments are joined again, never played alone,
		// and a publisher may send keyframes only when asked.
		"-break_non_keyframes", "1", "-reset_timestamps", reset,
		"-segment_list", "file:"+list, "-segment_list_type", "csv",
		"-segment_start_number", strconv.Itoa(s.firstSegment),
		"file:"+filepath.Join(s.dir, "seg-%06d"+segmentExt(s.container)))
}

// buildSDP describes the run's streams to ffmpeg, each on its loopback port.
func buildSDP(tracks []runTrack) string {
	var b strings.Builder
	b.WriteString("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=culturecloud recording\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n")
	for _, t := range tracks {
		kind, rtpmap := "audio", fmt.Sprintf("opus/%d/2", or(t.clock, 48000))
		switch t.codec {
		case codecH264:
			kind, rtpmap = "video", fmt.Sprintf("H264/%d", or(t.clock, 90000))
		case codecVP8:
			kind, rtpmap = "video", fmt.Sprintf("VP8/%d", or(t.clock, 90000))
		}
		fmt.Fprintf(&b, "m=%s %d RTP/AVP %d\r\na=rtpmap:%d %s\r\n", kind, t.port, t.pt, t.pt, rtpmap)
		if f := cleanFmtp(t.fmtp); f != "" {
			fmt.Fprintf(&b, "a=fmtp:%d %s\r\n", t.pt, f)
		}
	}
	return b.String()
}

func or(v, def uint32) uint32 {
	if v == 0 {
		return def
	}
	return v
}

// cleanFmtp keeps an fmtp line to one line of printable ASCII, so that it cannot add SDP
// lines of its own.
func cleanFmtp(s string) string {
	var b strings.Builder
	for _, c := range strings.TrimSpace(s) {
		if c >= 0x20 && c < 0x7F {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// freePortPair finds a loopback UDP port whose next port is free too (ffmpeg takes both,
// for RTP and RTCP).
func freePortPair(ctx context.Context) (int, error) {
	var lc net.ListenConfig
	for range 50 {
		a, err := lc.ListenPacket(ctx, "udp4", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("record: %w", err)
		}
		p := a.LocalAddr().(*net.UDPAddr).Port
		if p >= 65535 {
			_ = a.Close()
			continue
		}
		b, err := lc.ListenPacket(ctx, "udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(p+1)))
		_ = a.Close()
		if err != nil {
			continue
		}
		_ = b.Close()
		return p, nil
	}
	return 0, errors.New("record: no free UDP port pair")
}

// waitReady waits until ffmpeg listens on every port: a datagram to a port nobody has
// bound comes back as an ICMP "port unreachable", which a connected UDP socket reports as
// ECONNREFUSED. Two quiet probes in a row on each port mean it is bound.
func (r *run) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(readyTimeout)
	for _, c := range r.conns {
		quiet := 0
		for quiet < 2 {
			select {
			case <-r.exited:
				return fmt.Errorf("record: ffmpeg ended at start: %w: %s", r.error(), ffmpeg.CleanStderr(r.stderr.String(), ""))
			case <-ctx.Done():
				return ctx.Err()
			default:
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("record: ffmpeg did not open its ports within %s: %s", readyTimeout, ffmpeg.CleanStderr(r.stderr.String(), ""))
			}
			ok, err := probe(c)
			if err != nil {
				return fmt.Errorf("record: probing ffmpeg: %w", err)
			}
			if ok {
				quiet++
			} else {
				quiet = 0
				time.Sleep(probeWait)
			}
		}
	}
	return nil
}

func probe(c *net.UDPConn) (bool, error) {
	if _, err := c.Write(rtcpRR); err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return false, nil
		}
		return false, err
	}
	_ = c.SetReadDeadline(time.Now().Add(probeWait))
	defer func() { _ = c.SetReadDeadline(time.Time{}) }()
	var buf [1500]byte
	_, err := c.Read(buf[:])
	var ne net.Error
	switch {
	case err == nil:
		return true, nil // something is there and even answered
	case errors.Is(err, syscall.ECONNREFUSED):
		return false, nil
	case errors.As(err, &ne) && ne.Timeout():
		return true, nil
	}
	return false, err
}

func (r *run) has(video bool) bool { return r.conns[video] != nil }

// send writes one packet to ffmpeg with the payload type of its m= line. Errors are
// ignored: an ffmpeg that is gone is noticed by its exit.
func (r *run) send(video bool, buf []byte) {
	buf[1] = buf[1]&0x80 | r.pts[video]&0x7F
	_, _ = r.conns[video].Write(buf)
}

func (r *run) bye() {
	for _, c := range r.conns {
		_, _ = c.Write(rtcpBye)
	}
}

func (r *run) interrupt() {
	if r.cmd.Process != nil {
		_ = r.cmd.Process.Signal(os.Interrupt)
	}
}

func (r *run) kill() {
	if r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
	}
}

func (r *run) close() {
	for _, c := range r.conns {
		_ = c.Close()
	}
}

// error describes how the run ended, once it has.
func (r *run) error() error {
	msg := ffmpeg.CleanStderr(r.stderr.String(), "")
	if r.err == nil {
		return fmt.Errorf("ffmpeg ended: %s", msg)
	}
	return fmt.Errorf("ffmpeg: %w: %s", r.err, msg)
}
