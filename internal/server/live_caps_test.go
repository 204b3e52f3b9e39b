package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// TestLiveViewerCaps: WHEP sessions, connecting or playing, are capped per client address
// (429) and per node (503), both with Retry-After; a session that ends frees its place.
func TestLiveViewerCaps(t *testing.T) {
	tests := []struct {
		name          string
		perIP, global int
		status        int
	}{
		{"per address", 2, 100, http.StatusTooManyRequests},
		{"per node", 100, 2, http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startLiveServer(t, func(cfg *config.Config) {
				cfg.Live.ViewersPerIP, cfg.Live.MaxViewers = tc.perIP, tc.global
			})
			loadLiveMedia(t)
			_, lecturer, _ := liveAccounts(t, srv)
			lec := lecturer.createLecture("人数上限测试", time.Now(), "public")
			p := publish(t, srv.URL, lec.ID, lec.StreamKey)
			defer p.Close()
			testwait.Until(t, "the lecture is live", func() bool { return lecturer.lecture(lec.ID).State == "live" })

			// Two offers that never connect hold their places while pending.
			var first *liveViewer
			for i := range 2 {
				v, err := watch(t, srv.URL, lec.ID, viewerOpts{ghost: true})
				if err != nil {
					t.Fatalf("viewer %d: %v", i+1, err)
				}
				if first == nil {
					first = v
				}
			}
			r, err := postSDP(testenv.Client(), srv.URL+"/api/v1/lectures/"+lec.ID+"/whep", publisherOffer(t))
			if err != nil {
				t.Fatal(err)
			}
			if r.status != tc.status || r.header.Get("Retry-After") == "" || !strings.Contains(r.header.Get("Content-Type"), "problem+json") {
				t.Fatalf("third viewer: %d, Retry-After %q: %s; want %d with Retry-After", r.status, r.header.Get("Retry-After"), r.body, tc.status)
			}
			// Ending a session frees its place.
			anon := newClient(t, srv.URL)
			anon.want(http.StatusOK, "DELETE", first.location, nil)
			if _, err := watch(t, srv.URL, lec.ID, viewerOpts{ghost: true}); err != nil {
				t.Fatalf("a viewer after one left: %v", err)
			}
		})
	}
}
