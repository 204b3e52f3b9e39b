package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// TestEventStreamsAreCapped: one address may hold live.event_streams_per_ip event streams;
// the next is answered 429 with Retry-After, and a place frees when a page closes its stream.
func TestEventStreamsAreCapped(t *testing.T) {
	srv := startLiveServer(t, func(cfg *config.Config) { cfg.Live.EventStreamsPerIP = 2 })
	_, lecturer, _ := liveAccounts(t, srv)
	anon := newClient(t, srv.URL)
	lec := lecturer.createLecture("流数量上限测试", time.Now().Add(time.Hour), "public")
	chat := "/api/v1/lectures/" + lec.ID + "/chat"
	first := openEvents(t, anon, chat, "")
	openEvents(t, newClient(t, srv.URL), chat, "") // another visitor, the same address
	runScenarios(t, []apiScenario{
		{name: "a third stream from the address", client: anon, method: "GET", path: chat, status: http.StatusTooManyRequests,
			problem: true, headersSet: []string{"Retry-After"}},
	})
	first.close()
	testwait.Until(t, "the closed stream's place is free again", func() bool {
		return streamStatus(t, anon, chat) == http.StatusOK
	})
}

// streamStatus opens an event stream and closes it as soon as the answer's status is known.
func streamStatus(t *testing.T, c *client, path string) int {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := (&http.Client{Jar: c.http.Jar}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
