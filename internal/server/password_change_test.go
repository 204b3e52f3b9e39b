package server_test

import (
	"net/http"
	"testing"

	"github.com/shizuishan/culturecloud/internal/testenv"
)

// TestPasswordChangeEndsOtherSessions: an admin's reset ends every session and token of the
// account; the owner's own change ends every other session and token but keeps the one it
// was made from; a bearer token cannot mint tokens without the password.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	srv := startServer(t)
	admin := newClient(t, srv.URL)
	admin.login(testenv.AdminName, testenv.AdminPassword)
	const name, first, second, third = "wang.pw", "Shahu-Lake-First-1", "Shahu-Lake-Second-2", "Shahu-Lake-Third-3"
	admin.want(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{
		"name": name, "display_name": "王", "password": first, "role": "citizen"})

	signIn := func(password string) *client {
		c := newClient(t, srv.URL)
		c.login(name, password)
		return c
	}
	mint := func(c *client, body map[string]any) reply {
		return c.do("POST", "/api/v1/me/tokens", body)
	}
	tokenOf := func(r reply) *client {
		var created struct {
			Token string `json:"token"`
		}
		r.json(t, &created)
		bot := newClient(t, srv.URL)
		bot.bearer = created.Token
		return bot
	}

	laptop, phone := signIn(first), signIn(first)
	r := mint(laptop, map[string]any{"label": "备份脚本", "expires_in_days": 30})
	if r.status != http.StatusCreated {
		t.Fatalf("mint with a session: %d %s", r.status, r.body)
	}
	bot := tokenOf(r)
	bot.want(http.StatusOK, "GET", "/api/v1/me", nil)

	// A bearer token alone cannot mint another token.
	if r := mint(bot, map[string]any{"label": "更多", "expires_in_days": 30}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bearer mint without password: %d %s, want 422", r.status, r.body)
	}
	if r := mint(bot, map[string]any{"label": "更多", "expires_in_days": 30, "password": "not-the-password-1"}); r.status != http.StatusUnauthorized {
		t.Fatalf("bearer mint with a wrong password: %d %s, want 401", r.status, r.body)
	}
	if r := mint(bot, map[string]any{"label": "更多", "expires_in_days": 30, "password": first}); r.status != http.StatusCreated {
		t.Fatalf("bearer mint with the password: %d %s, want 201", r.status, r.body)
	}

	admin.want(http.StatusOK, "PATCH", "/api/v1/accounts/"+name, map[string]any{"password": second})
	for who, c := range map[string]*client{"laptop": laptop, "phone": phone, "token": bot} {
		if r := c.do("GET", "/api/v1/me", nil); r.status != http.StatusUnauthorized {
			t.Errorf("%s after the admin's reset: %d, want 401", who, r.status)
		}
	}

	desk, tablet := signIn(second), signIn(second)
	bot = tokenOf(mint(desk, map[string]any{"label": "脚本", "expires_in_days": 30}))
	desk.want(http.StatusUnauthorized, "POST", "/api/v1/me/password",
		map[string]any{"current_password": "not-the-password-1", "new_password": third}).problem(t)
	desk.want(http.StatusNoContent, "POST", "/api/v1/me/password",
		map[string]any{"current_password": second, "new_password": third})
	desk.want(http.StatusOK, "GET", "/api/v1/me", nil)
	for who, c := range map[string]*client{"tablet": tablet, "token": bot} {
		if r := c.do("GET", "/api/v1/me", nil); r.status != http.StatusUnauthorized {
			t.Errorf("%s after the owner's change: %d, want 401", who, r.status)
		}
	}
	signIn(third)
}
