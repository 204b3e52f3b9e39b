package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// TestLiveDeployDrains: stopping a node (a deploy) while a lecture is live leaves the
// lecture live; its encoder reconnects to the new node on the same data within the grace
// period and the lecture plays on.
func TestLiveDeployDrains(t *testing.T) {
	old := startLiveServer(t, func(cfg *config.Config) {
		cfg.Live.EndGrace = 2 * time.Minute
		cfg.Live.DrainTimeout = time.Second
	})
	loadLiveMedia(t)
	_, lecturer, _ := liveAccounts(t, old)
	lec := lecturer.createLecture("发布时不断播", time.Now(), "public")
	first := publish(t, old.URL, lec.ID, lec.StreamKey)
	testwait.Until(t, "the lecture is live", func() bool { return lecturer.lecture(lec.ID).State == "live" })

	old.Stop(t)
	first.Close()
	cfg := *old.Config
	next := testenv.StartServer(t, &cfg)
	anon := newClient(t, next.URL)
	if l := anon.lecture(lec.ID); l.State != "live" || l.EndedAt != nil {
		t.Fatalf("after the deploy the lecture is %s (ended %v), want live", l.State, l.EndedAt)
	}
	publish(t, next.URL, lec.ID, lec.StreamKey)
	v, err := watch(t, next.URL, lec.ID, viewerOpts{})
	if err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "a viewer plays the lecture on the new node", v.playing)
	if l := anon.lecture(lec.ID); l.State != "live" || len(l.History) != 2 {
		t.Fatalf("lecture after the reconnect: %+v", l)
	}
	_ = http.StatusOK
}
