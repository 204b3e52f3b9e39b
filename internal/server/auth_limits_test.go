package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/testenv"
)

// TestRegisterCountsEveryAttempt: refused registrations (a taken name, a bad password) count
// against the client's limit too, so that nobody can probe names or burn hashing for free.
func TestRegisterCountsEveryAttempt(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	cfg.Auth.RegisterMaxPerIP = 2
	srv := testenv.StartServer(t, cfg)
	c := newClient(t, srv.URL)
	c.want(http.StatusConflict, "POST", "/api/v1/auth/register",
		map[string]any{"name": testenv.AdminName, "display_name": "冒名", "password": "Sand-Lake-2026"})
	c.want(http.StatusUnprocessableEntity, "POST", "/api/v1/auth/register",
		map[string]any{"name": "citizen.x", "display_name": "市民", "password": "short"})
	r := c.want(http.StatusTooManyRequests, "POST", "/api/v1/auth/register",
		map[string]any{"name": "citizen.y", "display_name": "市民", "password": "Sand-Lake-2026"})
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	r.problem(t)
}

// TestLoginCountsEveryAttempt: successful sign-ins count against the client's limit as well,
// since each costs a password hash.
func TestLoginCountsEveryAttempt(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	cfg.Auth.LoginMaxPerIP = 2
	srv := testenv.StartServer(t, cfg)
	c := newClient(t, srv.URL)
	for range 2 {
		c.want(http.StatusOK, "POST", "/api/v1/auth/login", map[string]string{"name": testenv.AdminName, "password": testenv.AdminPassword})
	}
	c.want(http.StatusTooManyRequests, "POST", "/api/v1/auth/login",
		map[string]string{"name": testenv.AdminName, "password": testenv.AdminPassword}).problem(t)
}

// TestLockoutSparesTheOwner: strangers guessing a public account name from many addresses
// slow themselves down, reach the account's ceiling, and still cannot keep its owner out,
// who signs in from a browser that signed in before (the known-device cookie).
func TestLockoutSparesTheOwner(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	cfg.HTTP.TrustedProxies = "127.0.0.1/32"
	cfg.Auth.LoginFreePerClient = 2
	cfg.Auth.LoginDelayBase = time.Hour // so that the delay cannot pass during the test
	cfg.Auth.LoginMaxPerAccount = 6
	srv := testenv.StartServer(t, cfg)
	right := map[string]string{"name": testenv.AdminName, "password": testenv.AdminPassword}
	wrong := map[string]string{"name": testenv.AdminName, "password": "wrong-password-1"}
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip} }

	owner := newClient(t, srv.URL)
	owner.want(http.StatusOK, "POST", "/api/v1/auth/login", right, from("198.51.100.10")...)

	guesser := newClient(t, srv.URL)
	guesser.want(http.StatusUnauthorized, "POST", "/api/v1/auth/login", wrong, from("203.0.113.1")...)
	guesser.want(http.StatusUnauthorized, "POST", "/api/v1/auth/login", wrong, from("203.0.113.1")...)
	guesser.want(http.StatusUnauthorized, "POST", "/api/v1/auth/login", wrong, from("203.0.113.1")...)
	// The third failure from this address starts its delay: even the right password waits.
	r := guesser.want(http.StatusTooManyRequests, "POST", "/api/v1/auth/login", right, from("203.0.113.1")...)
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// Another address is not slowed by the first one's failures.
	stranger := newClient(t, srv.URL)
	stranger.want(http.StatusOK, "POST", "/api/v1/auth/login", right, from("198.51.100.20")...)
	// Three more failures from other addresses make six: the account's ceiling.
	for _, ip := range []string{"203.0.113.2", "203.0.113.2", "203.0.113.3"} {
		guesser.want(http.StatusUnauthorized, "POST", "/api/v1/auth/login", wrong, from(ip)...)
	}
	// The account's ceiling is reached: a browser it does not know waits...
	newcomer := newClient(t, srv.URL)
	newcomer.want(http.StatusTooManyRequests, "POST", "/api/v1/auth/login", right, from("198.51.100.30")...).problem(t)
	// ...but the owner's browser, from yet another address, gets in.
	owner.want(http.StatusOK, "POST", "/api/v1/auth/login", right, from("198.51.100.40")...)
}
