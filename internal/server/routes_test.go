package server_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/server"
	"github.com/shizuishan/culturecloud/internal/testenv"
)

// routeList builds a server without dependencies, only to list its routes.
func routeList(t *testing.T) gin.RoutesInfo {
	t.Helper()
	cfg, err := config.Load("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Deps{Config: cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	return s.Routes()
}

// documented reports whether a route belongs in the OpenAPI document (pages and static
// files do not).
func documented(path string) bool {
	return strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/iiif/3/") || slices.Contains([]string{"/healthz", "/readyz", "/metrics"}, path)
}

func openAPIPath(ginPath string) string {
	parts := strings.Split(ginPath, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "*") {
			parts[i] = "{" + p[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	srv := startServer(t)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	newClient(t, srv.URL).want(http.StatusOK, "GET", "/api/openapi.json", nil).json(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	inRoutes := map[string]bool{}
	for _, r := range routeList(t) {
		if !documented(r.Path) {
			continue
		}
		key := strings.ToLower(r.Method) + " " + openAPIPath(r.Path)
		inRoutes[key] = true
		if _, ok := doc.Paths[openAPIPath(r.Path)][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s is not in /api/openapi.json", key)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if !inRoutes[method+" "+path] {
				t.Errorf("/api/openapi.json documents %s %s, which has no route", method, path)
			}
		}
	}
}

// TestMalformedInputNeverGives5xx sends broken bodies to every route, as a visitor and as
// an administrator, and wants a 4xx problem (or a success where the route ignores bodies).
func TestMalformedInputNeverGives5xx(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	// Every route gets each body twice (visitor, admin), and every login attempt counts
	// against the address: the limit would answer 429 before the bodies are all tried.
	cfg.Auth.LoginMaxPerIP = 10_000
	srv := testenv.StartServer(t, cfg)
	bodies := []struct {
		name, contentType string
		body              string
	}{
		{"syntax", "application/json", `{"name": `},
		{"not an object", "application/json", `[1,2,3]`},
		{"string", "application/json", `"hello"`},
		{"null", "application/json", `null`},
		{"wrong types", "application/json", `{"name": 5, "password": true, "display_name": [], "role": {}, "expires_in_days": "ten", "disabled": "yes", "unit": 1}`},
		{"unknown field", "application/json", `{"nonsense": 1}`},
		{"two objects", "application/json", `{} {}`},
		{"empty", "application/json", ``},
		{"oversized", "application/json", `{"name":"` + strings.Repeat("长", 700_000) + `"}`},
		{"deep nesting", "application/json", strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)},
		{"invalid utf8", "application/json", "{\"name\": \"\xff\xfe\"}"},
		{"huge number", "application/json", `{"expires_in_days": 1e400}`},
		{"wrong content type", "text/plain", `{"name":"x"}`},
		{"form", "application/x-www-form-urlencoded", `name=x&password=y`},
	}
	paramValue := map[string]string{":name": testenv.AdminName, ":id": "abcdef", "*filepath": "app.css",
		":version": "v1", "*path": "files/a.jpg", ":sha": "ab", "*name": "master.m3u8", ":n": "0"}
	for _, route := range routeList(t) {
		path := route.Path
		for k, v := range paramValue {
			path = strings.ReplaceAll(path, k, v)
		}
		for _, who := range []string{"visitor", "admin"} {
			c := newClient(t, srv.URL)
			c.malformed = true
			if who == "admin" {
				c.login(testenv.AdminName, testenv.AdminPassword)
			}
			for _, b := range bodies {
				r := c.do(route.Method, path, b.body, "Content-Type", b.contentType)
				if r.status >= 500 {
					t.Errorf("%s %s as %s with %s body: %d %s", route.Method, path, who, b.name, r.status, r.body)
					continue
				}
				if r.status >= 400 && documented(route.Path) {
					var p map[string]any
					if r.header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(r.body, &p) != nil || p["detail"] == "" {
						t.Errorf("%s %s as %s with %s body: %d without problem details: %s", route.Method, path, who, b.name, r.status, r.body)
					}
				}
				if route.Path == "/api/v1/auth/logout" && r.status == http.StatusNoContent && who == "admin" {
					c.login(testenv.AdminName, testenv.AdminPassword)
				}
			}
		}
	}
	// A malformed query string is input too.
	admin := newClient(t, srv.URL)
	admin.login(testenv.AdminName, testenv.AdminPassword)
	for _, q := range []string{"limit=abc", "limit=-1", "limit=100000", "offset=x", "role=king", "q=" + strings.Repeat("x", 200), "role=%22%20OR%201%3D1"} {
		admin.want(http.StatusUnprocessableEntity, "GET", "/api/v1/accounts?"+q, nil).problem(t)
	}
}

// TestFavicon: the pages link an SVG icon under a versioned, long-cached URL, and the
// browsers' automatic /favicon.ico request gets the same icon instead of a 404.
func TestFavicon(t *testing.T) {
	srv := startServer(t)
	anon := newClient(t, srv.URL)
	home := string(anon.want(http.StatusOK, "GET", "/", nil).body)
	const link = `<link rel="icon" type="image/svg+xml" href="`
	i := strings.Index(home, link)
	if i < 0 {
		t.Fatal("the home page links no SVG icon")
	}
	href := home[i+len(link):]
	href = href[:strings.IndexByte(href, '"')]
	if !strings.HasPrefix(href, "/static/favicon.svg?v=") {
		t.Fatalf("icon link %q, want a versioned /static/favicon.svg", href)
	}
	for _, c := range []struct{ path, cache string }{
		{href, "immutable"},
		{"/favicon.ico", "max-age="},
	} {
		r := anon.want(http.StatusOK, "GET", c.path, nil)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "image/svg+xml") {
			t.Errorf("%s: Content-Type %q", c.path, ct)
		}
		if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, c.cache) || !strings.Contains(cc, "public") {
			t.Errorf("%s: Cache-Control %q, want public and %s", c.path, cc, c.cache)
		}
		if !strings.Contains(string(r.body), "<svg") {
			t.Errorf("%s is not the SVG icon", c.path)
		}
	}
}
