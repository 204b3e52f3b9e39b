package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/internal/testenv"
)

// TestOriginTrust: links that leave the page never take the client's Host header, HSTS and
// https links follow X-Forwarded-Proto only from a trusted proxy, and /metrics is local or
// behind its token.
func TestOriginTrust(t *testing.T) {
	stack := testenv.Shared(t)
	plain := testenv.StartServer(t, testenv.Config(t, stack))
	proxiedCfg := testenv.Config(t, stack)
	proxiedCfg.HTTP.TrustedProxies = "127.0.0.0/8"
	proxied := testenv.StartServer(t, proxiedCfg)
	tokenCfg := testenv.Config(t, stack)
	tokenCfg.HTTP.MetricsToken = "metrics-token-0123456789"
	token := testenv.StartServer(t, tokenCfg)

	own := strings.TrimPrefix(plain.URL, "http://")
	feeds := []struct {
		name    string
		srv     *testenv.Server
		headers []string
		base    string // the links' start
		hsts    bool
	}{
		{"a forged Host", plain, []string{"Host", "evil.example"}, "http://" + own, false},
		{"https claimed by anyone", plain, []string{"Host", "evil.example", "X-Forwarded-Proto", "https"}, "http://" + own, false},
		{"https from a trusted proxy", proxied, []string{"X-Forwarded-Proto", "https"}, "https://" + strings.TrimPrefix(proxied.URL, "http://"), true},
		{"plain http from a trusted proxy", proxied, []string{"X-Forwarded-Proto", "http"}, proxied.URL, false},
	}
	for _, tc := range feeds {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.srv.URL)
			rss := c.want(http.StatusOK, "GET", "/lectures/feed.rss", nil, tc.headers...)
			body := string(rss.body)
			if strings.Contains(body, "evil.example") || !strings.Contains(body, "<link>"+tc.base+"/lectures</link>") {
				t.Errorf("feed links do not start with %s:\n%s", tc.base, body)
			}
			ics := string(c.want(http.StatusOK, "GET", "/lectures/calendar.ics", nil, tc.headers...).body)
			if strings.Contains(ics, "evil.example") {
				t.Errorf("calendar names the forged host:\n%s", ics)
			}
			if got := rss.header.Get("Strict-Transport-Security"); (got != "") != tc.hsts || tc.hsts && got != "max-age=31536000" {
				t.Errorf("Strict-Transport-Security = %q, want it: %v", got, tc.hsts)
			}
		})
	}

	metrics := []struct {
		name    string
		srv     *testenv.Server
		headers []string
		status  int
	}{
		{"loopback, no token set", plain, nil, http.StatusOK},
		{"forwarded by a local proxy, no token set", plain, []string{"X-Forwarded-For", "203.0.113.9"}, http.StatusForbidden},
		{"token set, none sent", token, nil, http.StatusUnauthorized},
		{"token set, a wrong one sent", token, []string{"Authorization", "Bearer metrics-token-x"}, http.StatusUnauthorized},
		{"token set and sent", token, []string{"Authorization", "Bearer metrics-token-0123456789"}, http.StatusOK},
	}
	for _, tc := range metrics {
		t.Run("metrics: "+tc.name, func(t *testing.T) {
			r := newClient(t, tc.srv.URL).want(tc.status, "GET", "/metrics", nil, tc.headers...)
			if tc.status == http.StatusOK {
				if !strings.Contains(string(r.body), "culturecloud_http_requests_total") {
					t.Errorf("metrics body: %.200s", r.body)
				}
				return
			}
			r.problem(t)
		})
	}
}
