package server

import (
	"errors"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/validate"
)

type loginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

func (r loginRequest) validate() error {
	var errs validate.Errors
	if strings.TrimSpace(r.Name) == "" {
		errs.Add("name", "required")
	} else if len(r.Name) > 64 {
		errs.Add("name", "too_long", 64)
	}
	if r.Password == "" {
		errs.Add("password", "required")
	} else if len(r.Password) > 256 {
		errs.Add("password", "too_long", 256)
	}
	return errs.Err()
}

// accountView is what the API shows of an account: never the hash or the tokens.
type accountView struct {
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name"`
	Email       string    `json:"email,omitempty"`
	Role        string    `json:"role"`
	Unit        string    `json:"unit,omitempty"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func viewOf(a accounts.Account) accountView {
	return accountView{Name: a.Name, DisplayName: a.DisplayName, Email: a.Email, Role: string(a.Role),
		Unit: a.Unit, Disabled: a.Disabled, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

type sessionView struct {
	Account   accountView `json:"account"`
	CSRFToken string      `json:"csrf_token,omitempty"`
}

// rateLimited answers 429 when key is blocked; it reports whether it did.
func (s *Server) rateLimited(c *gin.Context, key string, limit int) bool {
	blocked, wait, err := s.Limiter.Blocked(c.Request.Context(), key, limit)
	if err != nil {
		s.fail(c, err)
		return true
	}
	if blocked {
		s.tooMany(c, wait)
		return true
	}
	return false
}

// tooMany answers 429 with the wait in Retry-After.
func (s *Server) tooMany(c *gin.Context, wait time.Duration) {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	d := problem.New(lang(c), problem.RateLimited, secs)
	d.RetryAfter = secs
	s.abortWith(c, d)
}

func (s *Server) login(c *gin.Context) {
	if crossSite(c) {
		s.abort(c, problem.CSRF)
		return
	}
	var req loginRequest
	if !s.decode(c, &req) {
		return
	}
	if err := req.validate(); err != nil {
		s.fail(c, err)
		return
	}
	name := strings.ToLower(strings.TrimSpace(req.Name))
	ctx := c.Request.Context()
	// Account names are public, so a per-account lock alone would let anyone lock anyone
	// out. Failures slow down each client of an account (its address, or its known browser)
	// on their own; the much higher per-account ceiling stops only browsers the account
	// does not know.
	device, known := s.knownDevice(c, name)
	client := "ip:" + c.ClientIP()
	if known {
		client = "dev:" + device
	}
	ipKey, accountKey, pairKey := "login:ip:"+c.ClientIP(), "login:account:"+name, "login:pair:"+name+":"+client
	cfg := s.Config.Auth
	if s.rateLimited(c, ipKey, cfg.LoginMaxPerIP) || s.backedOff(c, pairKey) ||
		!known && s.rateLimited(c, accountKey, cfg.LoginMaxPerAccount) {
		return
	}
	// Every attempt costs a hash, so every attempt counts against the client.
	if err := s.Limiter.Hit(ctx, ipKey); err != nil {
		s.fail(c, err)
		return
	}
	a, err := s.Accounts.Authenticate(ctx, name, req.Password)
	if errors.Is(err, accounts.ErrBadCredentials) {
		if err := s.Backoff.Fail(ctx, pairKey); err != nil {
			s.fail(c, err)
			return
		}
		if !known {
			if err := s.Limiter.Hit(ctx, accountKey); err != nil {
				s.fail(c, err)
				return
			}
		}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Backoff.Reset(ctx, pairKey); err != nil {
		s.fail(c, err)
		return
	}
	s.setDeviceCookie(c, s.Devices.Issue(a.Name), int(cfg.DeviceTTL.Seconds()))
	s.startSession(c, a, http.StatusOK)
}

// backedOff answers 429 while key must wait after its failed logins; it reports whether it did.
func (s *Server) backedOff(c *gin.Context, key string) bool {
	wait, err := s.Backoff.Wait(c.Request.Context(), key)
	if err != nil {
		s.fail(c, err)
		return true
	}
	if wait <= 0 {
		return false
	}
	s.tooMany(c, wait)
	return true
}

func (s *Server) startSession(c *gin.Context, a accounts.Account, status int) {
	token, sess, err := s.Sessions.Create(c.Request.Context(), a.Name, a.SessionEpoch)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setSessionCookie(c, token, int(s.Config.Auth.SessionTTL.Seconds()))
	c.JSON(status, sessionView{Account: viewOf(a), CSRFToken: sess.CSRF})
}

func (s *Server) logout(c *gin.Context) {
	p := caller(c)
	if p.session != nil {
		if err := s.Sessions.Delete(c.Request.Context(), p.tokenRaw); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.setSessionCookie(c, "", -1)
	noContent(c)
}

type registerRequest struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email"`
	Password    string `json:"password"`
}

func (s *Server) register(c *gin.Context) {
	if crossSite(c) {
		s.abort(c, problem.CSRF)
		return
	}
	var req registerRequest
	if !s.decode(c, &req) {
		return
	}
	ipKey := "register:ip:" + c.ClientIP()
	if s.rateLimited(c, ipKey, s.Config.Auth.RegisterMaxPerIP) {
		return
	}
	// Refused attempts count too: they probe names and may cost a hash.
	if err := s.Limiter.Hit(c.Request.Context(), ipKey); err != nil {
		s.fail(c, err)
		return
	}
	c.Set(ctxConflictName, req.Name)
	a, err := s.Accounts.Register(c.Request.Context(), accounts.NewAccount{
		Name: req.Name, DisplayName: req.DisplayName, Email: req.Email, Password: req.Password,
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.startSession(c, a, http.StatusCreated)
}

func (s *Server) me(c *gin.Context) {
	p := caller(c)
	v := sessionView{Account: viewOf(p.account)}
	if p.session != nil {
		v.CSRFToken = p.session.CSRF
	}
	c.JSON(http.StatusOK, v)
}

type tokenView struct {
	ID        string    `json:"id"`
	Label     string    `json:"label"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) listTokens(c *gin.Context) {
	views := []tokenView{}
	now := time.Now()
	for _, t := range caller(c).account.Tokens {
		if now.Before(t.ExpiresAt) {
			views = append(views, tokenView{ID: t.ID, Label: t.Label, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt})
		}
	}
	c.JSON(http.StatusOK, gin.H{"tokens": views})
}

type tokenRequest struct {
	accounts.NewToken
	// Password confirms a request made with a bearer token: a leaked token must not be able
	// to mint tokens that outlive it.
	Password string `json:"password"`
}

func (s *Server) createToken(c *gin.Context) {
	var req tokenRequest
	if !s.decode(c, &req) {
		return
	}
	p := caller(c)
	if p.session == nil {
		if req.Password == "" {
			var errs validate.Errors
			errs.Add("password", "required")
			s.fail(c, errs)
			return
		}
		if _, err := s.Accounts.Authenticate(c.Request.Context(), p.account.Name, req.Password); err != nil {
			s.fail(c, err)
			return
		}
	}
	secret, t, err := s.Accounts.CreateToken(c.Request.Context(), p.account, req.NewToken)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, gin.H{"token": secret, "id": t.ID, "label": t.Label, "created_at": t.CreatedAt, "expires_at": t.ExpiresAt})
}

func (s *Server) revokeToken(c *gin.Context) {
	if err := s.Accounts.RevokeToken(c.Request.Context(), caller(c).account, c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	noContent(c)
}

type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword changes the caller's own password; every other session and every token of
// the account ends, the caller's own session stays.
func (s *Server) changePassword(c *gin.Context) {
	var req passwordChange
	if !s.decode(c, &req) {
		return
	}
	p := caller(c)
	ctx := c.Request.Context()
	// The current-password check is a guessing oracle for whoever holds a session: slow it
	// down like a login.
	key := "password:" + p.account.Name
	if s.backedOff(c, key) {
		return
	}
	a, err := s.Accounts.ChangePassword(ctx, p.account, req.CurrentPassword, req.NewPassword)
	if errors.Is(err, accounts.ErrBadCredentials) {
		if err := s.Backoff.Fail(ctx, key); err != nil {
			s.fail(c, err)
			return
		}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if !s.keepOwnSession(c, a) {
		return
	}
	noContent(c)
}

// keepOwnSession moves the caller's session, if any, to a's new epoch after the caller
// changed their own password; it answers the client itself on failure.
func (s *Server) keepOwnSession(c *gin.Context, a accounts.Account) bool {
	p := caller(c)
	if p.session == nil || p.account.Name != a.Name || p.session.Epoch == a.SessionEpoch {
		return true
	}
	if err := s.Sessions.SetEpoch(c.Request.Context(), p.tokenRaw, a.SessionEpoch); err != nil {
		s.fail(c, err)
		return false
	}
	return true
}
