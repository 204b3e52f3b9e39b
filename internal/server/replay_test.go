package server_test

import (
	"fmt"
	"html"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
	"github.com/shizuishan/culturecloud/media/sfu/sfutest"
)

// rampMedia is a 1280×720 lecture as a browser sends it: its encoder starts at 320×180
// (a keyframe every second) while it learns the bandwidth, and goes to 1280×720 from a new
// keyframe after 5 s. The recording therefore starts with a small picture.
var rampMedia = sfutest.MediaOnce{
	Spec: sfutest.MediaSpec{Size: "1280x720", StartSize: "320x180", StartSeconds: 5, AudioBitrate: "48k",
		MinPictures: 290, MinOpus: 490, IDRs: 6,
		X264: []string{"-preset", "veryfast", "-x264-params", "keyint=300:min-keyint=300:scenecut=0"}},
	NoFFmpeg: testenv.Unavailable,
}

// waitReplay waits until the lecture's recording is a library item.
func waitReplay(t *testing.T, c *client, lecture string) lectureJSON {
	t.Helper()
	var l lectureJSON
	testwait.UntilStateWithin(t, "the replay is ready", 3*time.Minute, func() (bool, string) {
		l = c.lecture(lecture)
		return l.State == "replay_ready", fmt.Sprintf("%+v", l)
	})
	return l
}

// replayMaster waits until the replay item's one file is transcoded and returns the path of
// its master playlist.
func replayMaster(t *testing.T, c *client, item string) string {
	t.Helper()
	var media struct {
		Files map[string]struct {
			State  string `json:"state"`
			Error  string `json:"error"`
			Master string `json:"master"`
		} `json:"files"`
	}
	var master string
	testwait.UntilStateWithin(t, "the replay is transcoded", 3*time.Minute, func() (bool, string) {
		c.want(http.StatusOK, "GET", "/api/v1/items/"+item+"/media", nil).json(t, &media)
		for _, m := range media.Files {
			if m.State == "failed" || (m.State == "done" && m.Master == "") {
				t.Fatalf("transcoding %+v", m)
			}
			if m.State == "done" {
				master = m.Master
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", media)
	})
	return master
}

// TestReplayKeepsSourceResolution: a 1280×720 lecture whose encoder started small, as a
// browser's does, has a replay whose top rendition is 1280×720, not the size of the first
// keyframe the recording holds.
func TestReplayKeepsSourceResolution(t *testing.T) {
	srv := startLiveServer(t, func(cfg *config.Config) { cfg.Live.EndGrace = 500 * time.Millisecond })
	m := rampMedia.Load(t)
	_, lecturer, _ := liveAccounts(t, srv)
	anon := newClient(t, srv.URL)
	lec := lecturer.createLecture("高清回放：贺兰山岩画", time.Now(), "public")

	pub := publishMedia(t, srv.URL, lec.ID, lec.StreamKey, m)
	testwait.Until(t, "the recorder asks for a keyframe", func() bool { return len(pub.PLIs()) != 0 })
	// Past the switch to 1280×720, from whichever small keyframe the recording started at:
	// real time on purpose, the publisher sends its media at the wall clock's pace.
	time.Sleep(time.Until(pub.PLIs()[0].Add(8 * time.Second)))
	pub.Halt()
	anon.want(http.StatusOK, "DELETE", pub.location, nil, "Authorization", "Bearer "+lec.StreamKey)

	l := waitReplay(t, anon, lec.ID)
	master := replayMaster(t, anon, l.ReplayItem)
	top := firstURI(anon.want(http.StatusOK, "GET", master, nil).body) // the ladder is largest first
	url := srv.URL + master[:strings.LastIndex(master, "/")+1] + top
	out, err := exec.Command("ffprobe", "-v", "error", "-protocol_whitelist", "http,tcp,file", "-select_streams", "v:0",
		"-show_entries", "stream=width,height", "-of", "csv=p=0", url).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", url, err, out)
	}
	// The first line is the stream's; ffprobe may add empty fields or lines after it.
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if f := strings.Split(strings.TrimSpace(line), ","); len(f) < 2 || f[0] != "1280" || f[1] != "720" {
		t.Fatalf("top rendition %s is %q, want 1280×720", top, out)
	}
}

// TestReplayKeepsTheLecture: a replay item is dated by the lecture's day in Beijing, links
// back to its lecture (which links to it), and shows the lecture's chat and answered
// questions beside the player, read-only; unanswered questions and deleted messages are
// not kept.
func TestReplayKeepsTheLecture(t *testing.T) {
	srv := startLiveServer(t, func(cfg *config.Config) { cfg.Live.EndGrace = 500 * time.Millisecond })
	loadLiveMedia(t)
	_, lecturer, citizen := liveAccounts(t, srv)
	anon := newClient(t, srv.URL)
	start := time.Now().UTC().Truncate(time.Second)
	lec := lecturer.createLecture("回放测试：石嘴山的煤与城", start, "public")

	pub := publish(t, srv.URL, lec.ID, lec.StreamKey)
	testwait.Until(t, "the lecture is live", func() bool { return anon.lecture(lec.ID).State == "live" })
	chat := "/api/v1/lectures/" + lec.ID + "/chat"
	post := func(c *client, kind, text string) chatEvent {
		t.Helper()
		var m chatEvent
		c.want(http.StatusCreated, "POST", chat, map[string]any{"kind": kind, "text": text}).json(t, &m)
		return m
	}
	post(citizen, "chat", "老师好！<b>不是标签</b>")
	answered := post(citizen, "question", "大武口洗煤厂是哪一年建的？")
	post(citizen, "question", "这个问题没有人回答")
	spam := post(citizen, "chat", "这条留言被删除了")
	lecturer.want(http.StatusOK, "POST", chat+"/"+answered.ID+"/answered", nil)
	lecturer.want(http.StatusOK, "DELETE", chat+"/"+spam.ID, nil)
	testwait.Until(t, "the recorder asks for a keyframe", func() bool { return len(pub.PLIs()) != 0 })
	time.Sleep(time.Until(pub.PLIs()[0].Add(3 * time.Second))) // real time on purpose: three seconds of recording
	pub.Halt()
	anon.want(http.StatusOK, "DELETE", pub.location, nil, "Authorization", "Bearer "+lec.StreamKey)
	l := waitReplay(t, anon, lec.ID)

	day := start.In(shanghai(t))
	t.Run("the item is dated in Beijing time", func(t *testing.T) {
		var item struct {
			Title string `json:"title"`
			Date  string `json:"date"`
		}
		anon.want(http.StatusOK, "GET", "/api/v1/items/"+l.ReplayItem, nil).json(t, &item)
		if item.Date != day.Format("2006-01-02") || item.Title != lec.Title+"（"+day.Format("2006年1月2日")+"讲座回放）" {
			t.Fatalf("replay item %+v, lecture started %s (Beijing %s)", item, start, day)
		}
	})
	t.Run("the lecture page links to its replay", func(t *testing.T) {
		page := string(anon.want(http.StatusOK, "GET", "/lectures/"+lec.ID, nil).body)
		if !strings.Contains(page, `href="/memory/items/`+l.ReplayItem+`"`) {
			t.Fatal("the lecture page has no link to its replay")
		}
	})
	tests := []struct {
		lang            string
		heading, prefix string
	}{
		{"zh-CN", "讲座留言与已回答的提问", "讲座回放："},
		{"en", "Chat and answered questions", "Replay of the lecture:"},
	}
	for _, tt := range tests {
		t.Run("the replay page links to its lecture and keeps its chat, "+tt.lang, func(t *testing.T) {
			page := string(anon.want(http.StatusOK, "GET", "/memory/items/"+l.ReplayItem, nil, "Accept-Language", tt.lang).body)
			for _, want := range []string{
				tt.prefix + ` <a href="/lectures/` + lec.ID + `" id="replay-lecture-link">` + html.EscapeString(lec.Title) + `</a>`,
				`<aside class="panel replay-chat" id="replay-chat" aria-labelledby="replay-chat-title">`,
				`<h2 id="replay-chat-title">` + tt.heading + `</h2>`,
				"老师好！&lt;b&gt;不是标签&lt;/b&gt;", "大武口洗煤厂是哪一年建的？", "小红",
			} {
				if !strings.Contains(page, want) {
					t.Errorf("the replay page lacks %s", want)
				}
			}
			for _, gone := range []string{"这个问题没有人回答", "这条留言被删除了", "a:xiao.hong", `id="chat-form"`} {
				if strings.Contains(page, gone) {
					t.Errorf("the replay page shows %s", gone)
				}
			}
		})
	}
}

func shanghai(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}
