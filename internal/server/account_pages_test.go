package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestCertificateCheckAndMyLearning: a learner's account page shows the course in progress
// with a way back to the lesson reached, then the certificate once every lesson is done; the
// certificate's serial lets anyone check it, by API and by page, without learning the
// holder's account name; serials as people type them work, malformed ones are told so.
func TestCertificateCheckAndMyLearning(t *testing.T) {
	course, learner, _ := publishCourse(t, 2)
	learner.watchLesson(course, 0, 0)
	page := string(learner.want(http.StatusOK, "GET", "/account", nil).body)
	for _, want := range []string{"少儿书法入门", "已完成 1 / 2 课时", `href="/courses/` + course + `/lessons/0"`, "学完一门课程的全部课时后"} {
		if !strings.Contains(page, want) {
			t.Fatalf("account page in progress lacks %q", want)
		}
	}
	learner.watchLesson(course, 1, 0)

	var cert struct {
		Serial    string `json:"serial"`
		Learner   string `json:"learner"`
		Course    string `json:"course"`
		VerifyURL string `json:"verify_url"`
	}
	learner.want(http.StatusOK, "GET", "/api/v1/courses/"+course+"/certificate", nil).json(t, &cert)
	if !strings.HasPrefix(cert.Serial, "SZS-") || cert.Learner != "小明" || !strings.HasSuffix(cert.VerifyURL, "/certificates/"+cert.Serial) {
		t.Fatalf("certificate %+v", cert)
	}
	page = string(learner.want(http.StatusOK, "GET", "/account", nil).body)
	for _, want := range []string{"<code>" + cert.Serial + "</code>", `href="/courses/` + course + `/certificate"`, `href="/certificates/` + cert.Serial + `"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("account page after completion lacks %q", want)
		}
	}
	printable := string(learner.want(http.StatusOK, "GET", "/courses/"+course+"/certificate", nil).body)
	if !strings.Contains(printable, "data-print") || !strings.Contains(printable, cert.VerifyURL) {
		t.Fatal("certificate page offers no printing or check address")
	}

	anyone := newClient(t, learner.base)
	for _, tt := range []struct {
		name, serial string
		status       int
	}{
		{"as printed", cert.Serial, http.StatusOK},
		{"typed in lower case", strings.ToLower(cert.Serial), http.StatusOK},
		{"unknown", "SZS-000000000000", http.StatusNotFound},
		{"malformed", "SZS-12", http.StatusUnprocessableEntity},
		{"path trick", "..%2F..%2Frecords", http.StatusNotFound}, // no such route
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := anyone.want(tt.status, "GET", "/api/v1/certificates/"+tt.serial, nil)
			if tt.status != http.StatusOK {
				r.problem(t)
				return
			}
			if strings.Contains(string(r.body), "xiao.ming") {
				t.Fatalf("the public check shows the account name: %s", r.body)
			}
			var got struct{ Serial, Course string }
			r.json(t, &got)
			if got.Serial != cert.Serial || got.Course != "少儿书法入门" {
				t.Fatalf("check %+v", got)
			}
		})
	}
	verified := string(anyone.want(http.StatusOK, "GET", "/certificates/"+cert.Serial, nil).body)
	if !strings.Contains(verified, "证书真实有效") || !strings.Contains(verified, "小明") || strings.Contains(verified, "xiao.ming") {
		t.Fatal("the check page does not confirm the certificate, or shows the account name")
	}
	r := anyone.want(http.StatusSeeOther, "GET", "/certificates?serial="+strings.ToLower(cert.Serial), nil)
	if r.header.Get("Location") != "/certificates/"+cert.Serial {
		t.Fatalf("typed serial goes to %q", r.header.Get("Location"))
	}
	if !strings.Contains(string(anyone.want(http.StatusBadRequest, "GET", "/certificates?serial=abc", nil).body), `aria-invalid="true"`) {
		t.Fatal("a malformed serial is not marked")
	}
	anyone.want(http.StatusNotFound, "GET", "/certificates/SZS-000000000000", nil)
	anyone.want(http.StatusOK, "GET", "/certificates", nil)
}

// TestAccountPagesNeedSignIn: the account and developer pages send strangers to sign in.
func TestAccountPagesNeedSignIn(t *testing.T) {
	srv := startServer(t)
	c := newClient(t, srv.URL)
	for _, path := range []string{"/account", "/account/developer"} {
		r := c.want(http.StatusSeeOther, "GET", path, nil)
		if !strings.HasPrefix(r.header.Get("Location"), "/login?next=") {
			t.Fatalf("%s sends to %q", path, r.header.Get("Location"))
		}
	}
	for _, path := range []string{"/password-reset", "/password-reset/new"} {
		c.want(http.StatusOK, "GET", path, nil)
	}
}
