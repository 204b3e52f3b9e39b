package server_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/mail/mailtest"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// resetServer runs the product with its mail going to a real SMTP relay on loopback.
func resetServer(t *testing.T, tune func(*config.Config)) (*testenv.Server, *mailtest.Relay) {
	t.Helper()
	relay := mailtest.Start(t, "relay-secret")
	cfg := testenv.Config(t, testenv.Shared(t))
	cfg.Mail.Sender, cfg.Mail.SMTPAddr = "smtp", relay.Addr
	cfg.Mail.SMTPUsername, cfg.Mail.SMTPPassword = "culturecloud", "relay-secret"
	cfg.HTTP.PublicURL = "https://culture.shizuishan.example"
	if tune != nil {
		tune(cfg)
	}
	return testenv.StartServer(t, cfg), relay
}

var resetLink = regexp.MustCompile(`https://culture\.shizuishan\.example/password-reset/new#token=([A-Za-z0-9_-]+)`)

// mailedToken waits for the n-th message to arrive and returns the token of its link.
func mailedToken(t *testing.T, relay *mailtest.Relay, n int, to string) string {
	t.Helper()
	var token string
	testwait.Until(t, "reset mail "+to, func() bool {
		msgs := relay.Messages()
		if len(msgs) < n {
			return false
		}
		m := msgs[n-1]
		if m.To != to {
			t.Fatalf("mail went to %q, want %q", m.To, to)
		}
		match := resetLink.FindStringSubmatch(m.Body)
		if match == nil {
			t.Fatalf("mail body has no link on the public address: %q", m.Body)
		}
		token = match[1]
		return true
	})
	return token
}

// TestPasswordResetByMail: a forgotten password is reset through a link mailed to the
// account's address (never to an address the Host header chose); the answer does not tell
// whether the account exists; a weak password keeps the link; the link works once, ends
// every session, and lets the new password in.
func TestPasswordResetByMail(t *testing.T) {
	srv, relay := resetServer(t, nil)
	owner := newClient(t, srv.URL)
	owner.want(http.StatusCreated, "POST", "/api/v1/auth/register", map[string]any{"name": "wang.xiulan", "display_name": "王秀兰",
		"email": "wxl@example.org", "password": "Helan-Mountain-Rock-7"})
	owner.login("wang.xiulan", "Helan-Mountain-Rock-7")

	stranger := newClient(t, srv.URL)
	known := stranger.want(http.StatusAccepted, "POST", "/api/v1/auth/password-reset", map[string]any{"name": " Wang.Xiulan "},
		"Host", "evil.example")
	unknown := stranger.want(http.StatusAccepted, "POST", "/api/v1/auth/password-reset", map[string]any{"name": "nobody.here"})
	if string(known.body) != string(unknown.body) {
		t.Fatalf("answers differ: known %s, unknown %s", known.body, unknown.body)
	}
	token := mailedToken(t, relay, 1, "wxl@example.org")
	m := relay.Messages()[0]
	if !strings.Contains(m.Body, "王秀兰") || !strings.Contains(m.Subject, "重设密码") || m.User != "culturecloud" {
		t.Fatalf("mail %q / %q as %q", m.Subject, m.Body, m.User)
	}

	stranger.want(http.StatusUnprocessableEntity, "POST", "/api/v1/auth/password-reset/confirm",
		map[string]any{"token": token, "new_password": "short"})
	stranger.want(http.StatusNoContent, "POST", "/api/v1/auth/password-reset/confirm",
		map[string]any{"token": token, "new_password": "Yellow-River-Ferry-9"})
	p := stranger.want(http.StatusBadRequest, "POST", "/api/v1/auth/password-reset/confirm",
		map[string]any{"token": token, "new_password": "Another-Good-Pass-10"}).problem(t)
	if !strings.HasSuffix(p["type"].(string), "reset_link_invalid") {
		t.Fatalf("second use: %v", p)
	}
	owner.want(http.StatusUnauthorized, "GET", "/api/v1/me", nil)
	stranger.want(http.StatusUnauthorized, "POST", "/api/v1/auth/login", map[string]string{"name": "wang.xiulan", "password": "Helan-Mountain-Rock-7"})
	newClient(t, srv.URL).login("wang.xiulan", "Yellow-River-Ferry-9")

	for _, tt := range []struct {
		name string
		body string
		want int
	}{
		{"unknown token", `{"token":"made-up","new_password":"Yellow-River-Ferry-9"}`, http.StatusBadRequest},
		{"empty token", `{"token":"","new_password":"Yellow-River-Ferry-9"}`, http.StatusBadRequest},
		{"not JSON", `token=abc`, http.StatusBadRequest},
		{"unknown field", `{"token":"x","new_password":"y","name":"admin"}`, http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stranger.want(tt.want, "POST", "/api/v1/auth/password-reset/confirm", tt.body).problem(t)
		})
	}
	stranger.want(http.StatusUnprocessableEntity, "POST", "/api/v1/auth/password-reset", map[string]any{"name": ""}).problem(t)
}

// TestResetLinkEndsWithPasswordChange: a link made before the owner changed the password
// no longer works, even unused.
func TestResetLinkEndsWithPasswordChange(t *testing.T) {
	srv, relay := resetServer(t, nil)
	owner := newClient(t, srv.URL)
	owner.want(http.StatusCreated, "POST", "/api/v1/auth/register", map[string]any{"name": "ma.lin", "display_name": "马林",
		"email": "malin@example.org", "password": "Sand-Lake-Reeds-2026"})
	owner.login("ma.lin", "Sand-Lake-Reeds-2026")
	owner.want(http.StatusAccepted, "POST", "/api/v1/auth/password-reset", map[string]any{"name": "ma.lin"})
	token := mailedToken(t, relay, 1, "malin@example.org")
	owner.want(http.StatusNoContent, "POST", "/api/v1/me/password", map[string]any{"current_password": "Sand-Lake-Reeds-2026",
		"new_password": "Sand-Lake-Reeds-2027"})
	owner.want(http.StatusBadRequest, "POST", "/api/v1/auth/password-reset/confirm",
		map[string]any{"token": token, "new_password": "Someone-Else-Wants-In-1"}).problem(t)
	newClient(t, srv.URL).login("ma.lin", "Sand-Lake-Reeds-2027")
}

// TestResetLimits: one client may ask only so often (429 with Retry-After), and one mailbox
// gets at most reset_max_per_account mails however many clients ask.
func TestResetLimits(t *testing.T) {
	srv, relay := resetServer(t, func(c *config.Config) {
		c.Auth.ResetMaxPerIP, c.Auth.ResetMaxPerAccount = 4, 2
	})
	newClient(t, srv.URL).want(http.StatusCreated, "POST", "/api/v1/auth/register", map[string]any{"name": "li.hua",
		"display_name": "李华", "email": "lihua@example.org", "password": "Stone-Mouth-Hill-88"})
	c := newClient(t, srv.URL)
	for range 4 {
		c.want(http.StatusAccepted, "POST", "/api/v1/auth/password-reset", map[string]any{"name": "li.hua"})
	}
	r := c.want(http.StatusTooManyRequests, "POST", "/api/v1/auth/password-reset", map[string]any{"name": "li.hua"})
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	r.problem(t)
	mailedToken(t, relay, 2, "lihua@example.org")
	// Four accepted requests, two mails: the other two were within the account's limit.
	if n := len(relay.Messages()); n != 2 {
		t.Fatalf("%d mails, want 2", n)
	}
}
