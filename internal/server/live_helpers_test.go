package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
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

	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/media/sfu/sfutest"
)

// startLiveServer runs the product with the test configuration changed by adjust.
func startLiveServer(t *testing.T, adjust func(*config.Config)) *testenv.Server {
	t.Helper()
	cfg := testenv.Config(t, testenv.Shared(t))
	// Every test viewer comes from 127.0.0.1: the per-address cap would be a household's.
	cfg.Live.ViewersPerIP = cfg.Live.MaxViewers
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

// liveMedia is 10 s of 320x240 H.264 with a single IDR at the start, so that every other
// keyframe a viewer gets is one it asked for, and 10 s of Opus. The publisher loops them.
var liveMedia = sfutest.MediaOnce{
	Spec: sfutest.MediaSpec{Size: "320x240", AudioBitrate: "48k", MinPictures: 290, MinOpus: 490, IDRs: 1,
		X264: []string{"-preset", "veryfast", "-x264-params", "keyint=300:min-keyint=300:scenecut=0"}},
	NoFFmpeg: testenv.Unavailable,
}

func loadLiveMedia(t testing.TB) *sfutest.Media {
	t.Helper()
	return liveMedia.Load(t)
}

// ---- pion peers ----

// peerAPI is the pion API of test peers, over loopback UDP, silent.
func peerAPI(t testing.TB) *webrtc.API {
	t.Helper()
	api, err := sfutest.NewAPI(&logging.DefaultLoggerFactory{Writer: io.Discard, DefaultLogLevel: logging.LogLevelDisabled},
		webrtc.NetworkTypeUDP4, nil)
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// localOffer is the complete offer of pc.
func localOffer(pc *webrtc.PeerConnection) (string, error) {
	return sfutest.Offer(pc, 30*time.Second)
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

// livePublisher is an encoder publishing over WHIP.
type livePublisher struct {
	*sfutest.Publisher
	location string
	started  time.Time // the WHIP answer came
	reply    sdpReply
}

// newPublisher is a publisher that has not sent anything yet.
func newPublisher(t testing.TB) *sfutest.Publisher {
	t.Helper()
	p, err := sfutest.NewPublisher(peerAPI(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.PC.Close() })
	return p
}

// publisherOffer is the SDP offer of a publisher that will never connect (for refusals).
func publisherOffer(t testing.TB) string {
	t.Helper()
	o, err := localOffer(newPublisher(t).PC)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// publish goes live over WHIP with the stream key and starts sending.
func publish(t testing.TB, base, lecture, key string) *livePublisher {
	t.Helper()
	return publishMedia(t, base, lecture, key, loadLiveMedia(t))
}

// publishMedia is publish with other media.
func publishMedia(t testing.TB, base, lecture, key string, m *sfutest.Media) *livePublisher {
	t.Helper()
	return publishWith(t, base, lecture, m, "Authorization", "Bearer "+key)
}

// publishFrom is publish by an encoder in a page of another site.
func publishFrom(t testing.TB, base, lecture, key, origin string) *livePublisher {
	t.Helper()
	return publishWith(t, base, lecture, loadLiveMedia(t), "Authorization", "Bearer "+key, "Origin", origin)
}

// publishWith goes live over WHIP with the given request headers (name, value pairs).
func publishWith(t testing.TB, base, lecture string, m *sfutest.Media, headers ...string) *livePublisher {
	t.Helper()
	p := &livePublisher{Publisher: newPublisher(t)}
	offer, err := localOffer(p.PC)
	if err != nil {
		t.Fatal(err)
	}
	r, err := postSDP(testenv.Client(), base+"/api/v1/lectures/"+lecture+"/whip", offer, headers...)
	p.reply = r
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
	p.started = time.Now()
	if err := p.Start(string(r.body), m); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// ---- viewers ----

// liveViewer is a WHEP player that checks the H.264 it gets: it reassembles the NAL units
// with pion's depacketizer and notes when it holds a parameter set and a complete IDR
// slice, byte for byte one the publisher sent.
type liveViewer struct {
	*sfutest.Viewer
	location string
	posted   time.Time
	reply    sdpReply

	firstIDR atomic.Int64 // unix ns of the first complete, intact IDR slice (with SPS and PPS before it)
	idrs     map[[32]byte]bool

	keepMu sync.Mutex
	keep   int    // bytes of Annex B to keep from the first IDR on (0: none)
	annexB []byte // what was kept
}

type viewerOpts struct {
	hc    *http.Client // default: no cookies (every viewer a new visitor)
	keep  int          // Annex B bytes to keep for decoding
	ghost bool         // post the offer, then close without connecting
	// sendrecv offers sendrecv sections, as a browser's default transceivers do; the
	// player still only receives.
	sendrecv bool
	headers  []string // more request headers of the offer, name, value pairs
}

// watch asks for the stream over WHEP. It is safe to call from any goroutine: failures
// come back as errors.
func watch(t testing.TB, base, lecture string, o viewerOpts) (*liveViewer, error) {
	m := loadLiveMedia(t)
	v := &liveViewer{idrs: m.IDRSums, keep: o.keep}
	sv, err := sfutest.NewViewer(peerAPI(t), sfutest.ViewerOptions{EndOnDisconnect: true, Video: v.videoReader})
	if err != nil {
		return nil, err
	}
	v.Viewer = sv
	pc := sv.PC
	t.Cleanup(func() { _ = pc.Close() })
	offer, err := localOffer(pc)
	if err != nil {
		return nil, err
	}
	if o.sendrecv {
		// What a browser offers for transceivers added without a direction (pion's own
		// sendrecv transceivers would need tracks of their own to send).
		offer = strings.ReplaceAll(offer, "a=recvonly", "a=sendrecv")
	}
	hc := o.hc
	if hc == nil {
		hc = testenv.Client()
	}
	v.posted = time.Now()
	v.reply, err = postSDP(hc, base+"/api/v1/lectures/"+lecture+"/whep", offer, o.headers...)
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

// videoReader reassembles the NAL units with pion's depacketizer and keeps what a
// decoder would get.
func (v *liveViewer) videoReader(track *webrtc.TrackRemote) func(*rtp.Packet) {
	var depack codecs.H264Packet
	var sps, pps bool
	return func(pkt *rtp.Packet) {
		annexB, err := depack.Unmarshal(pkt.Payload)
		if err == nil && len(annexB) > 0 {
			for _, nal := range sfutest.SplitAnnexB(annexB) {
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
		if v.firstIDR.Load() == 0 && v.VideoPkts.Load() > 30 {
			v.AskKeyframe(track)
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

func (v *liveViewer) playing() bool {
	return v.AudioTrack.Load() && v.VideoTrack.Load() && v.AudioPkts.Load() > 0 && v.firstIDR.Load() != 0
}

func (v *liveViewer) state() string {
	return fmt.Sprintf("%s, audio %v/%d packets, video %v/%d packets, keyframe %v", v.PC.ConnectionState(),
		v.AudioTrack.Load(), v.AudioPkts.Load(), v.VideoTrack.Load(), v.VideoPkts.Load(), v.firstIDR.Load() != 0)
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
	return openEvents(t, c, "/api/v1/lectures/"+lecture+"/chat", lastID)
}

// openEvents opens the event stream at path; lastID, if set, is sent as Last-Event-ID.
func openEvents(t testing.TB, c *client, path, lastID string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
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
		t.Fatalf("event stream %s: %s %q: %s", path, resp.Status, resp.Header.Get("Content-Type"), b)
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
