package server_test

import (
	"net/http"
	"testing"

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
