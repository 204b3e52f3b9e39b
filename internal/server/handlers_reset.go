package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/mail"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/sessions"
	"github.com/shizuishan/culturecloud/internal/validate"
)

type resetRequest struct {
	Name string `json:"name"`
}

// requestReset sends a reset link to the e-mail of the named account. The answer is the same
// whether the account exists, has an e-mail or was mailed already, and comes before the mail
// is sent, so that neither its words nor its time tell a stranger which accounts exist.
func (s *Server) requestReset(c *gin.Context) {
	if crossSite(c) {
		s.abort(c, problem.CSRF)
		return
	}
	var req resetRequest
	if !s.decode(c, &req) {
		return
	}
	name := strings.ToLower(strings.TrimSpace(req.Name))
	var errs validate.Errors
	errs.Text("name", name, true, 1, 64)
	if err := errs.Err(); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	cfg := s.Config.Auth
	if !s.takeLimits(c, sessions.Limit{Key: "reset:ip:" + c.ClientIP(), Max: cfg.ResetMaxPerIP},
		sessions.Limit{Key: "reset:all", Max: cfg.ResetMaxGlobal}) {
		return
	}
	a, err := s.Accounts.Store().Get(ctx, name)
	switch {
	case errors.Is(err, accounts.ErrNotFound):
	case err != nil:
		s.fail(c, err)
		return
	case a.Disabled || a.Email == "":
	default:
		// An account's mailbox is not flooded, whoever asks and from however many addresses.
		blocked, _, err := s.Limiter.Take(ctx, sessions.Limit{Key: "reset:account:" + a.Name, Max: cfg.ResetMaxPerAccount})
		if err != nil {
			s.fail(c, err)
			return
		}
		if blocked {
			break
		}
		secret, err := s.Resets.Issue(ctx, a.Name, a.SessionEpoch)
		if err != nil {
			s.fail(c, err)
			return
		}
		l := lang(c)
		link := s.publicBase(c) + "/password-reset/new#token=" + secret
		msg := mail.Message{To: a.Email, Subject: i18n.T(l, "mail.reset.subject"),
			Body: i18n.T(l, "mail.reset.body", a.DisplayName, a.Name, int(s.Resets.TTL().Minutes()), link)}
		go s.sendMail(context.WithoutCancel(ctx), msg, a.Name)
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "accepted"})
}

// sendMail delivers msg in the background; a relay that is down only shows in the log, since
// the visitor was answered already.
func (s *Server) sendMail(ctx context.Context, msg mail.Message, account string) {
	ctx, cancel := context.WithTimeout(ctx, s.Config.Mail.Timeout+5*time.Second)
	defer cancel()
	if err := s.Mail.Send(ctx, msg); err != nil {
		s.log.ErrorContext(ctx, "password reset mail not sent", "account", account, "err", err)
	}
}

// takeLimits counts one event against each limit and answers 429 with Retry-After when one
// is over; it reports whether the request may go on.
func (s *Server) takeLimits(c *gin.Context, limits ...sessions.Limit) bool {
	blocked, wait, err := s.Limiter.Take(c.Request.Context(), limits...)
	if err != nil {
		s.fail(c, err)
		return false
	}
	if blocked {
		s.tooMany(c, wait)
		return false
	}
	return true
}

type resetConfirm struct {
	Token       string `json:"token"`
	NewPassword string `json:"new_password"`
}

// confirmReset sets the new password named by a reset link. A weak password is refused
// without using the link up; once the password is set, the link and every session end.
func (s *Server) confirmReset(c *gin.Context) {
	if crossSite(c) {
		s.abort(c, problem.CSRF)
		return
	}
	var req resetConfirm
	if !s.decode(c, &req) {
		return
	}
	if !s.takeLimits(c, sessions.Limit{Key: "reset:confirm:ip:" + c.ClientIP(), Max: s.Config.Auth.LoginMaxPerIP}) {
		return
	}
	ctx := c.Request.Context()
	invalid := func() { s.abort(c, problem.ResetLinkInvalid, int(s.Resets.TTL().Minutes())) }
	name, epoch, err := s.Resets.Find(ctx, req.Token)
	if errors.Is(err, sessions.ErrResetInvalid) {
		invalid()
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if _, err := s.Accounts.ResetPassword(ctx, name, epoch, req.NewPassword); errors.Is(err, accounts.ErrBadCredentials) {
		invalid()
		return
	} else if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Resets.Forget(ctx, req.Token); err != nil {
		// The account's new epoch already makes the link worthless.
		s.log.WarnContext(ctx, "used reset link not removed", "err", err)
	}
	noContent(c)
}
