package server_test

import (
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/i18n"
)

// TestLectureTimes: the form shows the time zone and the time in Beijing now, a start in
// the past is refused with a clear message, and going live outside the window says when the
// window is, under a title of its own.
func TestLectureTimes(t *testing.T) {
	srv := startServer(t)
	_, lecturer, _ := liveAccounts(t, srv)
	lecturer.lang = "zh-CN"

	page := html.UnescapeString(string(lecturer.want(http.StatusOK, "GET", "/console/lectures/new", nil).body))
	now := time.Now().In(time.FixedZone("CST", 8*3600))
	for _, must := range []string{"UTC+8", `id="lecture-now"`} {
		if !strings.Contains(page, must) {
			t.Errorf("the lecture form lacks %s", must)
		}
	}
	// The page shows the minute it was made (or the one before, at a minute's turn).
	if !strings.Contains(page, now.Format("15:04")) && !strings.Contains(page, now.Add(-time.Minute).Format("15:04")) {
		t.Errorf("the lecture form does not show the time in Beijing now (%s)", now.Format("15:04"))
	}

	body := map[string]any{"title": "过去的讲座", "lecturer": map[string]any{"account": liveLecturer}, "unit": "dwk-culture-centre",
		"start": time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339), "duration_minutes": 60, "visibility": "public"}
	p := lecturer.want(http.StatusUnprocessableEntity, "POST", "/api/v1/lectures", body).problem(t)
	errs, _ := p["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["field"] != "start" || errs[0].(map[string]any)["code"] != "past" ||
		!strings.Contains(errs[0].(map[string]any)["message"].(string), "已过") {
		t.Errorf("past start: %v, want one start:past error with a message", p)
	}

	start := time.Now().Add(26 * time.Hour).Truncate(time.Minute)
	lec := lecturer.createLecture("明天的讲座", start, "public")
	r := lecturer.want(http.StatusConflict, "POST", "/api/v1/lectures/"+lec.ID+"/whip", publisherOffer(t),
		"Content-Type", "application/sdp", "Authorization", "Bearer "+lec.StreamKey)
	p = r.problem(t)
	from := start.Add(-30 * time.Minute).In(time.FixedZone("CST", 8*3600))
	if p["type"] != "/problems/not_now" || p["title"] == i18n.T(i18n.ZH, "problem.conflict.title") ||
		!strings.Contains(p["detail"].(string), from.Format("15:04")) {
		t.Errorf("going live a day early: %v, want its own title and the window from %s", p, from.Format("15:04"))
	}
}
