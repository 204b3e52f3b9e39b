package server_test

import (
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/app"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// liveRun is TestLiveLecture's lecture and who takes part in it, for its steps.
type liveRun struct {
	// owner is the whole test: the viewers' connections last until it ends, past the step
	// that started them.
	owner                   *testing.T
	srv                     *testenv.Server
	lec, tomorrow           lectureJSON
	lecturer, citizen, anon *client
	whip, whep, chat, offer string
	pub                     *livePublisher
	viewers                 []*liveViewer
	late                    *liveViewer
}

var sdpType = []string{"Content-Type", "application/sdp"}

func bearerSDP(key string) []string {
	return []string{"Content-Type", "application/sdp", "Authorization", "Bearer " + key}
}

// liveViewers is how many viewers TestLiveLecture starts at once.
const liveViewers = 20

// refusalsBeforeLive are the offers and posts refused while the lecture is only scheduled.
func (r *liveRun) refusalsBeforeLive(members lectureJSON) []apiScenario {
	key, whip, whep, offer, anon := r.lec.StreamKey, r.whip, r.whep, r.offer, r.anon
	unauthorizedWHIP := func(name string, headers []string) apiScenario {
		return apiScenario{name: name, client: anon, method: "POST", path: whip, body: offer, headers: headers,
			status: http.StatusUnauthorized, problem: true, headersSet: []string{"WWW-Authenticate"}}
	}
	refused := func(name string, c *client, path, body string, headers []string, status int) apiScenario {
		return apiScenario{name: name, client: c, method: "POST", path: path, body: body, headers: headers, status: status, problem: true}
	}
	return []apiScenario{
		refused("garbage SDP", anon, whip, "this is not SDP", bearerSDP(key), http.StatusBadRequest),
		refused("SDP without media", anon, whip, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", bearerSDP(key), http.StatusBadRequest),
		refused("empty offer", anon, whip, "", bearerSDP(key), http.StatusBadRequest),
		unauthorizedWHIP("no key", sdpType),
		unauthorizedWHIP("wrong key", bearerSDP(strings.Repeat("A", 43))),
		unauthorizedWHIP("key of another lecture", bearerSDP(r.tomorrow.StreamKey)),
		refused("not application/sdp", anon, whip, offer, []string{"Authorization", "Bearer " + key, "Content-Type", "application/json"}, http.StatusUnsupportedMediaType),
		refused("lecture not scheduled now", anon, "/api/v1/lectures/"+r.tomorrow.ID+"/whip", offer, bearerSDP(r.tomorrow.StreamKey), http.StatusConflict),
		refused("unknown lecture", anon, "/api/v1/lectures/lec_doesnotexist/whip", offer, bearerSDP(key), http.StatusNotFound),
		refused("WHEP before live", anon, whep, offer, sdpType, http.StatusConflict),
		refused("WHEP of tomorrow's lecture", anon, "/api/v1/lectures/"+r.tomorrow.ID+"/whep", offer, sdpType, http.StatusConflict),
		refused("WHEP for members without login", anon, "/api/v1/lectures/"+members.ID+"/whep", offer, sdpType, http.StatusUnauthorized),
		refused("WHEP not application/sdp", anon, whep, offer, []string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType),
		// Signed in, the members' lecture is only not live yet.
		refused("WHEP for members signed in", r.citizen, "/api/v1/lectures/"+members.ID+"/whep", offer, sdpType, http.StatusConflict),
		// Chat waits for the lecture to be live; its stream is open to whoever may watch.
		{name: "chat before live", client: r.citizen, method: "POST", path: r.chat,
			body: map[string]any{"kind": "chat", "text": "开始了吗？"}, status: http.StatusConflict, problem: true},
		{name: "chat without login", client: anon, method: "POST", path: r.chat,
			body: map[string]any{"kind": "chat", "text": "你好"}, status: http.StatusUnauthorized, problem: true},
		{name: "members' chat stream without login", client: anon, method: "GET", path: "/api/v1/lectures/" + members.ID + "/chat",
			headers: []string{"Accept", "text/event-stream"}, status: http.StatusUnauthorized, problem: true},
	}
}

// refusalsWhileLive are the requests refused while the encoder publishes.
func (r *liveRun) refusalsWhileLive(t *testing.T) []apiScenario {
	key, whip, whep, anon := r.lec.StreamKey, r.whip, r.whep, r.anon
	session := strings.TrimPrefix(r.pub.location, whip+"/")
	frag := []string{"Content-Type", "application/trickle-ice-sdpfrag"}
	step := func(name, method, path string, body any, headers []string, status int) apiScenario {
		return apiScenario{name: name, client: anon, method: method, path: path, body: body, headers: headers, status: status, problem: status >= 400}
	}
	return []apiScenario{
		{name: "second publisher", client: anon, method: "POST", path: whip, body: publisherOffer(t), headers: bearerSDP(key),
			status: http.StatusConflict, problem: true, check: func(t testing.TB, r reply) {
				if d, _ := r.problem(t)["detail"].(string); !strings.Contains(d, "已经有人在推流") {
					t.Errorf("second publisher told %q", d)
				}
			}},
		step("another lecture's key", "POST", whip, r.offer, bearerSDP(r.tomorrow.StreamKey), http.StatusUnauthorized),
		step("garbage WHEP offer", "POST", whep, "v=0 garbage", sdpType, http.StatusBadRequest),
		// An offer that receives nothing the publisher sends.
		step("WHEP offer that receives nothing", "POST", whep, r.offer, sdpType, http.StatusUnprocessableEntity),
		step("DELETE of an unknown session", "DELETE", whip+"/0123456789abcdef0123456789abcdef", nil, []string{"Authorization", "Bearer " + key}, http.StatusNotFound),
		step("DELETE with another lecture's key", "DELETE", r.pub.location, nil, []string{"Authorization", "Bearer " + r.tomorrow.StreamKey}, http.StatusUnauthorized),
		// Another lecture's key cannot end this lecture's session through its own URL.
		step("DELETE through another lecture's URL", "DELETE", "/api/v1/lectures/"+r.tomorrow.ID+"/whip/"+session, nil,
			[]string{"Authorization", "Bearer " + r.tomorrow.StreamKey}, http.StatusNotFound),
		// Trickle ICE (RFC 9725 PATCH) goes to the session's own URL only.
		step("PATCH through another lecture's URL", "PATCH", "/api/v1/lectures/"+r.tomorrow.ID+"/whip/"+session, "a=end-of-candidates\r\n", frag, http.StatusNotFound),
		step("PATCH of the WHEP URL", "PATCH", whep+"/"+session, "a=end-of-candidates\r\n", frag, http.StatusNotFound),
		step("PATCH not an sdpfrag", "PATCH", r.pub.location, "a=end-of-candidates\r\n", sdpType, http.StatusUnsupportedMediaType),
		step("PATCH ICE restart", "PATCH", r.pub.location, "a=ice-ufrag:restart\r\na=ice-pwd:restartrestartrestartrestart\r\n", frag, http.StatusUnprocessableEntity),
		step("PATCH end of candidates", "PATCH", r.pub.location, "a=end-of-candidates\r\n", frag, http.StatusNoContent),
	}
}

// viewersPlay starts 20 viewers at once, each a new visitor, and one that posts an offer and
// goes away, and waits until every viewer plays.
func (r *liveRun) viewersPlay(t *testing.T) {
	r.viewers = make([]*liveViewer, liveViewers)
	var wg sync.WaitGroup
	errs := make(chan error, liveViewers+1)
	sem := make(chan struct{}, 5)
	for i := range r.viewers {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			v, err := watch(r.owner, r.srv.URL, r.lec.ID, viewerOpts{})
			r.viewers[i] = v
			if err != nil {
				errs <- err
			}
		})
	}
	ghost, err := watch(r.owner, r.srv.URL, r.lec.ID, viewerOpts{ghost: true})
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// The answer names the ICE servers, with TURN credentials for a visitor.
	links := r.viewers[0].reply.header.Values("Link")
	if len(links) != 2 || !strings.HasPrefix(links[0], `<stun:stun.example.org:3478>; rel="ice-server"`) {
		t.Fatalf("Link headers %q", links)
	}
	if m := regexp.MustCompile(`^<turn:turn\.example\.org:3478\?transport=udp>; rel="ice-server"; username="([^"]+)"; credential="([^"]+)"; credential-type="password"$`).FindStringSubmatch(links[1]); m == nil {
		t.Fatalf("TURN Link header %q", links[1])
	} else {
		checkTURN(t, m[1], m[2], "viewer")
	}
	if ghost.location == r.viewers[0].location {
		t.Fatal("two viewers got one session")
	}

	testwait.Until(t, "20 viewers receive audio and an intact H.264 keyframe", func() bool {
		for _, v := range r.viewers {
			if !v.playing() {
				return false
			}
		}
		return true
	})
	var slowest time.Duration
	for _, v := range r.viewers {
		slowest = max(slowest, time.Duration(v.firstIDR.Load()-v.posted.UnixNano()))
	}
	t.Logf("20 viewers: the slowest had its first keyframe %s after posting its offer; the publisher got %d PLIs",
		slowest.Round(time.Millisecond), len(r.pub.PLIs()))
	var st liveStats
	testwait.Until(t, "the live room counts 20 viewers", func() bool {
		st = r.anon.liveStats(r.lec.ID)
		return st.Current == liveViewers
	})
	if st.Peak < liveViewers {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("stats with 20 viewers and an offer that never connected: %+v", st)
}

// lateViewer: a late viewer, a visitor whose browser keeps cookies, gets its first keyframe
// within 2 s; it leaves and comes back and is still one visitor.
func (r *liveRun) lateViewer(t *testing.T) {
	const n = liveViewers
	anon, lecID := r.anon, r.lec.ID
	jar, _ := cookiejar.New(nil)
	lateHTTP := testenv.Client()
	lateHTTP.Jar = jar
	time.Sleep(1500 * time.Millisecond) // real time on purpose: join mid-GOP, the stream's own keyframes are 10 s apart
	late, err := watch(t, r.srv.URL, lecID, viewerOpts{hc: lateHTTP, keep: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	r.late = late
	if cookies := late.reply.header.Values("Set-Cookie"); len(cookies) != 1 {
		t.Errorf("a new visitor's WHEP answer sets %d cookies: %q", len(cookies), cookies)
	}
	testwait.Until(t, "the late viewer's keyframe", func() bool { return late.firstIDR.Load() != 0 && late.ConnectedAt.Load() != 0 })
	wait := time.Duration(late.firstIDR.Load() - late.ConnectedAt.Load())
	total := time.Duration(late.firstIDR.Load() - late.posted.UnixNano())
	t.Logf("late viewer: first intact IDR %s after connecting (%s after posting its offer)",
		wait.Round(time.Millisecond), total.Round(time.Millisecond))
	if wait > 2*time.Second {
		t.Errorf("the late viewer waited %s for a keyframe, want at most 2 s", wait)
	}
	testwait.Until(t, "the late viewer has 24 KiB of video", func() bool { return len(late.kept()) > 24<<10 })
	if pictures := decodeH264(t, late.kept()); pictures < 10 {
		t.Errorf("ffprobe decoded %d pictures of the late viewer's stream", pictures)
	} else {
		t.Logf("ffprobe decoded %d pictures of what the late viewer received", pictures)
	}
	testwait.Until(t, "the live room counts 21 viewers", func() bool { return anon.liveStats(lecID).Current == n+1 })
	// The viewer leaves (WHEP DELETE) and comes back: still one visitor.
	runScenarios(t, []apiScenario{
		{name: "leave through another lecture's URL", client: anon, method: "DELETE",
			path: "/api/v1/lectures/" + r.tomorrow.ID + "/whep/" + strings.TrimPrefix(late.location, r.whep+"/"), status: http.StatusNotFound},
		{name: "leave", client: anon, method: "DELETE", path: late.location, status: http.StatusOK},
	})
	select {
	case <-late.Ended:
	case <-time.After(15 * time.Second):
		t.Fatalf("the late viewer's connection stays %s after DELETE", late.PC.ConnectionState())
	}
	// Ending is idempotent: the session's URL stays its viewer's (RFC 9725 clients may close first).
	runScenarios(t, []apiScenario{{name: "leave again", client: anon, method: "DELETE", path: late.location, status: http.StatusOK}})
	testwait.Until(t, "the live room counts 20 viewers again", func() bool { return anon.liveStats(lecID).Current == n })
	if r.late, err = watch(t, r.srv.URL, lecID, viewerOpts{hc: lateHTTP}); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the returning viewer plays", r.late.playing)
	testwait.Until(t, "the live room counts 21 viewers", func() bool { return anon.liveStats(lecID).Current == n+1 })
	room := anon.liveStats(lecID)
	if room.Total != n+1 || room.Peak < n+1 {
		t.Fatalf("stats %+v, want 21 distinct viewers", room)
	}
	// The audience is in the view counter too, where statistics add it to the other views:
	// the viewers, and the peak the live room saw (21 at once, or one more while the offer
	// that never connected was held).
	core, err := app.Connect(r.srv.Config, app.NewLogger(r.srv.Config.Log, testenv.LogWriter(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	target := "live:" + lecID
	var peaks map[string]int64
	// The peak is kept just after the live room counted the viewer, so it may trail a moment.
	testwait.Until(t, "the view counter holds the peak", func() bool {
		if peaks, err = core.Views.PeaksOf(t.Context(), []string{target}); err != nil {
			t.Fatal(err)
		}
		return peaks[target] >= n+1
	})
	counted, err := core.Views.Stats(t.Context(), target, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if peaks[target] < n+1 || peaks[target] > room.Peak || counted.Total < 1 {
		t.Errorf("view counter: peak %d, %d views; want a peak from %d to the room's %d, and views", peaks[target], counted.Total, n+1, room.Peak)
	}
}

// publisherEnds: the encoder's WHIP DELETE ends every viewer's connection, and after the
// grace period the lecture, with its audience counted as it stands.
func (r *liveRun) publisherEnds(t *testing.T) {
	const n = liveViewers
	anon, key := r.anon, r.lec.StreamKey
	all := append(r.viewers[:len(r.viewers):len(r.viewers)], r.late)
	start := time.Now()
	anon.want(http.StatusOK, "DELETE", r.pub.location, nil, "Authorization", "Bearer "+key)
	var slowest time.Duration
	for i, v := range all {
		select {
		case <-v.Ended:
			slowest = max(slowest, time.Duration(v.EndedAt.Load()-start.UnixNano()))
		case <-time.After(15 * time.Second):
			t.Fatalf("viewer %d: connection %s 15 s after the publisher ended", i, v.state())
		}
	}
	t.Logf("every viewer's connection ended within %s of the WHIP DELETE", slowest.Round(time.Millisecond))
	if slowest > 5*time.Second {
		t.Errorf("viewers' connections took %s to end", slowest)
	}
	runScenarios(t, []apiScenario{{name: "second DELETE", client: anon, method: "DELETE", path: r.pub.location,
		headers: []string{"Authorization", "Bearer " + key}, status: http.StatusOK}})
	var l lectureJSON
	testwait.Until(t, "the lecture ends after the grace period", func() bool {
		l = anon.lecture(r.lec.ID)
		return l.State == "ended"
	})
	if l.EndedAt == nil || l.PeakViewers < n+1 || l.TotalViewers != n+1 {
		t.Fatalf("ended lecture: peak %d, total %d, ended at %v", l.PeakViewers, l.TotalViewers, l.EndedAt)
	}
	t.Logf("ended %s after the DELETE: peak %d, total %d viewers", time.Since(start).Round(time.Millisecond), l.PeakViewers, l.TotalViewers)
	testwait.Until(t, "nobody is counted as watching", func() bool { return anon.liveStats(r.lec.ID).Current == 0 })
	runScenarios(t, []apiScenario{
		{name: "WHEP after the end", client: anon, method: "POST", path: r.whep, body: r.offer, headers: sdpType, status: http.StatusConflict, problem: true},
		{name: "WHIP after the end", client: anon, method: "POST", path: r.whip, body: r.offer, headers: bearerSDP(key), status: http.StatusConflict, problem: true},
		{name: "chat after the end", client: r.citizen, method: "POST", path: r.chat,
			body: map[string]any{"kind": "chat", "text": "谢谢老师！"}, status: http.StatusConflict, problem: true},
	})
}
