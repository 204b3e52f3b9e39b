package server_test

import (
	"net/http"
	"testing"
)

// TestDraftsHideFromOtherUnitsWhateverTheTag: staff of another unit who write to a draft get
// 404, with a stale entity tag as with the right one, so that a 412 never tells them the
// draft exists; its own unit's staff with a stale tag get 412.
func TestDraftsHideFromOtherUnitsWhateverTheTag(t *testing.T) {
	f := newExhibitionFixture(t)
	body := exhibition(nil, section("一", exhibit(f.photo.ID, "", nil)))
	r := f.dwk.want(http.StatusCreated, "POST", "/api/v1/exhibitions", body)
	var ex struct {
		ID string `json:"id"`
	}
	r.json(t, &ex)
	etag := r.header.Get("ETag")
	one := "/api/v1/exhibitions/" + ex.ID

	hn := f.hn
	cf := newCourseFixture(t, startServer(t))
	cfHN := newClient(t, cf.srv.URL)
	cfHN.login("lib.hn", "Huinong-Library-9")
	r = cf.lec.want(http.StatusCreated, "POST", "/api/v1/courses", course(nil, cf.good))
	var c struct {
		ID string `json:"id"`
	}
	r.json(t, &c)
	courseTag := r.header.Get("ETag")
	courseOne := "/api/v1/courses/" + c.ID

	runScenarios(t, []apiScenario{
		{name: "another unit updates with a stale tag", client: hn, method: "PUT", path: one, body: body,
			headers: []string{"If-Match", `"0123"`}, status: http.StatusNotFound},
		{name: "another unit deletes with a stale tag", client: hn, method: "DELETE", path: one,
			headers: []string{"If-Match", `"0123"`}, status: http.StatusNotFound},
		{name: "another unit deletes with the right tag", client: hn, method: "DELETE", path: one,
			headers: []string{"If-Match", etag}, status: http.StatusNotFound},
		{name: "its unit with a stale tag", client: f.dwk, method: "PUT", path: one, body: body,
			headers: []string{"If-Match", `"0123"`}, status: http.StatusPreconditionFailed},
		{name: "a course draft, another unit, a stale tag", client: cfHN, method: "PUT", path: courseOne, body: course(nil, cf.good),
			headers: []string{"If-Match", `"0123"`}, status: http.StatusNotFound},
		{name: "a course draft, its lecturer, a stale tag", client: cf.lec, method: "PUT", path: courseOne, body: course(nil, cf.good),
			headers: []string{"If-Match", `"0123"`}, status: http.StatusPreconditionFailed},
	})
	if courseTag == "" {
		t.Error("a created course has no ETag")
	}
}
