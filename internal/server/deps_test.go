package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// TestDependencyOutages stops each dependency in turn while the server runs: /readyz names
// it, requests that need it get a quick 503 problem, requests that do not still work, and
// the server recovers by itself once the dependency is back.
func TestDependencyOutages(t *testing.T) {
	stack := testenv.NewStack(t)
	srv := testenv.StartServer(t, testenv.Config(t, stack))

	admin := newClient(t, srv.URL)
	admin.login(testenv.AdminName, testenv.AdminPassword)
	admin.reviewer = cityReviewer(t, srv, admin)
	var tok struct {
		Token string `json:"token"`
	}
	admin.want(http.StatusCreated, "POST", "/api/v1/me/tokens", map[string]any{"label": "ops", "expires_in_days": 1}).json(t, &tok)
	bot := newClient(t, srv.URL)
	bot.bearer = tok.Token
	anon := newClient(t, srv.URL)
	loginBody := map[string]string{"name": testenv.AdminName, "password": testenv.AdminPassword}

	type probe struct {
		name   string
		c      *client
		method string
		path   string
		body   any
		status int // while the dependency is down
	}
	var outageItem itemJSON
	tests := []struct {
		dep          string
		duringOutage func(t *testing.T)
		probes       []probe
		// afterRestart runs once the dependency is back.
		afterRestart func(t *testing.T)
	}{
		{
			dep: "redis",
			probes: []probe{
				{"login needs redis", anon, "POST", "/api/v1/auth/login", loginBody, 503},
				{"session needs redis", admin, "GET", "/api/v1/me", nil, 503},
				{"unit tree does not", anon, "GET", "/api/v1/units", nil, 200},
				{"token auth does not", bot, "GET", "/api/v1/me", nil, 200},
				{"home page does not", anon, "GET", "/", nil, 200},
			},
			afterRestart: func(t *testing.T) { newClient(t, srv.URL).login(testenv.AdminName, testenv.AdminPassword) },
		},
		{
			dep: "minio",
			probes: []probe{
				{"unit tree needs minio", anon, "GET", "/api/v1/units", nil, 503},
				{"token auth needs minio", bot, "GET", "/api/v1/me", nil, 503},
				{"health does not", anon, "GET", "/healthz", nil, 200},
				{"home page does not", anon, "GET", "/", nil, 200},
			},
			afterRestart: func(t *testing.T) { bot.want(http.StatusOK, "GET", "/api/v1/units", nil) },
		},
		{
			dep: "meilisearch",
			probes: []probe{
				{"search needs meilisearch", bot, "GET", "/api/v1/accounts", nil, 503},
				{"login does not", anon, "POST", "/api/v1/auth/login", loginBody, 200},
				// Writes still succeed; the index catches up when Meilisearch returns.
				{"writes do not", bot, "POST", "/api/v1/accounts", map[string]any{"name": "during.outage", "display_name": "停机时创建",
					"password": "Outage-Account-1", "role": "librarian", "unit": "pl-library"}, 201},
			},
			duringOutage: func(t *testing.T) {
				outageItem = admin.publish(admin.createItem(sampleItem("停机期间发布的老照片", nil)))
			},
			afterRestart: func(t *testing.T) {
				testwait.Until(t, "the item published during the outage is searchable", func() bool {
					return anon.search("q=" + url.QueryEscape("停机期间发布")).has(outageItem.ID)
				})
				testwait.Until(t, "the account written during the outage is searchable", func() bool {
					r := bot.do("GET", "/api/v1/accounts?q=during.outage", nil)
					var page struct {
						Accounts []struct{ Name string } `json:"accounts"`
					}
					if r.status != http.StatusOK {
						return false
					}
					r.json(t, &page)
					return len(page.Accounts) == 1
				})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.dep, func(t *testing.T) {
			stack.Kill(tt.dep)
			var ready struct {
				Failing []string `json:"failing"`
			}
			anon.want(http.StatusServiceUnavailable, "GET", "/readyz", nil).json(t, &ready)
			if !slices.Equal(ready.Failing, []string{tt.dep}) {
				t.Fatalf("readyz names %v, want [%s]", ready.Failing, tt.dep)
			}
			for _, p := range tt.probes {
				start := time.Now()
				r := p.c.do(p.method, p.path, p.body)
				if r.status != p.status {
					t.Fatalf("%s: %s %s = %d, want %d: %s", p.name, p.method, p.path, r.status, p.status, r.body)
				}
				if p.status == http.StatusServiceUnavailable {
					prob := r.problem(t)
					if prob["dependency"] != tt.dep {
						t.Fatalf("%s: problem names %v, want %s", p.name, prob["dependency"], tt.dep)
					}
				}
				t.Logf("%s: %d in %v", p.name, r.status, time.Since(start).Round(time.Millisecond))
			}
			if tt.duringOutage != nil {
				tt.duringOutage(t)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := stack.Start(ctx, tt.dep); err != nil {
				t.Fatal(err)
			}
			testwait.Until(t, "readyz recovers", func() bool { return anon.do("GET", "/readyz", nil).status == http.StatusOK })
			tt.afterRestart(t)
		})
	}
}
