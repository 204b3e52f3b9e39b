package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

const (
	partnerOrigin = "https://www.nxculture.example.cn" // a site of live.allowed_origins
	strangeOrigin = "https://elsewhere.example.com"    // a site that is not
)

// headerList splits a comma-separated answer header into its items.
func headerList(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// sameItems says whether two lists hold the same items, case aside, in any order.
func sameItems(a, b []string) bool {
	norm := func(l []string) []string {
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = strings.ToLower(s)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(a), norm(b))
}

// corsAllows checks the answer to an allowed origin's request: the origin allowed, the
// WHIP/WHEP headers readable, no credentials.
func corsAllows(origin string) func(t testing.TB, r reply) {
	return func(t testing.TB, r reply) {
		t.Helper()
		if got := r.header.Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("Access-Control-Allow-Origin %q, want %q", got, origin)
		}
		exposed := headerList(r.header, "Access-Control-Expose-Headers")
		for _, h := range []string{"Location", "Link", "ETag"} {
			if !slices.ContainsFunc(exposed, func(e string) bool { return strings.EqualFold(e, h) }) {
				t.Errorf("Access-Control-Expose-Headers %q lacks %s", exposed, h)
			}
		}
		if origin != "*" && !slices.Contains(headerList(r.header, "Vary"), "Origin") {
			t.Errorf("an answer for one origin without Vary: Origin (%q)", r.header.Values("Vary"))
		}
		if v := r.header.Get("Access-Control-Allow-Credentials"); v != "" {
			t.Errorf("Access-Control-Allow-Credentials %q: cookies must never go across sites", v)
		}
	}
}

// corsRefuses checks that an answer gives another site nothing.
func corsRefuses(t testing.TB, r reply) {
	t.Helper()
	for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Expose-Headers", "Access-Control-Allow-Credentials"} {
		if v := r.header.Get(h); v != "" {
			t.Errorf("%s: %q for a site that is not allowed", h, v)
		}
	}
}

// preflight is a browser's CORS preflight of method on path from origin.
func preflight(name string, c *client, path, origin, method, requestHeaders, allow string, check func(testing.TB, reply)) apiScenario {
	return apiScenario{name: name, client: c, method: "OPTIONS", path: path, status: http.StatusNoContent,
		headers: []string{"Origin", origin, "Access-Control-Request-Method", method, "Access-Control-Request-Headers", requestHeaders},
		check: func(t testing.TB, r reply) {
			t.Helper()
			if got := headerList(r.header, "Allow"); !sameItems(got, strings.Split(allow, ", ")) {
				t.Errorf("Allow %q, want %q", got, allow)
			}
			check(t, r)
		}}
}

// preflightAllowed checks an allowed preflight: the method and the headers WHIP and WHEP
// clients send.
func preflightAllowed(origin, method string, wantHeaders ...string) func(testing.TB, reply) {
	return func(t testing.TB, r reply) {
		t.Helper()
		corsAllows(origin)(t, r)
		if !slices.Contains(headerList(r.header, "Access-Control-Allow-Methods"), method) {
			t.Errorf("Access-Control-Allow-Methods %q lacks %s", r.header.Get("Access-Control-Allow-Methods"), method)
		}
		allowed := headerList(r.header, "Access-Control-Allow-Headers")
		for _, h := range wantHeaders {
			if !slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, h) }) {
				t.Errorf("Access-Control-Allow-Headers %q lacks %s", allowed, h)
			}
		}
		if r.header.Get("Access-Control-Max-Age") == "" {
			t.Error("no Access-Control-Max-Age: every offer would be preflighted again")
		}
	}
}

func acceptPost(t testing.TB, r reply) {
	t.Helper()
	if got := r.header.Get("Accept-Post"); got != "application/sdp" {
		t.Errorf("Accept-Post %q, want application/sdp", got)
	}
}

// TestLiveAcrossOrigins: a page of an allowed site publishes with WHIP and plays with
// WHEP, another site's page is refused by the browser's preflight, cookies never go across,
// and the session resources behave as RFC 9725 says: entity tags and If-Match, sendonly
// answers to sendrecv offers, DELETE after the client closed its connection.
func TestLiveAcrossOrigins(t *testing.T) {
	srv := startLiveServer(t, func(cfg *config.Config) {
		cfg.Live.AllowedOrigins = partnerOrigin + ", http://127.0.0.1:1"
		cfg.Live.EndGrace = 5 * time.Minute // the lecture stays live after its publisher closes
	})
	loadLiveMedia(t)
	_, lecturer, _ := liveAccounts(t, srv)
	anon := newClient(t, srv.URL)
	lec := lecturer.createLecture("跨站嵌入测试：贺兰山岩画", time.Now(), "public")
	other := lecturer.createLecture("另一场讲座", time.Now(), "public")
	whip, whep := "/api/v1/lectures/"+lec.ID+"/whip", "/api/v1/lectures/"+lec.ID+"/whep"

	t.Run("preflights", func(t *testing.T) { runScenarios(t, preflightSteps(t, anon, whip, whep)) })

	// The partner's encoder publishes with the stream key.
	pub := publishFrom(t, srv.URL, lec.ID, lec.StreamKey, partnerOrigin)
	testwait.Until(t, "the lecture is live", func() bool { return anon.lecture(lec.ID).State == "live" })
	if pub.reply.header.Get("ETag") == "" {
		t.Fatal("the WHIP answer has no ETag")
	}
	corsAllows(partnerOrigin)(t, reply(pub.reply))
	if strings.Contains(string(pub.reply.body), lec.StreamKey) || strings.Contains(strings.Join(flatHeaders(pub.reply.header), "\n"), lec.StreamKey) {
		t.Fatal("the WHIP answer repeats the stream key")
	}

	// A player that adds its transceivers without a direction offers sendrecv.
	v, err := watch(t, srv.URL, lec.ID, viewerOpts{sendrecv: true, headers: []string{"Origin", partnerOrigin}})
	if err != nil {
		t.Fatal(err)
	}
	corsAllows(partnerOrigin)(t, reply(v.reply))
	if answer := string(v.reply.body); strings.Count(answer, "a=sendonly") != 2 || strings.Contains(answer, "a=sendrecv") {
		t.Fatalf("the answer to a sendrecv offer is not sendonly in both sections:\n%s", answer)
	}
	testwait.Until(t, "the sendrecv player plays", v.playing)
	etag := v.reply.header.Get("ETag")
	if etag == "" || etag == pub.reply.header.Get("ETag") || strings.Contains(etag, strings.TrimPrefix(v.location, whep+"/")) {
		t.Fatalf("WHEP ETag %q (the WHIP one %q)", etag, pub.reply.header.Get("ETag"))
	}

	frag := func(ifMatch string) []string {
		h := []string{"Content-Type", "application/trickle-ice-sdpfrag", "Origin", partnerOrigin}
		if ifMatch != "" {
			h = append(h, "If-Match", ifMatch)
		}
		return h
	}
	end := "a=end-of-candidates\r\n"
	t.Run("trickle ICE and If-Match", func(t *testing.T) {
		runScenarios(t, []apiScenario{
			{name: "stale If-Match", client: anon, method: "PATCH", path: v.location, body: end, headers: frag(`"0123456789abcdef"`),
				status: http.StatusPreconditionFailed, problem: true, check: corsAllows(partnerOrigin)},
			{name: "the WHIP session's tag", client: anon, method: "PATCH", path: v.location, body: end, headers: frag(pub.reply.header.Get("ETag")),
				status: http.StatusPreconditionFailed, problem: true},
			{name: "weak tag", client: anon, method: "PATCH", path: v.location, body: end, headers: frag("W/" + etag), status: http.StatusPreconditionFailed, problem: true},
			{name: "malformed If-Match", client: anon, method: "PATCH", path: v.location, body: end, headers: frag(strings.Trim(etag, `"`)), status: http.StatusPreconditionFailed, problem: true},
			{name: "unknown session before the precondition", client: anon, method: "PATCH", path: whep + "/0123456789abcdef0123456789abcdef", body: end,
				headers: frag(`"0123456789abcdef"`), status: http.StatusNotFound, problem: true},
			{name: "current tag", client: anon, method: "PATCH", path: v.location, body: end, headers: frag(etag), status: http.StatusNoContent, check: corsAllows(partnerOrigin)},
			{name: "current tag in a list", client: anon, method: "PATCH", path: v.location, body: end, headers: frag(`"0123", ` + etag), status: http.StatusNoContent},
			{name: "any tag", client: anon, method: "PATCH", path: v.location, body: end, headers: frag("*"), status: http.StatusNoContent},
			{name: "no If-Match", client: anon, method: "PATCH", path: v.location, body: end, headers: frag(""), status: http.StatusNoContent},
			{name: "WHIP PATCH with its tag", client: anon, method: "PATCH", path: pub.location, body: end, headers: frag(pub.reply.header.Get("ETag")), status: http.StatusNoContent},
			{name: "ICE restart", client: anon, method: "PATCH", path: v.location, body: "a=ice-ufrag:restart\r\na=ice-pwd:restartrestartrestartrestart\r\n",
				headers: frag("*"), status: http.StatusUnprocessableEntity, problem: true},
		})
	})

	t.Run("a site not allowed reads nothing", func(t *testing.T) {
		stranger, err := watch(t, srv.URL, lec.ID, viewerOpts{headers: []string{"Origin", strangeOrigin}})
		if err != nil {
			t.Fatal(err)
		}
		corsRefuses(t, reply(stranger.reply))
		anon.want(http.StatusOK, "DELETE", stranger.location, nil)
	})

	// The player closes its connection, then deletes its session (whip-whep does so).
	t.Run("DELETE after the player closed", func(t *testing.T) {
		before := anon.liveStats(lec.ID).Current
		if err := v.PC.Close(); err != nil {
			t.Fatal(err)
		}
		testwait.Until(t, "the server lets the closed player go", func() bool { return anon.liveStats(lec.ID).Current == before-1 })
		session := strings.TrimPrefix(v.location, whep+"/")
		runScenarios(t, []apiScenario{
			{name: "DELETE", client: anon, method: "DELETE", path: v.location, headers: []string{"Origin", partnerOrigin}, status: http.StatusOK, check: corsAllows(partnerOrigin)},
			{name: "DELETE again", client: anon, method: "DELETE", path: v.location, status: http.StatusOK},
			// The ended session is still nobody else's.
			{name: "through another lecture's URL", client: anon, method: "DELETE", path: "/api/v1/lectures/" + other.ID + "/whep/" + session, status: http.StatusNotFound, problem: true},
			{name: "as a WHIP session", client: anon, method: "DELETE", path: whip + "/" + session, headers: []string{"Authorization", "Bearer " + lec.StreamKey},
				status: http.StatusNotFound, problem: true},
			{name: "a session that never was", client: anon, method: "DELETE", path: whep + "/0123456789abcdef0123456789abcdef", status: http.StatusNotFound, problem: true},
			{name: "PATCH of the ended session", client: anon, method: "PATCH", path: v.location, body: end, headers: frag(etag), status: http.StatusNotFound, problem: true},
		})
	})

	t.Run("WHIP DELETE after the encoder closed", func(t *testing.T) {
		pub.Close()
		session := strings.TrimPrefix(pub.location, whip+"/")
		testwait.Until(t, "the server lets the closed publisher go", func() bool {
			r := anon.do("PATCH", pub.location, end, frag("")...)
			return r.status == http.StatusNotFound
		})
		runScenarios(t, []apiScenario{
			{name: "without the key", client: anon, method: "DELETE", path: pub.location, status: http.StatusUnauthorized, problem: true},
			{name: "with another lecture's key", client: anon, method: "DELETE", path: pub.location, headers: []string{"Authorization", "Bearer " + other.StreamKey},
				status: http.StatusUnauthorized, problem: true},
			{name: "through another lecture's URL with its key", client: anon, method: "DELETE", path: "/api/v1/lectures/" + other.ID + "/whip/" + session,
				headers: []string{"Authorization", "Bearer " + other.StreamKey}, status: http.StatusNotFound, problem: true},
			{name: "with the key", client: anon, method: "DELETE", path: pub.location, headers: []string{"Authorization", "Bearer " + lec.StreamKey, "Origin", partnerOrigin},
				status: http.StatusOK, check: corsAllows(partnerOrigin)},
		})
	})
}

// TestLiveAnyOrigin: with live.allowed_origins "*", every site may, still without cookies.
func TestLiveAnyOrigin(t *testing.T) {
	srv := startLiveServer(t, func(cfg *config.Config) { cfg.Live.AllowedOrigins = "*" })
	anon := newClient(t, srv.URL)
	path := "/api/v1/lectures/lec_doesnotexist/whep"
	runScenarios(t, []apiScenario{
		preflight("any site", anon, path, strangeOrigin, "POST", "content-type", "OPTIONS, POST", preflightAllowed("*", "POST", "Content-Type")),
		{name: "an offer from any site", client: anon, method: "POST", path: path, body: "v=0", headers: []string{"Content-Type", "application/sdp", "Origin", strangeOrigin},
			status: http.StatusNotFound, problem: true, check: corsAllows("*")},
	})
}

func flatHeaders(h http.Header) []string {
	var out []string
	for k, vs := range h {
		for _, v := range vs {
			out = append(out, k+": "+v)
		}
	}
	return out
}

// preflightSteps are the OPTIONS answers (preflights of allowed and other sites, a plain
// OPTIONS) and the methods a WHIP/WHEP URL refuses, before the lecture is live.
func preflightSteps(t *testing.T, anon *client, whip, whep string) []apiScenario {
	return []apiScenario{
		preflight("WHIP from the partner", anon, whip, partnerOrigin, "POST", "authorization,content-type", "OPTIONS, POST",
			func(t testing.TB, r reply) {
				preflightAllowed(partnerOrigin, "POST", "Authorization", "Content-Type")(t, r)
				acceptPost(t, r)
			}),
		// Eyevinn's WHIP client asks OPTIONS with its bearer token first, which the browser
		// preflights in turn.
		preflight("WHIP's OPTIONS with a token", anon, whip, partnerOrigin, "OPTIONS", "authorization", "OPTIONS, POST",
			preflightAllowed(partnerOrigin, "OPTIONS", "Authorization")),
		preflight("WHEP from the partner", anon, whep, partnerOrigin, "POST", "content-type", "OPTIONS, POST",
			func(t testing.TB, r reply) {
				preflightAllowed(partnerOrigin, "POST", "Content-Type")(t, r)
				acceptPost(t, r)
			}),
		preflight("WHEP session", anon, whep+"/0123456789abcdef0123456789abcdef", partnerOrigin, "PATCH", "content-type,if-match", "DELETE, OPTIONS, PATCH",
			func(t testing.TB, r reply) {
				preflightAllowed(partnerOrigin, "PATCH", "Content-Type", "If-Match")(t, r)
				if got := r.header.Get("Accept-Patch"); got != "application/trickle-ice-sdpfrag" {
					t.Errorf("Accept-Patch %q", got)
				}
			}),
		preflight("WHIP session DELETE", anon, whip+"/0123456789abcdef0123456789abcdef", partnerOrigin, "DELETE", "authorization", "DELETE, OPTIONS, PATCH",
			preflightAllowed(partnerOrigin, "DELETE", "Authorization")),
		preflight("layer", anon, whep+"/0123456789abcdef0123456789abcdef/layer", partnerOrigin, "POST", "content-type", "OPTIONS, POST",
			preflightAllowed(partnerOrigin, "POST", "Content-Type")),
		preflight("WHEP from a site not allowed", anon, whep, strangeOrigin, "POST", "content-type", "OPTIONS, POST", corsRefuses),
		preflight("a method the URL does not take", anon, whep, partnerOrigin, "PUT", "content-type", "OPTIONS, POST", corsRefuses),
		{name: "plain OPTIONS (RFC 9725 §4.1)", client: anon, method: "OPTIONS", path: whip, status: http.StatusNoContent,
			check: func(t testing.TB, r reply) {
				acceptPost(t, r)
				if got := headerList(r.header, "Allow"); !sameItems(got, []string{"OPTIONS", "POST"}) {
					t.Errorf("Allow %q", got)
				}
				corsRefuses(t, r)
			}},
		{name: "GET of the WHIP endpoint", client: anon, method: "GET", path: whip, status: http.StatusMethodNotAllowed, problem: true,
			check: func(t testing.TB, r reply) {
				if got := headerList(r.header, "Allow"); !sameItems(got, []string{"OPTIONS", "POST"}) {
					t.Errorf("Allow %q", got)
				}
			}},
		{name: "POST to a WHEP session", client: anon, method: "POST", path: whep + "/0123456789abcdef0123456789abcdef", body: "x",
			status: http.StatusMethodNotAllowed, problem: true, check: func(t testing.TB, r reply) {
				if got := headerList(r.header, "Allow"); !sameItems(got, []string{"DELETE", "OPTIONS", "PATCH"}) {
					t.Errorf("Allow %q", got)
				}
			}},
		// A refusal is readable by the partner's page, so that its player can say why.
		{name: "WHEP before live, from the partner", client: anon, method: "POST", path: whep, body: publisherOffer(t),
			headers: []string{"Content-Type", "application/sdp", "Origin", partnerOrigin}, status: http.StatusConflict, problem: true,
			check: corsAllows(partnerOrigin)},
	}
}
