package server_test

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/testenv"
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
	bound := time.Now().Add(3 * time.Minute)
	for l = c.lecture(lecture); l.State != "replay_ready"; l = c.lecture(lecture) {
		if time.Now().After(bound) {
			t.Fatalf("no replay within 3 minutes: %+v", l)
		}
		time.Sleep(250 * time.Millisecond)
	}
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
	bound := time.Now().Add(3 * time.Minute)
	for {
		c.want(http.StatusOK, "GET", "/api/v1/items/"+item+"/media", nil).json(t, &media)
		for _, m := range media.Files {
			if m.State == "failed" || (m.State == "done" && m.Master == "") {
				t.Fatalf("transcoding %+v", m)
			}
			if m.State == "done" {
				return m.Master
			}
		}
		if time.Now().After(bound) {
			t.Fatalf("transcoding not done within 3 minutes: %+v", media)
		}
		time.Sleep(250 * time.Millisecond)
	}
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
	eventually(t, "the recorder asks for a keyframe", func() bool { return len(pub.PLIs()) != 0 })
	// Past the switch to 1280×720, from whichever small keyframe the recording started at.
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
