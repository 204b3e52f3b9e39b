package accounts

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
)

// ErrForbidden means the actor's role or unit does not allow the action.
var ErrForbidden = errors.New("not allowed")

// Notifier hears about every account written, so that the search index can follow.
type Notifier interface {
	AccountChanged(ctx context.Context, name string)
}

// UnitSource gives the current organisation tree.
type UnitSource interface {
	LoadUnits(ctx context.Context) (units.Tree, string, error)
}

// Service is what handlers call: it validates, checks rights and writes.
type Service struct {
	store    *Store
	units    UnitSource
	hasher   Hasher
	tokenKey []byte
	notify   Notifier
	now      func() time.Time
	// dummyHash makes a login for an unknown name cost as much as one for a known name.
	dummyHash string
}

// NewService wires a Service. tokenKey keys the hashes of access tokens.
func NewService(store *Store, unitSource UnitSource, hasher Hasher, tokenKey []byte, notify Notifier) (*Service, error) {
	dummy, err := hasher.Hash("not-a-real-password")
	if err != nil {
		return nil, err
	}
	return &Service{store: store, units: unitSource, hasher: hasher, tokenKey: tokenKey, notify: notify,
		now: time.Now, dummyHash: dummy}, nil
}

// Store exposes the store for reads.
func (s *Service) Store() *Store { return s.store }

// Register creates a citizen account for a visitor.
func (s *Service) Register(ctx context.Context, in NewAccount) (Account, error) {
	in.Normalize()
	in.Role, in.Unit = Citizen, ""
	return s.create(ctx, in, "")
}

// Create makes any account; only admins may.
func (s *Service) Create(ctx context.Context, actor Account, in NewAccount) (Account, error) {
	if actor.Role != Admin {
		return Account{}, ErrForbidden
	}
	in.Normalize()
	return s.create(ctx, in, actor.Name)
}

func (s *Service) create(ctx context.Context, in NewAccount, by string) (Account, error) {
	tree, _, err := s.units.LoadUnits(ctx)
	if err != nil {
		return Account{}, err
	}
	if err := in.Validate(&tree); err != nil {
		return Account{}, err
	}
	// A taken name is answered before the costly hash; Create below still settles a race.
	switch _, err := s.store.Get(ctx, in.Name); {
	case err == nil:
		return Account{}, ErrExists
	case !errors.Is(err, ErrNotFound):
		return Account{}, err
	}
	hash, err := s.hash(ctx, in.Password)
	if err != nil {
		return Account{}, err
	}
	now := s.now().UTC()
	a, err := s.store.Create(ctx, Account{
		Name: in.Name, DisplayName: in.DisplayName, Email: in.Email, Role: in.Role, Unit: in.Unit,
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now, CreatedBy: by,
	})
	if err != nil {
		return Account{}, err
	}
	s.notify.AccountChanged(ctx, a.Name)
	return a, nil
}

// Update applies an admin's change to the account, if it still has version ifMatch.
func (s *Service) Update(ctx context.Context, actor Account, name, ifMatch string, c Change) (Account, error) {
	if actor.Role != Admin {
		return Account{}, ErrForbidden
	}
	a, err := s.store.Get(ctx, name)
	if err != nil {
		return Account{}, err
	}
	if ifMatch != "" && strings.Trim(ifMatch, `"`) != strings.Trim(a.Version, `"`) {
		return Account{}, ErrStale
	}
	if name == actor.Name && (c.Role != nil && *c.Role != Admin || c.Disabled != nil && *c.Disabled) {
		// An admin who demotes or disables themselves could lock everyone out.
		var errs validate.Errors
		errs.Add("role", "self_demote")
		return Account{}, errs
	}
	tree, _, err := s.units.LoadUnits(ctx)
	if err != nil {
		return Account{}, err
	}
	updated, err := c.Apply(a, &tree)
	if err != nil {
		return Account{}, err
	}
	if c.Password != nil {
		if updated.PasswordHash, err = s.hash(ctx, *c.Password); err != nil {
			return Account{}, err
		}
		signOutEverywhere(&updated)
	}
	updated.UpdatedAt = s.now().UTC()
	if updated, err = s.store.Update(ctx, updated); err != nil {
		return Account{}, err
	}
	s.notify.AccountChanged(ctx, name)
	return updated, nil
}

// Authenticate checks a name and password. Unknown names, wrong passwords and disabled
// accounts look the same to the caller.
func (s *Service) Authenticate(ctx context.Context, name, password string) (Account, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	a, err := s.store.Get(ctx, name)
	if errors.Is(err, ErrNotFound) {
		if _, err := s.verify(ctx, s.dummyHash, password); errors.Is(err, ErrBusy) {
			return Account{}, err
		}
		return Account{}, ErrBadCredentials
	}
	if err != nil {
		return Account{}, err
	}
	ok, err := s.verify(ctx, a.PasswordHash, password)
	if errors.Is(err, ErrBusy) {
		return Account{}, err
	}
	if err != nil {
		return Account{}, fmt.Errorf("account %s: %w", name, err)
	}
	if !ok || a.Disabled {
		return Account{}, ErrBadCredentials
	}
	return a, nil
}

// signOutEverywhere ends every session and token of a after its password changed: whoever
// knew the old password may have made them.
func signOutEverywhere(a *Account) {
	a.SessionEpoch++
	a.Tokens = nil
}

// ChangePassword changes the actor's own password after checking the current one; every
// session and token of the account ends (the caller may keep its own session by moving it
// to the returned account's SessionEpoch).
func (s *Service) ChangePassword(ctx context.Context, actor Account, current, next string) (Account, error) {
	if _, err := s.Authenticate(ctx, actor.Name, current); err != nil {
		return Account{}, err
	}
	a, err := s.store.Get(ctx, actor.Name)
	if err != nil {
		return Account{}, err
	}
	return s.setPassword(ctx, a, next)
}

// ResetPassword sets a new password for the account name after it proved, by a reset link,
// that it reads the account's e-mail. epoch is the account's SessionEpoch when the link was
// made: a password changed since then makes the link worthless. Every session and token ends.
func (s *Service) ResetPassword(ctx context.Context, name string, epoch int, next string) (Account, error) {
	a, err := s.store.Get(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return Account{}, ErrBadCredentials
	}
	if err != nil {
		return Account{}, err
	}
	if a.Disabled || a.SessionEpoch != epoch {
		return Account{}, ErrBadCredentials
	}
	return s.setPassword(ctx, a, next)
}

// setPassword checks and stores a new password for a, and ends every session and token.
func (s *Service) setPassword(ctx context.Context, a Account, next string) (Account, error) {
	var errs validate.Errors
	checkPassword(&errs, "new_password", next, a.Name)
	if err := errs.Err(); err != nil {
		return Account{}, err
	}
	var err error
	if a.PasswordHash, err = s.hash(ctx, next); err != nil {
		return Account{}, err
	}
	signOutEverywhere(&a)
	a.UpdatedAt = s.now().UTC()
	if a, err = s.store.Update(ctx, a); err != nil {
		return Account{}, err
	}
	s.notify.AccountChanged(ctx, a.Name)
	return a, nil
}

// hash and verify run inside the hasher's gate, so that the server's hashing memory stays
// within its budget however many sign-ins arrive at once.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	release, err := s.hasher.Gate.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return s.hasher.Hash(password)
}

func (s *Service) verify(ctx context.Context, encoded, password string) (bool, error) {
	release, err := s.hasher.Gate.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return Verify(encoded, password)
}

// HashRetryAfter is how many seconds a caller turned away with ErrBusy should wait.
func (s *Service) HashRetryAfter() int { return s.hasher.Gate.RetryAfter() }

// EnsureAdmin creates the first administrator when no account of that name exists.
func (s *Service) EnsureAdmin(ctx context.Context, name, password, displayName string) (created bool, err error) {
	_, err = s.create(ctx, NewAccount{Name: name, DisplayName: displayName, Password: password, Role: Admin}, "bootstrap")
	if errors.Is(err, ErrExists) {
		return false, nil
	}
	return err == nil, err
}

// TokenPrefix starts every personal access token, so that leaked tokens are easy to spot.
const TokenPrefix = "cct_"

const (
	maxTokens     = 20
	tokenIDBytes  = 6
	tokenSecBytes = 24
)

// NewToken is the input for creating a token.
type NewToken struct {
	Label         string `json:"label"`
	ExpiresInDays int    `json:"expires_in_days"`
}

// CreateToken makes a personal access token for the actor's own account. The secret is
// returned once and never stored.
func (s *Service) CreateToken(ctx context.Context, actor Account, in NewToken) (string, Token, error) {
	var errs validate.Errors
	in.Label = strings.TrimSpace(in.Label)
	errs.Text("label", in.Label, true, 1, 60)
	if in.ExpiresInDays < 1 || in.ExpiresInDays > 365 {
		errs.Add("expires_in_days", "expiry")
	}
	if err := errs.Err(); err != nil {
		return "", Token{}, err
	}
	a, err := s.store.Get(ctx, actor.Name)
	if err != nil {
		return "", Token{}, err
	}
	a.Tokens = s.liveTokens(a.Tokens)
	if len(a.Tokens) >= maxTokens {
		errs.Add("label", "too_many_tokens", maxTokens)
		return "", Token{}, errs
	}
	id, secret := randomHex(tokenIDBytes), randomHex(tokenSecBytes)
	now := s.now().UTC()
	t := Token{ID: id, Label: in.Label, Hash: s.tokenHash(secret), CreatedAt: now,
		ExpiresAt: now.Add(time.Duration(in.ExpiresInDays) * 24 * time.Hour)}
	a.Tokens = append(a.Tokens, t)
	if _, err := s.store.Update(ctx, a); err != nil {
		return "", Token{}, err
	}
	return TokenPrefix + a.Name + "~" + id + "~" + secret, t, nil
}

// RevokeToken deletes one of the actor's tokens.
func (s *Service) RevokeToken(ctx context.Context, actor Account, id string) error {
	a, err := s.store.Get(ctx, actor.Name)
	if err != nil {
		return err
	}
	kept := a.Tokens[:0]
	found := false
	for _, t := range a.Tokens {
		if t.ID == id {
			found = true
			continue
		}
		kept = append(kept, t)
	}
	if !found {
		return ErrNotFound
	}
	a.Tokens = kept
	_, err = s.store.Update(ctx, a)
	return err
}

// ResolveToken returns the account a bearer token belongs to.
func (s *Service) ResolveToken(ctx context.Context, token string) (Account, error) {
	rest, ok := strings.CutPrefix(token, TokenPrefix)
	parts := strings.Split(rest, "~")
	if !ok || len(parts) != 3 {
		return Account{}, ErrBadCredentials
	}
	a, err := s.store.Get(ctx, parts[0])
	if errors.Is(err, ErrNotFound) {
		return Account{}, ErrBadCredentials
	}
	if err != nil {
		return Account{}, err
	}
	want := s.tokenHash(parts[2])
	for _, t := range a.Tokens {
		if t.ID == parts[1] && hmac.Equal([]byte(t.Hash), []byte(want)) && s.now().Before(t.ExpiresAt) && !a.Disabled {
			return a, nil
		}
	}
	return Account{}, ErrBadCredentials
}

func (s *Service) liveTokens(ts []Token) []Token {
	now := s.now()
	out := ts[:0]
	for _, t := range ts {
		if now.Before(t.ExpiresAt) {
			out = append(out, t)
		}
	}
	return out
}

func (s *Service) tokenHash(secret string) string {
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte(secret))
	return hex.EncodeToString(m.Sum(nil))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return hex.EncodeToString(b)
}

// CanSee reports whether actor may read account a: admins all, staff the accounts of their
// unit and below, everyone themselves.
func CanSee(actor, a Account, tree *units.Tree) bool {
	switch {
	case actor.Name == a.Name, actor.Role == Admin:
		return true
	case actor.Role.Staff() && a.Unit != "":
		return tree.Within(actor.Unit, a.Unit)
	}
	return false
}
