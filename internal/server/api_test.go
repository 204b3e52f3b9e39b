package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

func TestAdminCreatesStaffAndUnitScopeApplies(t *testing.T) {
	srv := startServer(t)
	admin := newClient(t, srv.URL)
	admin.login(testenv.AdminName, testenv.AdminPassword)

	staff := []map[string]any{
		{"name": "wang.dwk", "display_name": "王馆员", "password": "Dawukou-Library-1", "role": "librarian", "unit": "dwk-library"},
		{"name": "liu.station", "display_name": "刘站长", "password": "Changsheng-Station-1", "role": "lecturer", "unit": "dwk-changsheng-station"},
		{"name": "ma.hn", "display_name": "马馆员", "password": "Huinong-Library-1", "role": "librarian", "unit": "hn-library"},
		{"name": "wu.dwk", "display_name": "吴主任", "password": "Dawukou-District-1", "role": "librarian", "unit": "dwk"},
	}
	for _, s := range staff {
		r := admin.want(http.StatusCreated, "POST", "/api/v1/accounts", s)
		if strings.Contains(string(r.body), "password") {
			t.Fatalf("account answer shows password data: %s", r.body)
		}
	}
	admin.want(http.StatusConflict, "POST", "/api/v1/accounts", staff[0])

	// A district librarian sees the district and everything below it, not other districts.
	district := newClient(t, srv.URL)
	district.login("wu.dwk", "Dawukou-District-1")
	var page struct {
		Accounts []struct{ Name string } `json:"accounts"`
	}
	testwait.Until(t, "the district's staff are searchable", func() bool {
		district.want(http.StatusOK, "GET", "/api/v1/accounts?limit=100", nil).json(t, &page)
		return len(page.Accounts) == 3
	})
	for _, a := range page.Accounts {
		if a.Name == "ma.hn" || a.Name == testenv.AdminName {
			t.Fatalf("district librarian sees %s outside the district", a.Name)
		}
	}
	district.want(http.StatusOK, "GET", "/api/v1/accounts/wang.dwk", nil)
	district.want(http.StatusNotFound, "GET", "/api/v1/accounts/ma.hn", nil)

	// Only admins write accounts and units.
	district.want(http.StatusForbidden, "POST", "/api/v1/accounts", map[string]any{
		"name": "sneaky", "display_name": "x", "password": "Sneaky-Password-1", "role": "admin"})
	district.want(http.StatusForbidden, "POST", "/api/v1/units", map[string]any{
		"id": "dwk-new", "parent": "dwk", "name_zh": "新站点", "name_en": "New point", "kind": "station"})

	// Admin search by role and text.
	testwait.Until(t, "admin finds librarians", func() bool {
		admin.want(http.StatusOK, "GET", "/api/v1/accounts?role=librarian&q=%E9%A9%AC", nil).json(t, &page)
		return len(page.Accounts) == 1 && page.Accounts[0].Name == "ma.hn"
	})
}

func TestAuthenticationAndCSRF(t *testing.T) {
	srv := startServer(t)
	anon := newClient(t, srv.URL)
	p := anon.want(http.StatusUnauthorized, "GET", "/api/v1/me", nil).problem(t)
	if p["type"] != "/problems/unauthorized" {
		t.Fatalf("type %v", p["type"])
	}

	admin := newClient(t, srv.URL)
	admin.login(testenv.AdminName, testenv.AdminPassword)
	admin.want(http.StatusOK, "GET", "/api/v1/me", nil)

	// A cookie-authenticated write without the CSRF token is refused.
	csrf := admin.csrf
	admin.csrf = ""
	admin.want(http.StatusForbidden, "POST", "/api/v1/me/tokens", map[string]any{"label": "x", "expires_in_days": 1}).problem(t)
	admin.csrf = "wrong"
	admin.want(http.StatusForbidden, "POST", "/api/v1/me/tokens", map[string]any{"label": "x", "expires_in_days": 1})
	admin.csrf = csrf

	// A login form posted from another site is refused.
	anon.want(http.StatusForbidden, "POST", "/api/v1/auth/login",
		map[string]string{"name": testenv.AdminName, "password": testenv.AdminPassword}, "Sec-Fetch-Site", "cross-site")

	// Cookie flags.
	r := anon.want(http.StatusOK, "POST", "/api/v1/auth/login", map[string]string{"name": testenv.AdminName, "password": testenv.AdminPassword})
	var cookie string
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "cc_session=") {
			cookie = c
		}
	}
	for _, flag := range []string{"HttpOnly", "SameSite=Lax", "cc_session="} {
		if !strings.Contains(cookie, flag) {
			t.Fatalf("session cookie %q lacks %s", cookie, flag)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Fatalf("plain-HTTP cookie should not be Secure in auto mode: %q", cookie)
	}

	// Logout ends the session.
	admin.want(http.StatusNoContent, "POST", "/api/v1/auth/logout", nil)
	admin.want(http.StatusUnauthorized, "GET", "/api/v1/me", nil)
}

func TestPersonalAccessTokens(t *testing.T) {
	srv := startServer(t)
	admin := newClient(t, srv.URL)
	admin.login(testenv.AdminName, testenv.AdminPassword)
	var created struct {
		Token string `json:"token"`
		ID    string `json:"id"`
	}
	admin.want(http.StatusCreated, "POST", "/api/v1/me/tokens", map[string]any{"label": "导入脚本", "expires_in_days": 30}).json(t, &created)
	if !strings.HasPrefix(created.Token, "cct_") || created.ID == "" {
		t.Fatalf("token %+v", created)
	}
	var list struct {
		Tokens []map[string]any `json:"tokens"`
	}
	admin.want(http.StatusOK, "GET", "/api/v1/me/tokens", nil).json(t, &list)
	if len(list.Tokens) != 1 || list.Tokens[0]["hash"] != nil {
		t.Fatalf("token list %+v", list)
	}

	bot := newClient(t, srv.URL)
	bot.bearer = created.Token
	bot.want(http.StatusOK, "GET", "/api/v1/me", nil)
	// Bearer writes need no CSRF token: no browser sends them on its own.
	bot.want(http.StatusCreated, "POST", "/api/v1/units", map[string]any{
		"id": "hn-test-point", "parent": "hn", "name_zh": "测试服务点", "name_en": "Test point", "kind": "service_point"})

	for _, bad := range []string{created.Token + "x", "cct_admin~" + created.ID + "~00", "cct_nobody~a~b", "garbage"} {
		other := newClient(t, srv.URL)
		other.bearer = bad
		other.want(http.StatusUnauthorized, "GET", "/api/v1/me", nil)
	}

	admin.want(http.StatusNoContent, "DELETE", "/api/v1/me/tokens/"+created.ID, nil)
	admin.want(http.StatusNotFound, "DELETE", "/api/v1/me/tokens/"+created.ID, nil)
	bot.want(http.StatusUnauthorized, "GET", "/api/v1/me", nil)
}

func TestLoginRateLimit(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	cfg.Auth.LoginDelayBase = time.Hour // so that the delay cannot pass during the test
	srv := testenv.StartServer(t, cfg)
	c := newClient(t, srv.URL)
	// The free failures of this client, and one more that starts its delay.
	for i := 0; i <= cfg.Auth.LoginFreePerClient; i++ {
		c.want(http.StatusUnauthorized, "POST", "/api/v1/auth/login", map[string]string{"name": testenv.AdminName, "password": "wrong-password-1"})
	}
	// Now even the right password waits.
	r := c.want(http.StatusTooManyRequests, "POST", "/api/v1/auth/login", map[string]string{"name": testenv.AdminName, "password": testenv.AdminPassword})
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	r.problem(t)
}

func TestLoginRateLimitPerIP(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	cfg.Auth.LoginMaxPerIP = 3
	srv := testenv.StartServer(t, cfg)
	c := newClient(t, srv.URL)
	// Wrong passwords for different accounts: the account limits are not reached, the IP's is.
	for _, name := range []string{"guess.one", "guess.two", "guess.three"} {
		c.want(http.StatusUnauthorized, "POST", "/api/v1/auth/login", map[string]string{"name": name, "password": "wrong-password-1"})
	}
	c.want(http.StatusTooManyRequests, "POST", "/api/v1/auth/login", map[string]string{"name": testenv.AdminName, "password": testenv.AdminPassword}).problem(t)
}

func TestRegistrationValidation(t *testing.T) {
	srv := startServer(t)
	tests := []struct {
		name   string
		body   map[string]any
		status int
		field  string
	}{
		{"common password", map[string]any{"name": "citizen.a", "display_name": "市民", "password": "1234567890"}, 422, "password"},
		{"short password", map[string]any{"name": "citizen.a", "display_name": "市民", "password": "short"}, 422, "password"},
		{"password holds name", map[string]any{"name": "citizen.a", "display_name": "市民", "password": "citizen.a-2026!"}, 422, "password"},
		{"bad name", map[string]any{"name": "Bad Name!", "display_name": "市民", "password": "Sand-Lake-2026"}, 422, "name"},
		{"name too long", map[string]any{"name": strings.Repeat("a", 40), "display_name": "市民", "password": "Sand-Lake-2026"}, 422, "name"},
		{"bad email", map[string]any{"name": "citizen.a", "display_name": "市民", "email": "not-an-email", "password": "Sand-Lake-2026"}, 422, "email"},
		{"control chars", map[string]any{"name": "citizen.a", "display_name": "市\u0000民", "password": "Sand-Lake-2026"}, 422, "display_name"},
		{"ok", map[string]any{"name": "citizen.a", "display_name": "沙湖游客", "email": "a@example.org", "password": "Sand-Lake-2026"}, 201, ""},
		{"taken", map[string]any{"name": "citizen.a", "display_name": "沙湖游客", "password": "Sand-Lake-2026"}, 409, ""},
		{"role smuggled", map[string]any{"name": "citizen.b", "display_name": "x", "password": "Sand-Lake-2026", "role": "admin"}, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, srv.URL)
			r := c.want(tt.status, "POST", "/api/v1/auth/register", tt.body)
			if tt.status >= 400 {
				p := r.problem(t)
				if tt.field != "" {
					errs, _ := p["errors"].([]any)
					if len(errs) == 0 || errs[0].(map[string]any)["field"] != tt.field {
						t.Fatalf("want a field error on %s, got %s", tt.field, r.body)
					}
				}
			}
		})
	}
}

func TestProblemLanguage(t *testing.T) {
	srv := startServer(t)
	c := newClient(t, srv.URL)
	zh := c.want(http.StatusUnauthorized, "GET", "/api/v1/me", nil).problem(t)
	c.lang = "en-GB,en;q=0.9"
	en := c.want(http.StatusUnauthorized, "GET", "/api/v1/me", nil).problem(t)
	if zh["title"] != "需要登录" || en["title"] != "You need to sign in" {
		t.Fatalf("titles: zh %v, en %v", zh["title"], en["title"])
	}
	if zh["type"] != en["type"] {
		t.Fatal("type must not depend on language")
	}
}

func TestStaleWriteIsRefused(t *testing.T) {
	srv := startServer(t)
	admin := newClient(t, srv.URL)
	admin.login(testenv.AdminName, testenv.AdminPassword)
	r := admin.want(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{
		"name": "zhao.pl", "display_name": "赵老师", "password": "Pingluo-Centre-1", "role": "lecturer", "unit": "pl-culture-centre"})
	etag := r.header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	admin.want(http.StatusOK, "PATCH", "/api/v1/accounts/zhao.pl", map[string]any{"display_name": "赵老师（平罗）"}, "If-Match", etag)
	admin.want(http.StatusPreconditionFailed, "PATCH", "/api/v1/accounts/zhao.pl", map[string]any{"display_name": "lost"}, "If-Match", etag).problem(t)
	var a struct {
		DisplayName string `json:"display_name"`
	}
	admin.want(http.StatusOK, "GET", "/api/v1/accounts/zhao.pl", nil).json(t, &a)
	if a.DisplayName != "赵老师（平罗）" {
		t.Fatalf("stale write changed the record: %q", a.DisplayName)
	}
	admin.want(http.StatusUnprocessableEntity, "PATCH", "/api/v1/accounts/"+testenv.AdminName, map[string]any{"role": "citizen"})
}

func TestOpsEndpoints(t *testing.T) {
	srv := startServer(t)
	c := newClient(t, srv.URL)
	var ready struct {
		Status       string `json:"status"`
		Dependencies []struct {
			Name string
			OK   bool
		}
	}
	c.want(http.StatusOK, "GET", "/readyz", nil).json(t, &ready)
	if ready.Status != "ready" || len(ready.Dependencies) != 3 {
		t.Fatalf("readyz %+v", ready)
	}
	c.want(http.StatusOK, "GET", "/healthz", nil)
	c.want(http.StatusNotFound, "GET", "/api/v1/nothing-here", nil).problem(t)
	c.want(http.StatusMethodNotAllowed, "PUT", "/api/v1/units", "{}").problem(t)
	m := c.want(http.StatusOK, "GET", "/metrics", nil)
	for _, want := range []string{`culturecloud_http_requests_total{method="GET",route="/readyz",status="200"}`,
		"culturecloud_http_request_duration_seconds_bucket", `culturecloud_dependency_up{dependency="redis"} 1`} {
		if !strings.Contains(string(m.body), want) {
			t.Fatalf("metrics lack %s", want)
		}
	}
	for _, asset := range []string{"/static/app.css", "/static/app.js"} {
		c.want(http.StatusOK, "GET", asset, nil)
	}
	h := c.want(http.StatusOK, "GET", "/", nil).header
	for _, k := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "X-Request-ID"} {
		if h.Get(k) == "" {
			t.Fatalf("missing header %s", k)
		}
	}
	// Secrets never reach a browser.
	for _, path := range []string{"/", "/login", "/api/openapi.json", "/readyz", "/metrics"} {
		body := string(c.want(http.StatusOK, "GET", path, nil).body)
		for _, secret := range []string{srv.Config.MinIO.SecretKey.Reveal(), srv.Config.Meilisearch.MasterKey.Reveal(), srv.Config.Auth.SessionSecret.Reveal()} {
			if strings.Contains(body, secret) {
				t.Fatalf("%s reveals a secret", path)
			}
		}
	}
}

func TestUnitManagement(t *testing.T) {
	srv := startServer(t)
	admin := newClient(t, srv.URL)
	admin.login(testenv.AdminName, testenv.AdminPassword)
	var tree struct {
		Units []struct {
			ID     string `json:"id"`
			Parent string `json:"parent"`
			NameZH string `json:"name_zh"`
			Review string `json:"review"`
		} `json:"units"`
	}
	newClient(t, srv.URL).want(http.StatusOK, "GET", "/api/v1/units", nil).json(t, &tree)
	if len(tree.Units) < 10 || tree.Units[0].ID != "szs" {
		t.Fatalf("seeded tree: %+v", tree.Units)
	}
	tests := []struct {
		name, method, path string
		body               map[string]any
		status             int
	}{
		{"add a village book room", "POST", "/api/v1/units", map[string]any{"id": "pl-xingfu-bookroom", "parent": "pl",
			"name_zh": "幸福村农家书屋", "name_en": "Xingfu Village Book Room", "kind": "service_point"}, 201},
		{"duplicate id", "POST", "/api/v1/units", map[string]any{"id": "pl-xingfu-bookroom", "parent": "pl",
			"name_zh": "重复", "name_en": "Duplicate", "kind": "service_point"}, 422},
		{"unknown parent", "POST", "/api/v1/units", map[string]any{"id": "x-unit", "parent": "nowhere",
			"name_zh": "某处", "name_en": "Somewhere", "kind": "station"}, 422},
		{"bad kind", "POST", "/api/v1/units", map[string]any{"id": "x-unit", "parent": "pl",
			"name_zh": "某处", "name_en": "Somewhere", "kind": "castle"}, 422},
		{"rename", "PATCH", "/api/v1/units/pl-xingfu-bookroom", map[string]any{"name_zh": "幸福村书屋"}, 200},
		{"rename to empty", "PATCH", "/api/v1/units/pl-xingfu-bookroom", map[string]any{"name_en": " "}, 422},
		{"rename unknown", "PATCH", "/api/v1/units/nowhere", map[string]any{"name_zh": "某处"}, 404},
		{"two levels of review", "PATCH", "/api/v1/units/pl", map[string]any{"review": "two"}, 200},
		{"unknown review policy", "PATCH", "/api/v1/units/pl", map[string]any{"review": "three"}, 422},
		{"new unit with its own policy", "POST", "/api/v1/units", map[string]any{"id": "pl-review-free", "parent": "pl",
			"name_zh": "试点书屋", "name_en": "Pilot Book Room", "kind": "service_point", "review": "none"}, 201},
		{"new unit with an unknown policy", "POST", "/api/v1/units", map[string]any{"id": "pl-review-bad", "parent": "pl",
			"name_zh": "试点书屋", "name_en": "Pilot Book Room", "kind": "service_point", "review": "some"}, 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { admin.want(tt.status, tt.method, tt.path, tt.body) })
	}
	tree.Units = nil
	newClient(t, srv.URL).want(http.StatusOK, "GET", "/api/v1/units", nil).json(t, &tree)
	policy := map[string]string{}
	for _, u := range tree.Units {
		policy[u.ID] = u.Review
	}
	if policy["szs"] != "one" || policy["pl"] != "two" || policy["pl-review-free"] != "none" || policy["pl-xingfu-bookroom"] != "" {
		t.Fatalf("review policies after changes: %v (the city ships with one; others inherit)", policy)
	}
	last := tree.Units[len(tree.Units)-2]
	if last.ID != "pl-xingfu-bookroom" || last.Parent != "pl" || last.NameZH != "幸福村书屋" {
		t.Fatalf("unit after add and rename: %+v", last)
	}
}
