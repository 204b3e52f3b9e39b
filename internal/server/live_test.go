package server_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // TURN REST credentials are HMAC-SHA1 by definition
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
	"github.com/shizuishan/culturecloud/storage"
)

const turnSecret = "turn-shared-secret-for-tests"

// TestLiveLecture goes through a live lecture over HTTP: a lecturer schedules it and gets
// its stream key once, an encoder publishes over WHIP, 20 viewers and a late one watch over
// WHEP, citizens chat and ask while the lecturer moderates, bad requests are refused, and
// the lecture ends with its audience recorded. The requests with a fixed answer are tables
// of steps; what needs a publisher or viewers running is in the helpers after it.
func TestLiveLecture(t *testing.T) {
	srv := startLiveServer(t, func(cfg *config.Config) {
		cfg.Live.EndGrace = 500 * time.Millisecond
		cfg.Live.STUNURLs = "stun:stun.example.org:3478"
		cfg.Live.TURNURLs = "turn:turn.example.org:3478?transport=udp"
		cfg.Live.TURNSecret = config.Secret(turnSecret)
		cfg.Live.TURNTTL = time.Hour
	})
	loadLiveMedia(t)
	_, lecturer, citizen := liveAccounts(t, srv)
	anon := newClient(t, srv.URL)

	now := time.Now()
	lec := lecturer.createLecture("石嘴山工业遗产", now, "public")
	key := lec.StreamKey
	if lec.WHIP != "/api/v1/lectures/"+lec.ID+"/whip" || lec.WHEP != "/api/v1/lectures/"+lec.ID+"/whep" {
		t.Fatalf("whip %q whep %q", lec.WHIP, lec.WHEP)
	}
	tomorrow := lecturer.createLecture("明日讲座：贺兰山岩画", now.Add(24*time.Hour), "public")
	members := lecturer.createLecture("会员讲座：西夏文字", now, "registered")
	r := liveRun{owner: t, srv: srv, lec: lec, lecturer: lecturer, citizen: citizen, anon: anon,
		whip: "/api/v1/lectures/" + lec.ID + "/whip", whep: "/api/v1/lectures/" + lec.ID + "/whep",
		chat: "/api/v1/lectures/" + lec.ID + "/chat", offer: publisherOffer(t), tomorrow: tomorrow}

	t.Run("stream key is shown once", func(t *testing.T) {
		var steps []apiScenario
		for _, c := range []struct {
			name string
			c    *client
		}{{"lecturer", lecturer}, {"citizen", citizen}, {"visitor", anon}} {
			steps = append(steps, apiScenario{name: c.name + " GET", client: c.c, method: "GET", path: "/api/v1/lectures/" + lec.ID,
				status: http.StatusOK, bodyLacks: []string{"stream_key", key}})
			for _, state := range []string{"upcoming", "live", "replay"} {
				steps = append(steps, apiScenario{name: c.name + " list " + state, client: c.c, method: "GET",
					path: "/api/v1/lectures?state=" + state, status: http.StatusOK, bodyLacks: []string{key}})
			}
		}
		runScenarios(t, steps)
		if l := lecturer.lecture(lec.ID); l.WHIP == "" {
			t.Fatal("the lecturer is not offered the WHIP endpoint")
		}
		if l := anon.lecture(lec.ID); l.WHIP != "" || l.WHEP == "" {
			t.Fatalf("a visitor sees whip %q whep %q", l.WHIP, l.WHEP)
		}
	})

	runScenarios(t, []apiScenario{{name: "ICE servers", client: citizen, method: "GET", path: "/api/v1/ice-servers", status: http.StatusOK,
		check: func(t testing.TB, r reply) {
			var ice struct {
				Servers []struct {
					URLs       []string `json:"urls"`
					Username   string   `json:"username"`
					Credential string   `json:"credential"`
				} `json:"ice_servers"`
			}
			r.json(t, &ice)
			if len(ice.Servers) != 2 || ice.Servers[0].URLs[0] != "stun:stun.example.org:3478" || ice.Servers[0].Username != "" {
				t.Fatalf("ice servers %+v", ice.Servers)
			}
			checkTURN(t, ice.Servers[1].Username, ice.Servers[1].Credential, "xiao.hong")
		}}})

	t.Run("refusals before going live", func(t *testing.T) {
		runScenarios(t, r.refusalsBeforeLive(members))
		if l := anon.lecture(lec.ID); l.State != "scheduled" {
			t.Fatalf("refused offers changed the lecture: %s", l.State)
		}
	})

	// A chat stream opened before the lecture starts: its history is empty.
	early := openSSE(t, anon, lec.ID, "")
	if ev := early.next(t); ev.event != "history" || ev.data != "[]" {
		t.Fatalf("first event of an empty room: %+v", ev)
	}

	r.pub = publish(t, srv.URL, lec.ID, key)
	testwait.Until(t, "the lecture is live", func() bool { return anon.lecture(lec.ID).State == "live" })
	if l := anon.lecture(lec.ID); l.WentLiveAt == nil || len(l.History) != 2 || l.History[1].State != "live" {
		t.Fatalf("live lecture %+v", l)
	}
	runScenarios(t, []apiScenario{{name: "live list", client: anon, method: "GET", path: "/api/v1/lectures?state=live",
		status: http.StatusOK, bodyHas: []string{lec.ID}}})

	t.Run("refusals while live", func(t *testing.T) {
		runScenarios(t, r.refusalsWhileLive(t))
		if l := anon.lecture(lec.ID); l.State != "live" {
			t.Fatalf("lecture %s after the refusals", l.State)
		}
	})

	if !t.Run("every viewer plays both tracks", r.viewersPlay) {
		return
	}
	if !t.Run("late viewer gets a keyframe within 2 s", r.lateViewer) {
		return
	}
	t.Run("chat and questions", func(t *testing.T) {
		liveChat(t, srv, lec.ID, lecturer, citizen, anon, early)
	})
	t.Run("publisher ends the lecture", r.publisherEnds)
}

// recordingObjects counts the versions of objects left in MinIO under the lecture's
// recordings (segments, joined recordings, delete markers).
func recordingObjects(t *testing.T, srv *testenv.Server, lecture string) int {
	t.Helper()
	n := 0
	for _, err := range testenv.Objects(t, srv.Config).List(context.Background(), "live/"+lecture+"/", storage.ListOptions{Recursive: true, Versions: true}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// checkTURN checks TURN REST credentials: "expiry:user", base64(HMAC-SHA1(secret, username)).
func checkTURN(t testing.TB, username, credential, user string) {
	t.Helper()
	exp, name, ok := strings.Cut(username, ":")
	expiry, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || name != user {
		t.Fatalf("TURN username %q", username)
	}
	if until := time.Until(time.Unix(expiry, 0)); until < 50*time.Minute || until > 61*time.Minute {
		t.Fatalf("TURN credentials expire in %s", until)
	}
	mac := hmac.New(sha1.New, []byte(turnSecret))
	mac.Write([]byte(username))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); credential != want {
		t.Fatalf("TURN credential %q, want %q", credential, want)
	}
}

type chatEvent struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Kind   string `json:"kind"`
	Text   string `json:"text"`
	Target string `json:"target"`
	By     string `json:"by"`
	Author struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"author"`
	Answered bool `json:"answered"`
}

func decodeEvent(t *testing.T, ev sseEvent, want string) chatEvent {
	t.Helper()
	if ev.event != want {
		t.Fatalf("event %+v, want %q", ev, want)
	}
	var ce chatEvent
	if err := json.Unmarshal([]byte(ev.data), &ce); err != nil {
		t.Fatalf("event data %q: %v", ev.data, err)
	}
	if ev.id == "" || ev.id != ce.ID {
		t.Fatalf("event id %q, data id %q", ev.id, ce.ID)
	}
	return ce
}

func liveChat(t *testing.T, srv *testenv.Server, lecture string, lecturer, citizen, anon *client, early *sseStream) {
	chat := "/api/v1/lectures/" + lecture + "/chat"
	post := func(c *client, kind, text string) chatEvent {
		t.Helper()
		var m chatEvent
		c.want(http.StatusCreated, "POST", chat, map[string]any{"kind": kind, "text": text}).json(t, &m)
		return m
	}
	hello := post(citizen, "chat", "老师好！")
	if hello.Author.ID != "a:xiao.hong" || hello.Author.Name != "小红" || hello.Kind != "chat" || hello.ID == "" {
		t.Fatalf("posted %+v", hello)
	}
	ev := decodeEvent(t, early.next(t), "message")
	if ev.ID != hello.ID || ev.Text != "老师好！" || ev.Author.ID != "a:xiao.hong" {
		t.Fatalf("streamed %+v", ev)
	}
	// The stream drops; meanwhile a question is asked and a message posted.
	early.close()
	question := post(citizen, "question", "石嘴山的第一座矿井是哪一年开的？")
	aside := post(lecturer, "chat", "欢迎大家")
	resumed := openSSE(t, anon, lecture, hello.ID)
	if ev := decodeEvent(t, resumed.next(t), "message"); ev.ID != question.ID || ev.Kind != "question" {
		t.Fatalf("resumed with %+v, want the question", ev)
	}
	if ev := decodeEvent(t, resumed.next(t), "message"); ev.ID != aside.ID || ev.Author.ID != "a:"+liveLecturer {
		t.Fatalf("resumed with %+v, want the lecturer's message", ev)
	}
	resumed.quiet(t, 300*time.Millisecond)

	// A newcomer gets the history first.
	fresh := openSSE(t, anon, lecture, "")
	first := fresh.next(t)
	var history []chatEvent
	if first.event != "history" || json.Unmarshal([]byte(first.data), &history) != nil || len(history) != 3 ||
		history[0].ID != hello.ID || history[1].ID != question.ID || history[2].ID != aside.ID {
		t.Fatalf("history %+v", first)
	}

	// Text is checked.
	lecturer.want(http.StatusUnprocessableEntity, "POST", chat, map[string]any{"kind": "chat", "text": strings.Repeat("长", 501)}).problem(t)
	lecturer.want(http.StatusUnprocessableEntity, "POST", chat, map[string]any{"kind": "chat", "text": " \n "}).problem(t)
	lecturer.want(http.StatusUnprocessableEntity, "POST", chat, map[string]any{"kind": "shout", "text": "喂"}).problem(t)

	// Six quick messages: the sixth waits.
	fast := registerCitizen(t, srv, "kuai.shou", "快手")
	for i := range 5 {
		post(fast, "chat", "第"+strconv.Itoa(i+1)+"条")
	}
	r := fast.want(http.StatusTooManyRequests, "POST", chat, map[string]any{"kind": "chat", "text": "第6条"})
	r.problem(t)
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 10 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	for _, s := range []*sseStream{resumed, fresh} {
		for i := range 5 {
			if ev := decodeEvent(t, s.next(t), "message"); ev.Text != "第"+strconv.Itoa(i+1)+"条" {
				t.Fatalf("message %d: %+v", i, ev)
			}
		}
	}

	// Moderation is for the lecturer and staff.
	citizen.want(http.StatusForbidden, "DELETE", chat+"/"+hello.ID, nil).problem(t)
	citizen.want(http.StatusForbidden, "POST", "/api/v1/lectures/"+lecture+"/mutes", map[string]any{"author": "a:kuai.shou", "minutes": 5}).problem(t)
	var del chatEvent
	lecturer.want(http.StatusOK, "DELETE", chat+"/"+hello.ID, nil).json(t, &del)
	lecturer.want(http.StatusNotFound, "DELETE", chat+"/"+hello.ID, nil).problem(t)
	var answered chatEvent
	lecturer.want(http.StatusOK, "POST", chat+"/"+question.ID+"/answered", nil).json(t, &answered)
	lecturer.want(http.StatusUnprocessableEntity, "POST", chat+"/"+aside.ID+"/answered", nil).problem(t)
	for _, s := range []*sseStream{resumed, fresh} {
		if ev := decodeEvent(t, s.next(t), "delete"); ev.Target != hello.ID || ev.By != liveLecturer || ev.ID != del.ID {
			t.Fatalf("delete event %+v", ev)
		}
		if ev := decodeEvent(t, s.next(t), "answered"); ev.Target != question.ID || ev.ID != answered.ID {
			t.Fatalf("answered event %+v", ev)
		}
	}
	later := openSSE(t, anon, lecture, "")
	history = nil
	if first := later.next(t); first.event != "history" || json.Unmarshal([]byte(first.data), &history) != nil || len(history) != 7 ||
		history[0].ID != question.ID || !history[0].Answered || history[1].ID != aside.ID || history[1].Answered {
		t.Fatalf("history after moderation %s", first.data)
	}
	later.close()

	// A muted citizen may not post, and is told until when.
	lecturer.want(http.StatusUnprocessableEntity, "POST", "/api/v1/lectures/"+lecture+"/mutes", map[string]any{"author": "xiao.hong", "minutes": 5}).problem(t)
	lecturer.want(http.StatusNoContent, "POST", "/api/v1/lectures/"+lecture+"/mutes", map[string]any{"author": "a:xiao.hong", "minutes": 5})
	r = citizen.want(http.StatusForbidden, "POST", chat, map[string]any{"kind": "question", "text": "还能提问吗？"})
	r.problem(t)
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 280 || s > 300 {
		t.Fatalf("muted: Retry-After %q", r.header.Get("Retry-After"))
	}
	lecturer.want(http.StatusNoContent, "DELETE", "/api/v1/lectures/"+lecture+"/mutes/a:xiao.hong", nil)
	back := post(citizen, "chat", "谢谢老师解禁")
	for _, s := range []*sseStream{resumed, fresh} {
		if ev := decodeEvent(t, s.next(t), "message"); ev.ID != back.ID {
			t.Fatalf("after unmute %+v", ev)
		}
	}
	resumed.quiet(t, 300*time.Millisecond)
}

// TestLiveRecordingBecomesReplay publishes twelve seconds, ends it, and follows the
// recording until it is a published library item that is transcoded like any upload.
func TestLiveRecordingBecomesReplay(t *testing.T) {
	srv := startLiveServer(t, func(cfg *config.Config) { cfg.Live.EndGrace = 500 * time.Millisecond })
	loadLiveMedia(t)
	_, lecturer, _ := liveAccounts(t, srv)
	anon := newClient(t, srv.URL)
	lec := lecturer.createLecture("录播测试：大武口的记忆", time.Now(), "public")

	// Without STUN or TURN the list of ICE servers is empty, not null (browsers reject null).
	if r := anon.want(http.StatusOK, "GET", "/api/v1/ice-servers", nil); !bytes.Equal(bytes.TrimSpace(r.body), []byte(`{"ice_servers":[]}`)) {
		t.Fatalf("ice servers %s", r.body)
	}

	pub := publish(t, srv.URL, lec.ID, lec.StreamKey)
	testwait.Until(t, "the lecture is live", func() bool { return anon.lecture(lec.ID).State == "live" })
	// The recording starts as the lecture goes live, at the keyframe it asks for (there is
	// no viewer to ask for one): twelve seconds from that request, three of the recorder's
	// segments. Real time on purpose: the publisher sends its media at the wall clock's pace.
	testwait.Until(t, "the recorder asks for a keyframe", func() bool { return len(pub.PLIs()) != 0 })
	const length = 12 * time.Second
	recStart := pub.PLIs()[0]
	time.Sleep(time.Until(recStart.Add(length))) // real time on purpose: twelve seconds of paced media to record
	pub.Halt()
	t.Logf("published for %s; the recorder asked for its keyframe %s after the WHIP answer",
		time.Since(pub.started).Round(time.Millisecond), recStart.Sub(pub.started).Round(time.Millisecond))
	start := time.Now()
	anon.want(http.StatusOK, "DELETE", pub.location, nil, "Authorization", "Bearer "+lec.StreamKey)

	l := waitReplay(t, anon, lec.ID)
	t.Logf("replay ready %s after the publisher ended", time.Since(start).Round(time.Millisecond))
	if l.ReplayItem == "" || l.EndedAt == nil || len(l.History) != 4 {
		t.Fatalf("replay lecture %+v", l)
	}
	if r := anon.want(http.StatusOK, "GET", "/api/v1/lectures?state=replay", nil); !bytes.Contains(r.body, []byte(lec.ID)) {
		t.Fatalf("replays list lacks the lecture: %s", r.body)
	}

	var item struct {
		Status string `json:"status"`
		Title  string `json:"title"`
		Type   string `json:"type"`
		Files  []struct {
			Path      string `json:"path"`
			MediaType string `json:"media_type"`
			Size      int64  `json:"size"`
		} `json:"files"`
	}
	anon.want(http.StatusOK, "GET", "/api/v1/items/"+l.ReplayItem, nil).json(t, &item)
	if item.Status != "published" || item.Type != "MovingImage" || len(item.Files) != 1 || item.Files[0].MediaType != "video/mp4" {
		t.Fatalf("replay item %+v", item)
	}
	f := item.Files[0]
	file := lecturer.want(http.StatusOK, "GET", "/api/v1/items/"+l.ReplayItem+"/files/"+f.Path, nil)
	if int64(len(file.body)) != f.Size {
		t.Fatalf("file of %d bytes, item says %d", len(file.body), f.Size)
	}
	d, video, audio := probeDuration(t, file.body, ".mp4")
	t.Logf("replay file: %s, %d bytes", d.Round(time.Millisecond), len(file.body))
	if !video || !audio {
		t.Fatalf("replay has video %v, audio %v", video, audio)
	}
	if diff := d - length; diff < -time.Second || diff > time.Second {
		t.Errorf("replay lasts %s, want %s ± 1 s", d, length)
	}

	// The recording's objects go once the item holds its copy, every version of them.
	testwait.Until(t, "the recording's objects are removed", func() bool { return recordingObjects(t, srv, lec.ID) == 0 })

	// Transcoded like any upload.
	var media struct {
		Files map[string]struct {
			State    string  `json:"state"`
			Error    string  `json:"error"`
			Master   string  `json:"master"`
			Duration float64 `json:"duration"`
		} `json:"files"`
	}
	seen := map[string]bool{}
	testwait.UntilStateWithin(t, "the replay is transcoded", 3*time.Minute, func() (bool, string) {
		anon.want(http.StatusOK, "GET", "/api/v1/items/"+l.ReplayItem+"/media", nil).json(t, &media)
		m := media.Files[f.Path]
		seen[m.State] = true
		return m.State == "done" || m.State == "failed", fmt.Sprintf("states seen %v", seen)
	})
	if m := media.Files[f.Path]; m.State != "done" || m.Master == "" {
		t.Fatalf("transcoding %+v", m)
	} else if diff := m.Duration - length.Seconds(); diff < -1 || diff > 1 {
		t.Errorf("transcoded duration %.2f s", m.Duration)
	}
	t.Logf("transcoding states seen: %v", seen)

	// The embeddable player plays the replay's stream (the original only where its item page
	// would offer it).
	runScenarios(t, []apiScenario{{name: "embedded replay", client: anon, method: "GET", path: "/embed/lectures/" + lec.ID, status: http.StatusOK,
		bodyHas: []string{`id="replay-video"`, `/api/v1/items/` + l.ReplayItem + `/media/`, media.Files[f.Path].Master}}})
}

// TestLivePublisherResumes: an encoder whose connection drops comes back with the same key
// within the grace period; the lecture stays live and its replay holds both parts.
func TestLivePublisherResumes(t *testing.T) {
	srv := startLiveServer(t, func(cfg *config.Config) { cfg.Live.EndGrace = 8 * time.Second })
	loadLiveMedia(t)
	_, lecturer, _ := liveAccounts(t, srv)
	anon := newClient(t, srv.URL)
	lec := lecturer.createLecture("断线重连测试", time.Now(), "public")

	first := publish(t, srv.URL, lec.ID, lec.StreamKey)
	testwait.Until(t, "the lecture is live", func() bool { return anon.lecture(lec.ID).State == "live" })
	v, err := watch(t, srv.URL, lec.ID, viewerOpts{})
	if err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the viewer plays", v.playing)
	time.Sleep(4 * time.Second) // real time on purpose: four seconds of media in the first part
	first.Halt()
	anon.want(http.StatusOK, "DELETE", first.location, nil, "Authorization", "Bearer "+lec.StreamKey)
	<-v.Ended

	second := publish(t, srv.URL, lec.ID, lec.StreamKey)
	if second.location == first.location {
		t.Fatal("the second session has the first one's location")
	}
	v, err = watch(t, srv.URL, lec.ID, viewerOpts{})
	if err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "a viewer plays the resumed stream", v.playing)
	time.Sleep(4 * time.Second) // real time on purpose: four seconds of media in the second part
	if l := anon.lecture(lec.ID); l.State != "live" || len(l.History) != 2 {
		t.Fatalf("resumed lecture %+v", l)
	}
	second.Halt()
	anon.want(http.StatusOK, "DELETE", second.location, nil, "Authorization", "Bearer "+lec.StreamKey)

	l := waitReplay(t, anon, lec.ID)
	var states []string
	for _, h := range l.History {
		states = append(states, h.State)
	}
	if strings.Join(states, ",") != "scheduled,live,ended,replay_ready" || l.TotalViewers != 2 {
		t.Fatalf("history %v, total viewers %d", states, l.TotalViewers)
	}
	var item struct {
		Files []struct {
			Path string `json:"path"`
		} `json:"files"`
	}
	anon.want(http.StatusOK, "GET", "/api/v1/items/"+l.ReplayItem, nil).json(t, &item)
	if len(item.Files) != 2 {
		t.Fatalf("replay of two sessions has %d files", len(item.Files))
	}
	var sum time.Duration
	for _, f := range item.Files {
		d, video, audio := probeDuration(t, lecturer.want(http.StatusOK, "GET", "/api/v1/items/"+l.ReplayItem+"/files/"+f.Path, nil).body, ".mp4")
		if !video || !audio || d < 2*time.Second {
			t.Fatalf("%s: %s, video %v, audio %v", f.Path, d, video, audio)
		}
		t.Logf("%s: %s", f.Path, d.Round(time.Millisecond))
		sum += d
	}
	// Each part was sent for 4 s and more (the wait for the viewer to play).
	if sum < 8*time.Second || sum > 16*time.Second {
		t.Errorf("the two parts last %s together", sum)
	}
	testwait.Until(t, "both sessions' objects are removed", func() bool { return recordingObjects(t, srv, lec.ID) == 0 })
	// The server stops promptly (nothing waits on the resumed lecture's timer).
	stopped := time.Now()
	srv.Stop(t)
	if d := time.Since(stopped); d > 20*time.Second {
		t.Errorf("the server took %s to stop", d)
	}
}

// TestLiveEndButtonEndsAtOnce: the studio's end button ends the lecture without the grace
// period that a WHIP DELETE alone leaves for an encoder restart; only its lecturer and
// staff may press it, and only while the lecture is live.
func TestLiveEndButtonEndsAtOnce(t *testing.T) {
	srv := startLiveServer(t, func(cfg *config.Config) { cfg.Live.EndGrace = 5 * time.Minute })
	loadLiveMedia(t)
	_, lecturer, citizen := liveAccounts(t, srv)
	anon := newClient(t, srv.URL)
	lec := lecturer.createLecture("立即结束测试", time.Now(), "public")
	lecturer.want(http.StatusConflict, "POST", "/api/v1/lectures/"+lec.ID+"/end", nil).problem(t)

	p := publish(t, srv.URL, lec.ID, lec.StreamKey)
	defer p.Close()
	testwait.Until(t, "the lecture is live", func() bool { return anon.lecture(lec.ID).State == "live" })
	citizen.want(http.StatusForbidden, "POST", "/api/v1/lectures/"+lec.ID+"/end", nil).problem(t)
	lecturer.want(http.StatusAccepted, "POST", "/api/v1/lectures/"+lec.ID+"/end", nil)
	// Within the 45 s bound of eventually, far less than the 5 minute grace.
	testwait.Until(t, "the lecture ended", func() bool {
		st := anon.lecture(lec.ID).State
		return st == "ended" || st == "replay_ready"
	})
}
