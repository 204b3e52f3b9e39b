package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/testenv"
)

// startLiveServer runs the product with the test configuration changed by adjust.
func startLiveServer(t *testing.T, adjust func(*config.Config)) *testenv.Server {
	t.Helper()
	cfg := testenv.Config(t, testenv.Shared(t))
	adjust(cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return testenv.StartServer(t, cfg)
}

// lectureJSON is a lecture as the API shows it.
type lectureJSON struct {
	ID           string     `json:"id"`
	Title        string     `json:"title"`
	State        string     `json:"state"`
	Visibility   string     `json:"visibility"`
	WentLiveAt   *time.Time `json:"went_live_at"`
	EndedAt      *time.Time `json:"ended_at"`
	ReplayItem   string     `json:"replay_item"`
	PeakViewers  int64      `json:"peak_viewers"`
	TotalViewers int64      `json:"total_viewers"`
	StreamKey    string     `json:"stream_key"`
	WHIP         string     `json:"whip_url"`
	WHEP         string     `json:"whep_url"`
	History      []struct {
		State string `json:"state"`
		By    string `json:"by"`
	} `json:"history"`
}

func (c *client) lecture(id string) lectureJSON {
	c.t.Helper()
	var l lectureJSON
	c.want(http.StatusOK, "GET", "/api/v1/lectures/"+id, nil).json(c.t, &l)
	return l
}

type liveStats struct {
	Current int64 `json:"current"`
	Peak    int64 `json:"peak"`
	Total   int64 `json:"total"`
}

func (c *client) liveStats(id string) liveStats {
	c.t.Helper()
	var st liveStats
	c.want(http.StatusOK, "GET", "/api/v1/lectures/"+id+"/stats", nil).json(c.t, &st)
	return st
}

// createLecture schedules a lecture as the signed-in lecturer and returns it with its key.
func (c *client) createLecture(title string, start time.Time, visibility string) lectureJSON {
	c.t.Helper()
	var l lectureJSON
	r := c.want(http.StatusCreated, "POST", "/api/v1/lectures", map[string]any{
		"title": title, "lecturer": map[string]any{"account": liveLecturer}, "unit": "dwk-culture-centre",
		"start": start.UTC().Format(time.RFC3339), "duration_minutes": 60, "visibility": visibility,
		"description": "从煤城到山水园林城市：石嘴山的工业遗产。",
	})
	r.json(c.t, &l)
	if l.ID == "" || l.State != "scheduled" || len(l.StreamKey) != 43 || r.header.Get("Location") != "/api/v1/lectures/"+l.ID {
		c.t.Fatalf("created lecture %s (Location %q)", r.body, r.header.Get("Location"))
	}
	return l
}

const (
	liveLecturer = "lec.live"
	livePassword = "Lecture-Hall-2026"
)

// liveAccounts makes a lecturer (signed in) and a citizen (registered and signed in).
func liveAccounts(t *testing.T, srv *testenv.Server) (admin, lecturer, citizen *client) {
	t.Helper()
	admin = newClient(t, srv.URL)
	admin.login(testenv.AdminName, testenv.AdminPassword)
	admin.want(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"name": liveLecturer, "display_name": "王教授",
		"password": livePassword, "role": "lecturer", "unit": "dwk-culture-centre"})
	lecturer = newClient(t, srv.URL)
	lecturer.login(liveLecturer, livePassword)
	citizen = registerCitizen(t, srv, "xiao.hong", "小红")
	return admin, lecturer, citizen
}

func registerCitizen(t *testing.T, srv *testenv.Server, name, display string) *client {
	t.Helper()
	c := newClient(t, srv.URL)
	c.want(http.StatusCreated, "POST", "/api/v1/auth/register", map[string]any{"name": name, "display_name": display,
		"password": "Yellow-River-2026"})
	c.login(name, "Yellow-River-2026")
	return c
}

// ---- test media: H.264 and Opus made by ffmpeg, loaded once ----

type liveAU struct {
	data []byte // Annex B
	idr  bool
}

type liveMedia struct {
	aus  []liveAU
	opus [][]byte // one 20 ms packet each
	// idrs are the SHA-256 sums of the IDR slices sent, so that a viewer can tell that
	// what it reassembled is a whole, intact keyframe.
	idrs map[[32]byte]bool
}

var (
	liveMediaOnce sync.Once
	liveMediaVal  *liveMedia
	liveMediaErr  error
)

// loadLiveMedia makes 10 s of 320x240 H.264 (constrained baseline, 30 fps) with a single
// IDR at the start, so that every other keyframe a viewer gets is one it asked for, and
// 10 s of Opus in 20 ms packets. The publisher loops them.
func loadLiveMedia(t testing.TB) *liveMedia {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		testenv.Unavailable(t, err)
	}
	liveMediaOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cc-live-media-")
		if err != nil {
			liveMediaErr = err
			return
		}
		defer func() { _ = os.RemoveAll(dir) }()
		liveMediaVal, liveMediaErr = makeLiveMedia(dir)
	})
	if liveMediaErr != nil {
		t.Fatal(liveMediaErr)
	}
	return liveMediaVal
}

func makeLiveMedia(dir string) (*liveMedia, error) {
	h264 := filepath.Join(dir, "out.h264")
	ogg := filepath.Join(dir, "out.ogg")
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-t", "10", "-c:v", "libx264", "-preset", "veryfast",
			"-profile:v", "baseline", "-bf", "0", "-x264-params", "keyint=300:min-keyint=300:scenecut=0",
			"-pix_fmt", "yuv420p", h264},
		// One 20 ms Opus packet per Ogg page, so that a page is an RTP packet.
		{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "10", "-c:a", "libopus",
			"-b:a", "48k", "-page_duration", "20000", ogg},
	} {
		cmd := exec.Command("ffmpeg", append([]string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ffmpeg: %w: %s", err, out)
		}
	}
	m := &liveMedia{idrs: map[[32]byte]bool{}}
	f, err := os.Open(h264)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	hr, err := h264reader.NewReader(f)
	if err != nil {
		return nil, err
	}
	var cur []byte
	for {
		nal, err := hr.NextNAL()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		cur = append(cur, 0, 0, 0, 1)
		cur = append(cur, nal.Data...)
		idr := nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr
		if idr {
			m.idrs[sha256.Sum256(nal.Data)] = true
		}
		if idr || nal.UnitType == h264reader.NalUnitTypeCodedSliceNonIdr {
			m.aus = append(m.aus, liveAU{data: cur, idr: idr})
			cur = nil
		}
	}
	o, err := os.Open(ogg)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	or, _, err := oggreader.NewWith(o)
	if err != nil {
		return nil, err
	}
	for {
		page, _, err := or.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if bytes.HasPrefix(page, []byte("OpusTags")) {
			continue
		}
		m.opus = append(m.opus, append([]byte(nil), page...))
	}
	idrs := 0
	for _, au := range m.aus {
		if au.idr {
			idrs++
		}
	}
	if len(m.aus) < 290 || !m.aus[0].idr || idrs != 1 || len(m.opus) < 490 {
		return nil, fmt.Errorf("unexpected test media: %d pictures (%d IDR), %d Opus packets", len(m.aus), idrs, len(m.opus))
	}
	return m, nil
}

// ---- pion peers ----

// peerAPI is a pion API for test peers: default codecs and interceptors, loopback UDP.
func peerAPI(t testing.TB) *webrtc.API {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, reg); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.LoggerFactory = &logging.DefaultLoggerFactory{Writer: io.Discard, DefaultLogLevel: logging.LogLevelDisabled}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
}

// localOffer creates and sets a local offer and waits for its candidates (no trickle).
func localOffer(pc *webrtc.PeerConnection) (string, error) {
	o, err := pc.CreateOffer(nil)
	if err != nil {
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		return "", err
	}
	select {
	case <-gathered:
	case <-time.After(30 * time.Second):
		return "", errors.New("ICE gathering did not complete")
	}
	return pc.LocalDescription().SDP, nil
}

// sdpReply is the answer to a WHIP or WHEP POST.
type sdpReply struct {
	status int
	header http.Header
	body   []byte
}

// postSDP posts an offer; it is safe to call from any goroutine. headers are name, value pairs.
func postSDP(hc *http.Client, url, offer string, headers ...string) (sdpReply, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(offer))
	if err != nil {
		return sdpReply{}, err
	}
	req.Header.Set("Content-Type", "application/sdp")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		return sdpReply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return sdpReply{status: resp.StatusCode, header: resp.Header, body: b}, err
}

// livePublisher is an encoder publishing over WHIP: H.264 at 30 fps and Opus every 20 ms,
// looped, with an IDR at once whenever a PLI comes (as a real encoder does).
type livePublisher struct {
	pc       *webrtc.PeerConnection
	location string
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	jump     atomic.Bool
	plis     atomic.Int64
	firstPLI atomic.Int64 // unix ns
	started  time.Time    // the WHIP answer came
	idrs     atomic.Int64
	frames   atomic.Int64
}

// newPublisherPC makes a PeerConnection with an H.264 (preferred) and an Opus track.
func newPublisherPC(t testing.TB) (*webrtc.PeerConnection, *webrtc.TrackLocalStaticSample, *webrtc.TrackLocalStaticSample) {
	t.Helper()
	pc, err := peerAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264}, "video", "lecture")
	if err != nil {
		t.Fatal(err)
	}
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "lecture")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []webrtc.TrackLocal{video, audio} {
		tc, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			t.Fatal(err)
		}
		if tr == webrtc.TrackLocal(video) {
			// As the studio page does: H.264 first (pion would offer VP8 first).
			if err := tc.SetCodecPreferences([]webrtc.RTPCodecParameters{{
				RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
					SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
				PayloadType: 125,
			}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return pc, video, audio
}

// publisherOffer is the SDP offer of a publisher that will never connect (for refusals).
func publisherOffer(t testing.TB) string {
	t.Helper()
	pc, _, _ := newPublisherPC(t)
	o, err := localOffer(pc)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// publish goes live over WHIP with the stream key and starts sending.
func publish(t testing.TB, base, lecture, key string) *livePublisher {
	t.Helper()
	m := loadLiveMedia(t)
	pc, video, audio := newPublisherPC(t)
	p := &livePublisher{pc: pc, stop: make(chan struct{})}
	for _, s := range pc.GetSenders() {
		isVideo := s.Track() == webrtc.TrackLocal(video)
		go func() {
			for {
				pkts, _, err := s.ReadRTCP()
				if err != nil {
					return
				}
				for _, pk := range pkts {
					if _, ok := pk.(*rtcp.PictureLossIndication); ok && isVideo {
						p.plis.Add(1)
						p.firstPLI.CompareAndSwap(0, time.Now().UnixNano())
						p.jump.Store(true)
					}
				}
			}
		}()
	}
	offer, err := localOffer(pc)
	if err != nil {
		t.Fatal(err)
	}
	r, err := postSDP(testenv.Client(), base+"/api/v1/lectures/"+lecture+"/whip", offer, "Authorization", "Bearer "+key)
	if err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusCreated {
		t.Fatalf("WHIP: status %d, want 201: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/sdp" {
		t.Fatalf("WHIP answer content type %q", ct)
	}
	p.location = r.header.Get("Location")
	if !strings.HasPrefix(p.location, "/api/v1/lectures/"+lecture+"/whip/") || len(p.location) <= len("/api/v1/lectures/"+lecture+"/whip/") {
		t.Fatalf("WHIP Location %q", p.location)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(r.body)}); err != nil {
		t.Fatal(err)
	}
	p.started = time.Now()
	p.wg.Add(2)
	go func() { // video, 30 fps
		defer p.wg.Done()
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		for i := 0; ; i = (i + 1) % len(m.aus) {
			if p.jump.Swap(false) {
				for !m.aus[i].idr {
					i = (i + 1) % len(m.aus)
				}
			}
			if m.aus[i].idr {
				p.idrs.Add(1)
			}
			if err := video.WriteSample(media.Sample{Data: m.aus[i].data, Duration: time.Second / 30}); err != nil {
				return
			}
			p.frames.Add(1)
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	go func() { // audio, 20 ms packets
		defer p.wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i = (i + 1) % len(m.opus) {
			if err := audio.WriteSample(media.Sample{Data: m.opus[i], Duration: 20 * time.Millisecond}); err != nil {
				return
			}
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(p.close)
	return p
}

// halt stops sending (the PeerConnection stays open).
func (p *livePublisher) halt() {
	p.stopOnce.Do(func() { close(p.stop) })
	p.wg.Wait()
}

func (p *livePublisher) close() {
	p.halt()
	_ = p.pc.Close()
}

// ---- viewers ----

// liveViewer is a WHEP player that checks the H.264 it gets: it reassembles the NAL units
// with pion's depacketizer and notes when it holds a parameter set and a complete IDR
// slice, byte for byte one the publisher sent.
type liveViewer struct {
	pc       *webrtc.PeerConnection
	location string
	posted   time.Time
	reply    sdpReply

	connectedAt atomic.Int64 // unix ns
	firstIDR    atomic.Int64 // unix ns of the first complete, intact IDR slice (with SPS and PPS before it)
	audioPkts   atomic.Int64
	videoPkts   atomic.Int64
	audioTrack  atomic.Bool
	videoTrack  atomic.Bool
	ended       chan struct{} // closed on the first closed, failed or disconnected state
	endedAt     atomic.Int64
	endOnce     sync.Once
	idrs        map[[32]byte]bool

	keepMu sync.Mutex
	keep   int    // bytes of Annex B to keep from the first IDR on (0: none)
	annexB []byte // what was kept
}

type viewerOpts struct {
	hc    *http.Client // default: no cookies (every viewer a new visitor)
	keep  int          // Annex B bytes to keep for decoding
	ghost bool         // post the offer, then close without connecting
}

// watch asks for the stream over WHEP. It is safe to call from any goroutine: failures
// come back as errors.
func watch(t testing.TB, base, lecture string, o viewerOpts) (*liveViewer, error) {
	m := loadLiveMedia(t)
	pc, err := peerAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = pc.Close() })
	v := &liveViewer{pc: pc, ended: make(chan struct{}), idrs: m.idrs, keep: o.keep}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			return nil, err
		}
	}
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			v.connectedAt.CompareAndSwap(0, time.Now().UnixNano())
		case webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateDisconnected:
			v.endOnce.Do(func() {
				v.endedAt.Store(time.Now().UnixNano())
				close(v.ended)
			})
		}
	})
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if track.Kind() == webrtc.RTPCodecTypeAudio {
			v.audioTrack.Store(true)
		} else {
			v.videoTrack.Store(true)
		}
		v.read(track)
	})
	offer, err := localOffer(pc)
	if err != nil {
		return nil, err
	}
	hc := o.hc
	if hc == nil {
		hc = testenv.Client()
	}
	v.posted = time.Now()
	v.reply, err = postSDP(hc, base+"/api/v1/lectures/"+lecture+"/whep", offer)
	if err != nil {
		return nil, err
	}
	if v.reply.status != http.StatusCreated {
		return nil, fmt.Errorf("WHEP: status %d, want 201: %s", v.reply.status, v.reply.body)
	}
	if ct := v.reply.header.Get("Content-Type"); ct != "application/sdp" {
		return nil, fmt.Errorf("WHEP answer content type %q", ct)
	}
	v.location = v.reply.header.Get("Location")
	if !strings.HasPrefix(v.location, "/api/v1/lectures/"+lecture+"/whep/") || len(v.location) <= len("/api/v1/lectures/"+lecture+"/whep/") {
		return nil, fmt.Errorf("WHEP Location %q", v.location)
	}
	if o.ghost {
		return v, pc.Close()
	}
	return v, pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(v.reply.body)})
}

func (v *liveViewer) read(track *webrtc.TrackRemote) {
	if track.Kind() == webrtc.RTPCodecTypeAudio {
		for {
			if _, _, err := track.ReadRTP(); err != nil {
				return
			}
			v.audioPkts.Add(1)
		}
	}
	var depack codecs.H264Packet
	var sps, pps bool
	var lastPLI time.Time
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		v.videoPkts.Add(1)
		annexB, err := depack.Unmarshal(pkt.Payload)
		if err == nil && len(annexB) > 0 {
			for _, nal := range splitAnnexB(annexB) {
				switch nal[0] & 0x1f {
				case 7:
					sps = true
				case 8:
					pps = true
				case 5:
					if sps && pps && v.idrs[sha256.Sum256(nal)] {
						v.firstIDR.CompareAndSwap(0, time.Now().UnixNano())
					}
				}
			}
			if v.firstIDR.Load() != 0 || bytes.Contains(annexB, []byte{0, 0, 0, 1, 0x67}) {
				v.keepAnnexB(annexB)
			}
		}
		// As a browser's decoder does: with nothing decodable yet, ask for a keyframe
		// every half second (covers a keyframe lost while the connection was starting).
		if v.firstIDR.Load() == 0 && v.videoPkts.Load() > 30 && time.Since(lastPLI) > 500*time.Millisecond {
			lastPLI = time.Now()
			_ = v.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(track.SSRC())}})
		}
	}
}

// keepAnnexB keeps the stream from the first parameter sets on, up to keep bytes.
func (v *liveViewer) keepAnnexB(b []byte) {
	v.keepMu.Lock()
	defer v.keepMu.Unlock()
	if len(v.annexB) == 0 && !bytes.Contains(b, []byte{0, 0, 0, 1, 0x67}) {
		return
	}
	if n := v.keep - len(v.annexB); n > 0 {
		v.annexB = append(v.annexB, b[:min(n, len(b))]...)
	}
}

func (v *liveViewer) kept() []byte {
	v.keepMu.Lock()
	defer v.keepMu.Unlock()
	return append([]byte(nil), v.annexB...)
}

// splitAnnexB returns the NAL units of an Annex B buffer (4- or 3-byte start codes).
func splitAnnexB(b []byte) [][]byte {
	var out [][]byte
	start := -1
	for i := 0; i+2 < len(b); {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				end := i
				if end > start && b[end-1] == 0 {
					end--
				}
				if end > start {
					out = append(out, b[start:end])
				}
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start >= 0 && start < len(b) {
		out = append(out, b[start:])
	}
	return out
}

func (v *liveViewer) playing() bool {
	return v.audioTrack.Load() && v.videoTrack.Load() && v.audioPkts.Load() > 0 && v.firstIDR.Load() != 0
}

func (v *liveViewer) state() string {
	return fmt.Sprintf("%s, audio %v/%d packets, video %v/%d packets, keyframe %v", v.pc.ConnectionState(),
		v.audioTrack.Load(), v.audioPkts.Load(), v.videoTrack.Load(), v.videoPkts.Load(), v.firstIDR.Load() != 0)
}

// decodeH264 has ffmpeg decode an Annex B stream and returns the number of pictures.
func decodeH264(t testing.TB, annexB []byte) int {
	t.Helper()
	f := filepath.Join(t.TempDir(), "viewer.h264")
	if err := os.WriteFile(f, annexB, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-f", "h264", "-select_streams", "v:0", "-count_frames",
		"-show_entries", "stream=nb_read_frames,width,height", "-of", "csv=p=0", f).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	fields := strings.Split(strings.TrimSpace(string(out)), ",")
	if len(fields) != 3 || fields[0] != "320" || fields[1] != "240" {
		t.Fatalf("ffprobe of the viewer's stream: %q", out)
	}
	n, _ := strconv.Atoi(fields[2])
	return n
}

// probeDuration reads a media file's duration and stream kinds with ffprobe.
func probeDuration(t testing.TB, data []byte, ext string) (time.Duration, bool, bool) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "replay"+ext)
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type",
		"-of", "default=noprint_wrappers=1", f).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var d time.Duration
	var video, audio bool
	for _, line := range strings.Split(string(out), "\n") {
		k, val, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch {
		case k == "duration":
			s, err := strconv.ParseFloat(val, 64)
			if err != nil {
				t.Fatalf("ffprobe duration %q", val)
			}
			d = time.Duration(s * float64(time.Second))
		case k == "codec_type" && val == "video":
			video = true
		case k == "codec_type" && val == "audio":
			audio = true
		}
	}
	return d, video, audio
}

// ---- Server-Sent Events ----

type sseEvent struct {
	id, event, data string
}

// sseStream reads a text/event-stream answer, parsed here by the spec's rules.
type sseStream struct {
	resp   *http.Response
	events chan sseEvent
	cancel context.CancelFunc
	done   chan struct{}
}

// openSSE opens the chat stream of a lecture; lastID, if set, is sent as Last-Event-ID.
func openSSE(t testing.TB, c *client, lecture, lastID string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/lectures/"+lecture+"/chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	// A stream has no overall timeout; it ends with cancel.
	hc := &http.Client{Jar: c.http.Jar}
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		t.Fatalf("chat stream: %s %q: %s", resp.Status, resp.Header.Get("Content-Type"), b)
	}
	s := &sseStream{resp: resp, events: make(chan sseEvent, 256), cancel: cancel, done: make(chan struct{})}
	go s.read()
	t.Cleanup(s.close)
	return s
}

func (s *sseStream) read() {
	defer close(s.done)
	defer close(s.events)
	sc := bufio.NewScanner(s.resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var ev sseEvent
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if len(data) > 0 {
				ev.data = strings.Join(data, "\n")
				if ev.event == "" {
					ev.event = "message"
				}
				s.events <- ev
			}
			ev, data = sseEvent{}, nil
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue // comment (ping)
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.id = value
		case "event":
			ev.event = value
		case "data":
			data = append(data, value)
		}
	}
}

// next returns the next event, failing the test after 15 s.
func (s *sseStream) next(t testing.TB) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatal("chat stream ended")
		}
		return ev
	case <-time.After(15 * time.Second):
		t.Fatal("no chat event within 15s")
	}
	return sseEvent{}
}

// quiet checks that no event comes for d.
func (s *sseStream) quiet(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if ok {
			t.Fatalf("unexpected chat event %+v", ev)
		}
	case <-time.After(d):
	}
}

func (s *sseStream) close() {
	s.cancel()
	s.resp.Body.Close()
	<-s.done
}
