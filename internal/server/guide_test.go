package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// tourFixture is a published exhibition of two rooms (one exhibit, then two) and a lecturer
// who may lead tours through it.
type tourFixture struct {
	*exhibitionFixture
	exhibition string
	lecturer   *client
	citizen    *client
}

func newTourFixture(t *testing.T, configure ...func(*config.Config)) *tourFixture {
	t.Helper()
	f := &tourFixture{exhibitionFixture: newExhibitionFixture(t, configure...)}
	var ex struct {
		ID string `json:"id"`
	}
	r := f.dwk.want(http.StatusCreated, "POST", "/api/v1/exhibitions", exhibition(nil,
		section("洗煤厂", exhibit(f.photo.ID, f.photoSHA, nil)),
		section("井架", exhibit(f.photo2.ID, "", nil), exhibit(f.photo.ID, "", nil))))
	r.json(t, &ex)
	r = f.dwk.want(http.StatusOK, "POST", "/api/v1/exhibitions/"+ex.ID+"/status", map[string]any{"status": "in_review"}, "If-Match", r.header.Get("ETag"))
	f.dwk.reviewer.want(http.StatusOK, "POST", "/api/v1/exhibitions/"+ex.ID+"/review", map[string]any{"decision": "approve"}, "If-Match", r.header.Get("ETag"))
	f.exhibition = ex.ID
	admin := newClient(t, f.srv.URL)
	admin.login(testenv.AdminName, testenv.AdminPassword)
	admin.want(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"name": liveLecturer, "display_name": "王教授",
		"password": livePassword, "role": "lecturer", "unit": "dwk-culture-centre"})
	f.lecturer = newClient(t, f.srv.URL)
	f.lecturer.login(liveLecturer, livePassword)
	f.citizen = registerCitizen(t, f.srv, "xiao.hong", "小红")
	return f
}

func (f *tourFixture) schedule(t *testing.T, exhibitionID string, status int) reply {
	t.Helper()
	return f.lecturer.want(status, "POST", "/api/v1/lectures", map[string]any{
		"title": "石嘴山工业记忆 导览", "lecturer": map[string]any{"account": liveLecturer}, "unit": "dwk-culture-centre",
		"start": time.Now().Add(time.Minute).UTC().Format(time.RFC3339), "duration_minutes": 60, "visibility": "public",
		"exhibition": exhibitionID,
	})
}

// move posts a position as the guide; a move refused for coming too soon after the last one
// (429) is sent again, as the guide's page does.
func (f *tourFixture) move(t *testing.T, lecture string, pos map[string]any) {
	t.Helper()
	testwait.Until(t, "the guide's move is taken", func() bool {
		r := f.lecturer.do("POST", "/api/v1/lectures/"+lecture+"/guide", pos)
		if r.status != http.StatusCreated && r.status != http.StatusTooManyRequests {
			t.Fatalf("move %v: %d %s", pos, r.status, r.body)
		}
		return r.status == http.StatusCreated
	})
}

// TestGuidedTour: a lecture scheduled on a published exhibition is a tour; while it is live,
// the guide's moves reach every viewer's event stream, a late joiner starts where the guide
// is, and moves outside the exhibition or by others are refused.
func TestGuidedTour(t *testing.T) {
	f := newTourFixture(t)
	f.schedule(t, "exh-nosuchexhib", http.StatusUnprocessableEntity)
	var plain, tour lectureJSON
	f.schedule(t, "", http.StatusCreated).json(t, &plain)
	f.schedule(t, f.exhibition, http.StatusCreated).json(t, &tour)
	guide := "/api/v1/lectures/" + tour.ID + "/guide"
	runScenarios(t, []apiScenario{
		{name: "a lecture without an exhibition has no guide", client: f.lecturer, method: "POST", path: "/api/v1/lectures/" + plain.ID + "/guide",
			body: map[string]any{"section": 0, "exhibit": 0}, status: http.StatusUnprocessableEntity, check: fieldProblem("lecture", "not_a_tour")},
		{name: "nor a stream of positions", client: f.anon, method: "GET", path: "/api/v1/lectures/" + plain.ID + "/guide",
			status: http.StatusUnprocessableEntity},
		{name: "a tour not yet live takes no moves", client: f.lecturer, method: "POST", path: guide,
			body: map[string]any{"section": 0, "exhibit": 0}, status: http.StatusConflict},
	})
	publish(t, f.srv.URL, tour.ID, tour.StreamKey)
	testwait.Until(t, "the tour is live", func() bool { return f.anon.lecture(tour.ID).State == "live" })
	viewer := openEvents(t, f.anon, guide, "")
	f.move(t, tour.ID, map[string]any{"section": 1, "exhibit": 1, "region": []int{8, 8, 32, 32}})
	ev := viewer.next(t)
	var got struct {
		Position struct {
			Section, Exhibit int
			Region           []int
			Key              string
		} `json:"position"`
	}
	// The server adds what the exhibit shows (room 1's second exhibit is the whole first
	// photograph, whose key is its item), by which a replay finds it after rooms changed.
	if err := json.Unmarshal([]byte(ev.data), &got); err != nil || ev.event != "position" || ev.id == "" ||
		got.Position.Section != 1 || got.Position.Exhibit != 1 || len(got.Position.Region) != 4 || got.Position.Key != f.photo.ID {
		t.Fatalf("viewer got %+v (%v)", ev, err)
	}
	late := openEvents(t, f.citizen, guide, "")
	if first := late.next(t); first.id != ev.id || first.event != "position" {
		t.Fatalf("a late joiner starts with %+v, want the guide's position %s", first, ev.id)
	}
	runScenarios(t, []apiScenario{
		{name: "an exhibit beyond the room", client: f.lecturer, method: "POST", path: guide, body: map[string]any{"section": 1, "exhibit": 2},
			status: http.StatusUnprocessableEntity, check: fieldProblem("exhibit", "not_in_tour")},
		{name: "a room beyond the exhibition", client: f.lecturer, method: "POST", path: guide, body: map[string]any{"section": 2, "exhibit": 0},
			status: http.StatusUnprocessableEntity, check: fieldProblem("section", "not_in_tour")},
		{name: "a direction beyond a sphere", client: f.lecturer, method: "POST", path: guide, body: map[string]any{"section": 0, "exhibit": 0, "pitch": 95},
			status: http.StatusUnprocessableEntity, check: fieldProblem("pitch", "range")},
		{name: "a citizen cannot lead", client: f.citizen, method: "POST", path: guide, body: map[string]any{"section": 0, "exhibit": 0},
			status: http.StatusForbidden},
	})
	f.move(t, tour.ID, map[string]any{"section": 0, "exhibit": 0, "yaw": 45.5, "pitch": -10, "zoom": 30})
	for _, s := range []*sseStream{viewer, late} {
		if ev := s.next(t); ev.event != "position" || !json.Valid([]byte(ev.data)) {
			t.Errorf("second move reached a viewer as %+v", ev)
		}
	}
}
