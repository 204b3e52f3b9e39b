// Package accounts owns who may use the product: citizens, librarians, lecturers and admins,
// their units, their passwords and their personal access tokens. Accounts are JSON documents
// in MinIO, one per account, keyed by the account name.
package accounts

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
)

// Role of an account.
type Role string

const (
	Citizen   Role = "citizen"
	Librarian Role = "librarian"
	Lecturer  Role = "lecturer"
	Admin     Role = "admin"
)

// Roles lists every role.
func Roles() []Role {
	return []Role{Citizen, Librarian, Lecturer, Admin}
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles() {
		if r == x {
			return true
		}
	}
	return false
}

// Staff reports whether the role works for a unit.
func (r Role) Staff() bool { return r == Librarian || r == Lecturer }

// Account is the stored record.
type Account struct {
	Name         string  `json:"name"`
	DisplayName  string  `json:"display_name"`
	Email        string  `json:"email,omitempty"`
	Role         Role    `json:"role"`
	Unit         string  `json:"unit,omitempty"`
	Disabled     bool    `json:"disabled,omitempty"`
	PasswordHash string  `json:"password_hash"`
	Tokens       []Token `json:"tokens,omitempty"`
	// SessionEpoch grows with every password change; a login session made under an older
	// epoch is no longer valid.
	SessionEpoch int       `json:"session_epoch,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	CreatedBy    string    `json:"created_by,omitempty"`
	UpdatedAt    time.Time `json:"updated_at"`
	// Version is the ETag the record was read with; writes must name it.
	Version string `json:"-"`
}

// Token is a personal access token; only a keyed hash of its secret is stored.
type Token struct {
	ID        string    `json:"id"`
	Label     string    `json:"label"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

var (
	// ErrNotFound: no such account.
	ErrNotFound = errors.New("account not found")
	// ErrExists: the name is taken.
	ErrExists = errors.New("account name taken")
	// ErrStale: the account changed since it was read.
	ErrStale = errors.New("account changed since it was read")
	// ErrBadCredentials: wrong name or password, or a disabled account.
	ErrBadCredentials = errors.New("wrong account name or password")
)

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9._-]{2,31}$`)

// NewAccount is the input for creating an account.
type NewAccount struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email"`
	Password    string `json:"password"`
	Role        Role   `json:"role"`
	Unit        string `json:"unit"`
}

// Normalize trims what people paste by accident.
func (n *NewAccount) Normalize() {
	n.Name = strings.ToLower(strings.TrimSpace(n.Name))
	n.DisplayName = strings.TrimSpace(n.DisplayName)
	n.Email = strings.TrimSpace(n.Email)
}

// Validate checks n against the unit tree.
func (n NewAccount) Validate(tree *units.Tree) error {
	var errs validate.Errors
	switch {
	case n.Name == "":
		errs.Add("name", "required")
	case !namePattern.MatchString(n.Name):
		errs.Add("name", "account_name")
	}
	errs.Text("display_name", n.DisplayName, true, 1, 40)
	errs.Email("email", n.Email)
	checkPassword(&errs, "password", n.Password, n.Name)
	if !n.Role.Valid() {
		errs.Add("role", "role")
	}
	checkUnit(&errs, n.Role, n.Unit, tree)
	return errs.Err()
}

func checkPassword(errs *validate.Errors, field, password, name string) {
	switch {
	case password == "":
		errs.Add(field, "required")
	case len([]rune(password)) < MinPasswordLen:
		errs.Add(field, "too_short", MinPasswordLen)
	case utf8.RuneCountInString(password) > maxPasswordLen:
		errs.Add(field, "too_long", maxPasswordLen)
	case IsCommonPassword(password):
		errs.Add(field, "common_password")
	case name != "" && strings.Contains(strings.ToLower(password), name):
		errs.Add(field, "password_name")
	}
}

func checkUnit(errs *validate.Errors, role Role, unit string, tree *units.Tree) {
	switch {
	case unit == "" && role.Staff():
		errs.Add("unit", "unit_required")
	case unit != "":
		if _, ok := tree.Get(unit); !ok {
			errs.Add("unit", "unit")
		}
	}
}

// Change is a partial update by an admin; nil fields stay as they are.
type Change struct {
	DisplayName *string `json:"display_name"`
	Email       *string `json:"email"`
	Role        *Role   `json:"role"`
	Unit        *string `json:"unit"`
	Disabled    *bool   `json:"disabled"`
	Password    *string `json:"password"`
}

// Apply returns a copy of a with c applied, validated against the tree.
func (c Change) Apply(a Account, tree *units.Tree) (Account, error) {
	var errs validate.Errors
	if c.DisplayName != nil {
		a.DisplayName = strings.TrimSpace(*c.DisplayName)
		errs.Text("display_name", a.DisplayName, true, 1, 40)
	}
	if c.Email != nil {
		a.Email = strings.TrimSpace(*c.Email)
		errs.Email("email", a.Email)
	}
	if c.Role != nil {
		a.Role = *c.Role
		if !a.Role.Valid() {
			errs.Add("role", "role")
		}
	}
	if c.Unit != nil {
		a.Unit = *c.Unit
	}
	if c.Disabled != nil {
		a.Disabled = *c.Disabled
	}
	if c.Password != nil {
		checkPassword(&errs, "password", *c.Password, a.Name)
	}
	checkUnit(&errs, a.Role, a.Unit, tree)
	return a, errs.Err()
}

// Store keeps accounts in the document store.
type Store struct {
	docs *docstore.Store
}

// NewStore wraps docs.
func NewStore(docs *docstore.Store) *Store { return &Store{docs: docs} }

// Prefix is where account documents live.
const Prefix = "records/accounts/"

func key(name string) string { return Prefix + name + ".json" }

// Get reads one account.
func (s *Store) Get(ctx context.Context, name string) (Account, error) {
	if !namePattern.MatchString(name) {
		return Account{}, ErrNotFound
	}
	var a Account
	etag, err := s.docs.Get(ctx, key(name), &a)
	if errors.Is(err, docstore.ErrNotFound) {
		return Account{}, ErrNotFound
	}
	if err != nil {
		return Account{}, err
	}
	a.Version = etag
	return a, nil
}

// Create stores a new account; the name must be free.
func (s *Store) Create(ctx context.Context, a Account) (Account, error) {
	etag, err := s.docs.Put(ctx, key(a.Name), a, docstore.Create())
	if errors.Is(err, docstore.ErrPrecondition) {
		return Account{}, ErrExists
	}
	if err != nil {
		return Account{}, err
	}
	a.Version = etag
	return a, nil
}

// Update replaces an account if nobody changed it since a.Version was read.
func (s *Store) Update(ctx context.Context, a Account) (Account, error) {
	if a.Version == "" {
		return Account{}, ErrStale
	}
	etag, err := s.docs.Put(ctx, key(a.Name), a, docstore.Match(a.Version))
	if errors.Is(err, docstore.ErrPrecondition) {
		return Account{}, ErrStale
	}
	if err != nil {
		return Account{}, err
	}
	a.Version = etag
	return a, nil
}

// Names lists every account name.
func (s *Store) Names(ctx context.Context) ([]string, error) {
	keys, err := s.docs.List(ctx, Prefix)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		name := strings.TrimSuffix(strings.TrimPrefix(k, Prefix), ".json")
		if namePattern.MatchString(name) {
			names = append(names, name)
		}
	}
	return names, nil
}
