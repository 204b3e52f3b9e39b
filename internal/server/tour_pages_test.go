package server_test

import (
	"encoding/json"
	"html"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// trackAttr is the kept track a tour's replay page gives its script.
var trackAttr = regexp.MustCompile(`data-track="([^"]*)"`)

// keptStop is a stop of a kept track as a page gives it.
type keptStop struct {
	Offset   float64 `json:"offset"`
	Position struct {
		Section, Exhibit int
		Region           []int
	} `json:"position"`
}

// keptTrack reads the track of a tour's page; nil when it has none.
func keptTrack(t testing.TB, page string) []keptStop {
	t.Helper()
	m := trackAttr.FindStringSubmatch(page)
	if m == nil {
		return nil
	}
	var track []keptStop
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &track); err != nil {
		t.Fatalf("the track %q: %v", m[1], err)
	}
	return track
}

// TestTourPages: a tour's page, studio and embed carry the exhibition's walkthrough (the
// viewers' pages following the guide, the studio in guide mode); /embed/tours/{id} is framable
// like the lecture embed and exists only for tours; once the tour has ended, its replay page
// and embed carry the guide's kept track, timed from going live.
func TestTourPages(t *testing.T) {
	f := newTourFixture(t, func(cfg *config.Config) {
		cfg.Live.EmbedOrigins = partnerOrigin
		cfg.Live.EndGrace = 500 * time.Millisecond
	})
	loadLiveMedia(t)
	var plain, tour lectureJSON
	f.schedule(t, "", http.StatusCreated).json(t, &plain)
	f.schedule(t, f.exhibition, http.StatusCreated).json(t, &tour)
	frameable := func(t testing.TB, r reply) {
		t.Helper()
		if xfo := r.header.Get("X-Frame-Options"); xfo != "" {
			t.Errorf("X-Frame-Options %q on the tour's embed", xfo)
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self' "+partnerOrigin+";") {
			t.Errorf("CSP %q does not let the partner site frame it", csp)
		}
	}
	walk := []string{`id="tour"`, `id="exhibition"`, `src="/static/tour.js`, `data-section="1" data-index="1"`, `id="exhibit-2"`,
		`data-t-position=`, `data-lecture="` + tour.ID + `"`}
	runScenarios(t, []apiScenario{
		{name: "the tour's page follows the guide", client: f.anon, method: "GET", path: "/lectures/" + tour.ID, status: http.StatusOK,
			bodyHas: append([]string{`data-mode="viewer"`, `id="tour-follow" aria-pressed="true"`, "跟随导览员", "回到导览员位置", `id="tour-announce" aria-live="polite"`}, walk...)},
		{name: "in English", client: newClient(t, f.srv.URL), method: "GET", path: "/lectures/" + tour.ID + "?lang=en", status: http.StatusOK,
			bodyHas: []string{"Follow the guide", "Back to where the guide is", "Tour of the exhibition: "}},
		{name: "a lecture's page has no walkthrough", client: f.anon, method: "GET", path: "/lectures/" + plain.ID, status: http.StatusOK,
			bodyLacks: []string{`id="tour"`, `id="exhibition"`, "tour.js"}},
		{name: "the studio leads", client: f.lecturer, method: "GET", path: "/studio/lectures/" + tour.ID, status: http.StatusOK,
			bodyHas: append([]string{`data-mode="guide"`, `id="tour-guide-status"`}, walk...), bodyLacks: []string{`id="tour-follow"`}},
		{name: "the tour's embed", client: f.anon, method: "GET", path: "/embed/tours/" + tour.ID, status: http.StatusOK,
			bodyHas:   append([]string{`data-kind="tour"`, `data-mode="viewer"`, `id="live-video"`, `id="tour-follow"`}, walk...),
			bodyLacks: []string{`class="site-header"`}, check: frameable},
		{name: "a lecture has no tour embed", client: f.anon, method: "GET", path: "/embed/tours/" + plain.ID, status: http.StatusNotFound},
		{name: "nor has an unknown lecture", client: f.anon, method: "GET", path: "/embed/tours/lec-doesnotexist", status: http.StatusNotFound},
		{name: "the lecture embed of a tour stays a lecture's", client: f.anon, method: "GET", path: "/embed/lectures/" + tour.ID, status: http.StatusOK,
			bodyHas: []string{`data-kind="lecture"`}, bodyLacks: []string{`id="tour"`}, check: frameable},
	})

	pub := publish(t, f.srv.URL, tour.ID, tour.StreamKey)
	testwait.Until(t, "the tour is live", func() bool { return f.anon.lecture(tour.ID).State == "live" })
	f.move(t, tour.ID, map[string]any{"section": 1, "exhibit": 1, "region": []int{8, 8, 32, 32}})
	testwait.Until(t, "the recorder asks for a keyframe", func() bool { return len(pub.PLIs()) != 0 })
	time.Sleep(time.Until(pub.PLIs()[0].Add(3 * time.Second))) // real time on purpose: three seconds of recording
	pub.Halt()
	f.anon.want(http.StatusOK, "DELETE", pub.location, nil, "Authorization", "Bearer "+tour.StreamKey)
	l := waitReplay(t, f.anon, tour.ID)

	page := string(f.anon.want(http.StatusOK, "GET", "/memory/items/"+l.ReplayItem, nil).body)
	for _, want := range append([]string{`data-video="#item-files video.media-play"`}, walk...) {
		if !strings.Contains(page, want) {
			t.Errorf("the replay page lacks %s", want)
		}
	}
	track := keptTrack(t, page)
	if len(track) != 1 || track[0].Position.Section != 1 || track[0].Position.Exhibit != 1 || len(track[0].Position.Region) != 4 ||
		track[0].Offset < 0 || track[0].Offset > 60 {
		t.Fatalf("the replay page's track is %+v, want the one move, timed from going live", track)
	}
	embed := string(f.anon.want(http.StatusOK, "GET", "/embed/tours/"+tour.ID, nil).body)
	if strings.Contains(embed, `id="replay-video"`) {
		if got := keptTrack(t, embed); len(got) != 1 || !reflect.DeepEqual(got[0], track[0]) {
			t.Errorf("the embed's track is %+v, want the replay page's %+v", got, track)
		}
	} else {
		t.Log("the replay's video is not playable yet: the embed shows no player, and no track")
	}
}
