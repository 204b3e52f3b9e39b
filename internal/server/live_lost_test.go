package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// TestLivePublisherLost: a publisher that stops sending (a crashed or frozen studio whose
// connection is still up) is noticed within seconds, not when the grace period ends: its
// viewers are let go and no longer counted, a viewer who asks is told that the lecturer's
// connection is lost, and the lecture stays live for the lecturer to come back.
func TestLivePublisherLost(t *testing.T) {
	srv := startLiveServer(t, func(cfg *config.Config) {
		cfg.Live.EndGrace = 5 * time.Minute
		cfg.Live.PublisherSilence = 2 * time.Second
	})
	loadLiveMedia(t)
	_, lecturer, _ := liveAccounts(t, srv)
	anon := newClient(t, srv.URL)
	lec := lecturer.createLecture("讲者掉线测试", time.Now(), "public")

	p := publish(t, srv.URL, lec.ID, lec.StreamKey)
	testwait.Until(t, "the lecture is live", func() bool { return anon.lecture(lec.ID).State == "live" })
	v, err := watch(t, srv.URL, lec.ID, viewerOpts{})
	if err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the viewer plays", v.playing)
	testwait.Until(t, "the viewer is counted", func() bool { return anon.liveStats(lec.ID).Current == 1 })

	p.Halt() // the peer connection stays up; nothing more comes
	testwait.Until(t, "the viewer is let go", func() bool {
		select {
		case <-v.Ended:
			return true
		default:
			return false
		}
	})
	testwait.Until(t, "the viewer is no longer counted", func() bool { return anon.liveStats(lec.ID).Current == 0 })
	r := anon.want(http.StatusConflict, "POST", "/api/v1/lectures/"+lec.ID+"/whep", publisherOffer(t), "Content-Type", "application/sdp")
	if pr := r.problem(t); pr["type"] != "/problems/publisher_lost" {
		t.Errorf("WHEP while the lecturer is gone: %v, want /problems/publisher_lost", pr)
	}
	if st := anon.lecture(lec.ID).State; st != "live" {
		t.Fatalf("lecture %s while its publisher may come back, want live", st)
	}

	// The lecturer comes back within the grace period: the same lecture plays on.
	publish(t, srv.URL, lec.ID, lec.StreamKey)
	v, err = watch(t, srv.URL, lec.ID, viewerOpts{})
	if err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "a viewer plays the resumed stream", v.playing)
}
