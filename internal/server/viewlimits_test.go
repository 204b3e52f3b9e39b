package server_test

import (
	"net/http"
	"testing"

	"github.com/shizuishan/culturecloud/internal/testenv"
)

// TestViewCountingLimits: counting views is limited per visitor, per client IP and for the
// whole site (429 with Retry-After), and a client that never keeps its cookie cannot make up
// unique visitors: past a few new ids per IP it is one visitor, its IP and browser.
func TestViewCountingLimits(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	cfg.HTTP.TrustedProxies = "127.0.0.1/32" // X-Forwarded-For picks each request's client IP
	cfg.Views.MaxPerVisitor, cfg.Views.MaxPerIP, cfg.Views.MaxNewVisitorsPerIP, cfg.Views.MaxGlobal = 3, 8, 2, 12
	srv := testenv.StartServer(t, cfg)
	_, dwk, _ := staffClients(t, srv)
	item := dwk.publish(dwk.createItem(sampleItem("支宁青年合影", nil)))
	viewsPath := "/api/v1/items/" + item.ID + "/views"
	view := func(c *client, ip string, want int) {
		t.Helper()
		r := c.want(want, "POST", viewsPath, nil, "X-Forwarded-For", ip)
		if want == http.StatusTooManyRequests {
			if r.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			r.problem(t)
		}
	}
	stats := func() (total, unique int64) {
		var st struct{ Total, Unique int64 }
		dwk.want(http.StatusOK, "GET", "/api/v1/items/"+item.ID+"/stats", nil).json(t, &st)
		return st.Total, st.Unique
	}

	// A browser (it keeps its cookie) on 10.0.0.1: three views, then no more this window.
	browser := newClient(t, srv.URL)
	for range 3 {
		view(browser, "10.0.0.1", http.StatusOK)
	}
	view(browser, "10.0.0.1", http.StatusTooManyRequests)

	// A script that drops the cookie, on the same IP: one new visitor (the browser had the
	// first of the IP's two), then it is counted as its IP and browser (one more visitor,
	// deduplicated), then the IP is over its limit.
	script := &client{t: t, base: srv.URL, http: testenv.Client()}
	for range 4 {
		view(script, "10.0.0.1", http.StatusOK)
	}
	view(script, "10.0.0.1", http.StatusTooManyRequests)
	if total, unique := stats(); total != 3 || unique != 3 {
		t.Fatalf("after the browser and the script: %d views, %d unique, want 3 and 3", total, unique)
	}

	// Other IPs count until the site's limit (12 asked so far: 9 above, then these three).
	view(newClient(t, srv.URL), "10.0.0.2", http.StatusOK)
	view(newClient(t, srv.URL), "10.0.0.3", http.StatusOK)
	view(newClient(t, srv.URL), "10.0.0.4", http.StatusOK)
	view(newClient(t, srv.URL), "10.0.0.5", http.StatusTooManyRequests)
	if total, unique := stats(); total != 6 || unique != 6 {
		t.Fatalf("at the site's limit: %d views, %d unique, want 6 and 6", total, unique)
	}
}
