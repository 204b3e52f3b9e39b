package accounts_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/configs"
	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/units"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// recorder is a Notifier that remembers the names it heard. It stands in for the outbox,
// which has its own tests against Redis; the storage here is real MinIO.
type recorder struct {
	mu    sync.Mutex
	names []string
}

func (r *recorder) AccountChanged(_ context.Context, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.names = append(r.names, name)
}

func (r *recorder) heard() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.names)
}

type fixture struct {
	svc   *accounts.Service
	store *accounts.Store
	docs  *docstore.Store
	heard *recorder
	units accounts.UnitSource
	admin accounts.Account
}

const (
	adminPassword = "Admin-Pass-2024!"
	goodPassword  = "Helan-Shan-2024!"
)

// newFixture builds a Service on a fresh bucket of the shared MinIO, with the seed unit tree
// and one admin, "root.admin".
func newFixture(t *testing.T) *fixture {
	t.Helper()
	stack := testenv.Shared(t)
	cfg := testenv.Config(t, stack)
	docs, err := docstore.Connect(docstore.Options{
		Endpoint: cfg.MinIO.Endpoint, AccessKey: cfg.MinIO.AccessKey, SecretKey: cfg.MinIO.SecretKey.Reveal(),
		Bucket: cfg.MinIO.Bucket, UseTLS: cfg.MinIO.UseTLS, Timeout: cfg.MinIO.Timeout,
	})
	if err != nil {
		t.Fatalf("docstore.Connect: %v", err)
	}
	ctx := t.Context()
	testenv.SetupDocs(t, docs)
	tree, err := units.ParseSeed(configs.Units)
	if err != nil {
		t.Fatalf("ParseSeed: %v", err)
	}
	unitStore := units.NewDocStore(docs)
	if _, err := unitStore.Seed(ctx, tree); err != nil {
		t.Fatalf("Seed units: %v", err)
	}
	rec := &recorder{}
	store := accounts.NewStore(docs)
	svc, err := accounts.NewService(store, unitStore, fastHasher, []byte(cfg.Auth.SessionSecret.Reveal()), rec)
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	created, err := svc.EnsureAdmin(ctx, "root.admin", adminPassword, "系统管理员")
	if err != nil || !created {
		t.Fatalf("EnsureAdmin = %v, %v; want true, nil", created, err)
	}
	admin, err := store.Get(ctx, "root.admin")
	if err != nil {
		t.Fatalf("Get admin: %v", err)
	}
	return &fixture{svc: svc, store: store, docs: docs, heard: rec, units: unitStore, admin: admin}
}

// expectHeard checks that the notifier heard exactly want since it had n names.
func (f *fixture) expectHeard(t *testing.T, n int, want ...string) {
	t.Helper()
	got := f.heard.heard()
	if len(got) < n || !slices.Equal(got[n:], want) {
		t.Errorf("notifier heard %v after the first %d, want %v", got[min(n, len(got)):], n, want)
	}
}

func (f *fixture) register(t *testing.T, name string) accounts.Account {
	t.Helper()
	a, err := f.svc.Register(t.Context(), accounts.NewAccount{Name: name, DisplayName: "市民" + name, Password: goodPassword})
	if err != nil {
		t.Fatalf("Register(%s): %v", name, err)
	}
	return a
}

func (f *fixture) createStaff(t *testing.T, name string, role accounts.Role, unit string) accounts.Account {
	t.Helper()
	a, err := f.svc.Create(t.Context(), f.admin, accounts.NewAccount{
		Name: name, DisplayName: "员工" + name, Password: goodPassword, Role: role, Unit: unit,
	})
	if err != nil {
		t.Fatalf("Create(%s): %v", name, err)
	}
	return a
}

func TestEnsureAdmin(t *testing.T) {
	f := newFixture(t)
	if f.admin.Role != accounts.Admin || f.admin.CreatedBy != "bootstrap" || f.admin.DisplayName != "系统管理员" {
		t.Errorf("bootstrap admin = %+v, want role admin created by bootstrap", f.admin)
	}
	f.expectHeard(t, 0, "root.admin")
	created, err := f.svc.EnsureAdmin(t.Context(), "root.admin", "Another-Pass-2024", "Other")
	if err != nil || created {
		t.Fatalf("second EnsureAdmin = %v, %v; want false, nil", created, err)
	}
	// The existing admin keeps the first password.
	if _, err := f.svc.Authenticate(t.Context(), "root.admin", adminPassword); err != nil {
		t.Errorf("admin password changed by the second EnsureAdmin: %v", err)
	}
}

func TestRegister(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	n := len(f.heard.heard())

	a, err := f.svc.Register(ctx, accounts.NewAccount{
		Name: "  Zhang.San ", DisplayName: " 张三 ", Email: "zs@example.cn", Password: goodPassword,
		Role: accounts.Admin, Unit: "szs",
	})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if a.Name != "zhang.san" || a.DisplayName != "张三" || a.Role != accounts.Citizen || a.Unit != "" || a.CreatedBy != "" {
		t.Errorf("Register = %+v; want a citizen zhang.san/张三 without unit or creator, whatever role was asked", a)
	}
	if a.Version == "" || a.CreatedAt.IsZero() || a.CreatedAt.Location() != time.UTC {
		t.Errorf("Register = version %q, created %v; want a version and a UTC time", a.Version, a.CreatedAt)
	}
	stored, err := f.store.Get(ctx, "zhang.san")
	if err != nil {
		t.Fatalf("Get after Register: %v", err)
	}
	if stored.Role != accounts.Citizen || stored.Version != a.Version || !strings.HasPrefix(stored.PasswordHash, "$argon2id$") {
		t.Errorf("stored = %+v; want a citizen with the returned version and an argon2id hash", stored)
	}
	f.expectHeard(t, n, "zhang.san")

	t.Run("duplicate", func(t *testing.T) {
		n := len(f.heard.heard())
		_, err := f.svc.Register(ctx, accounts.NewAccount{Name: "ZHANG.SAN", DisplayName: "另一个", Password: "Other-Pass-2024"})
		if !errors.Is(err, accounts.ErrExists) {
			t.Fatalf("Register of a taken name: err = %v, want ErrExists", err)
		}
		if again, _ := f.store.Get(ctx, "zhang.san"); again.DisplayName != "张三" {
			t.Errorf("the duplicate overwrote the account: %+v", again)
		}
		f.expectHeard(t, n)
	})

	t.Run("invalid", func(t *testing.T) {
		n := len(f.heard.heard())
		_, err := f.svc.Register(ctx, accounts.NewAccount{Name: "wu", DisplayName: "吴", Password: "1234567890"})
		if got := problems(t, err); !slices.Equal(got, []string{"name:account_name", "password:common_password"}) {
			t.Fatalf("Register of invalid input: problems %v", got)
		}
		f.expectHeard(t, n)
	})
}

func TestCreate(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	lib := f.createStaff(t, "dwk.lib", accounts.Librarian, "dwk-library")
	if lib.Role != accounts.Librarian || lib.Unit != "dwk-library" || lib.CreatedBy != "root.admin" {
		t.Errorf("Create = %+v; want librarian of dwk-library created by root.admin", lib)
	}
	citizen := f.register(t, "zhang.san")

	in := accounts.NewAccount{Name: "new.staff", DisplayName: "新员工", Password: goodPassword, Role: accounts.Lecturer, Unit: "hn"}
	for _, actor := range []accounts.Account{lib, citizen, {Name: "nobody"}, {Name: "x", Role: "Admin"}} {
		t.Run("forbidden for "+string(actor.Role), func(t *testing.T) {
			n := len(f.heard.heard())
			if _, err := f.svc.Create(ctx, actor, in); !errors.Is(err, accounts.ErrForbidden) {
				t.Fatalf("Create by %s (%q): err = %v, want ErrForbidden", actor.Name, actor.Role, err)
			}
			if _, err := f.store.Get(ctx, in.Name); !errors.Is(err, accounts.ErrNotFound) {
				t.Errorf("a forbidden Create stored the account (Get err = %v)", err)
			}
			f.expectHeard(t, n)
		})
	}

	t.Run("duplicate", func(t *testing.T) {
		n := len(f.heard.heard())
		dup := in
		dup.Name = "dwk.lib"
		if _, err := f.svc.Create(ctx, f.admin, dup); !errors.Is(err, accounts.ErrExists) {
			t.Fatalf("Create of a taken name: err = %v, want ErrExists", err)
		}
		f.expectHeard(t, n)
	})

	t.Run("staff without unit", func(t *testing.T) {
		bad := in
		bad.Unit = ""
		if got := problems(t, func() error { _, err := f.svc.Create(ctx, f.admin, bad); return err }()); !slices.Equal(got, []string{"unit:unit_required"}) {
			t.Fatalf("Create of staff without unit: problems %v, want [unit:unit_required]", got)
		}
	})

	names, err := f.store.Names(ctx)
	if err != nil {
		t.Fatalf("Names: %v", err)
	}
	if want := []string{"dwk.lib", "root.admin", "zhang.san"}; !slices.Equal(names, want) {
		t.Errorf("Names = %v, want %v", names, want)
	}
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.register(t, "zhang.san")
	f.register(t, "li.si")
	li, err := f.store.Get(ctx, "li.si")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Update(ctx, f.admin, "li.si", li.Version, accounts.Change{Disabled: ptr(true)}); err != nil {
		t.Fatalf("disable li.si: %v", err)
	}
	tests := []struct {
		name, account, password string
		wantErr                 error
	}{
		{"right password", "zhang.san", goodPassword, nil},
		{"name with spaces and capitals", "  Zhang.San ", goodPassword, nil},
		{"wrong password", "zhang.san", goodPassword + "x", accounts.ErrBadCredentials},
		{"password in other case", "zhang.san", strings.ToUpper(goodPassword), accounts.ErrBadCredentials},
		{"empty password", "zhang.san", "", accounts.ErrBadCredentials},
		{"unknown account", "wang.wu", goodPassword, accounts.ErrBadCredentials},
		{"invalid name", "../root.admin", adminPassword, accounts.ErrBadCredentials},
		{"empty name", "", goodPassword, accounts.ErrBadCredentials},
		{"disabled account, right password", "li.si", goodPassword, accounts.ErrBadCredentials},
		{"admin", "root.admin", adminPassword, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := f.svc.Authenticate(ctx, tc.account, tc.password)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("Authenticate(%q, %q): err = %v, want %v", tc.account, tc.password, err, tc.wantErr)
			}
			if tc.wantErr == nil && a.Name != strings.ToLower(strings.TrimSpace(tc.account)) {
				t.Errorf("Authenticate(%q) returned account %q", tc.account, a.Name)
			}
			if tc.wantErr != nil && a.Name != "" {
				t.Errorf("Authenticate(%q) failed but returned account %+v", tc.account, a)
			}
		})
	}
}

// TestTokens follows a personal API token from its creation through use, tampering, expiry
// and revocation to its owner's account being disabled: steps that build on each other.
func TestTokens(t *testing.T) {
	s := &tokenScenario{f: newFixture(t)}
	s.zs = s.f.register(t, "zhang.san")
	s.other = s.f.register(t, "li.si")
	for _, step := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"invalid input", s.invalidInput},
		{"create", s.create},
		{"secret is not stored", s.secretNotStored},
		{"resolve", s.resolve},
		{"tampered", s.tampered},
		{"expired", s.expired},
		{"revoked", s.revoked},
		{"disabled account", s.disabledAccount},
	} {
		if !t.Run(step.name, step.run) {
			t.FailNow()
		}
	}
}

// tokenScenario is what the steps of TestTokens share: two citizens, zhang.san's first token
// and li.si's.
type tokenScenario struct {
	f                   *fixture
	zs, other           accounts.Account
	secret, otherSecret string
	tok                 accounts.Token
}

// invalidInput: a token needs a label and a life of 1 to 365 days.
func (sc *tokenScenario) invalidInput(t *testing.T) {
	f, ctx, zs := sc.f, t.Context(), sc.zs
	tests := []struct {
		in   accounts.NewToken
		want []string
	}{
		{accounts.NewToken{Label: "", ExpiresInDays: 30}, []string{"label:required"}},
		{accounts.NewToken{Label: "   ", ExpiresInDays: 30}, []string{"label:required"}},
		{accounts.NewToken{Label: strings.Repeat("x", 61), ExpiresInDays: 30}, []string{"label:too_long"}},
		{accounts.NewToken{Label: "ok", ExpiresInDays: 0}, []string{"expires_in_days:expiry"}},
		{accounts.NewToken{Label: "ok", ExpiresInDays: 366}, []string{"expires_in_days:expiry"}},
		{accounts.NewToken{Label: "ok", ExpiresInDays: -1}, []string{"expires_in_days:expiry"}},
	}
	for _, tc := range tests {
		_, _, err := f.svc.CreateToken(ctx, zs, tc.in)
		if got := problems(t, err); !slices.Equal(got, tc.want) {
			t.Errorf("CreateToken(%+v) problems %v, want %v", tc.in, got, tc.want)
		}
	}
}

// create: zhang.san's token names its account and id, keeps a trimmed label and lives the
// days asked; li.si gets one too.
func (sc *tokenScenario) create(t *testing.T) {
	f, ctx, zs, other := sc.f, t.Context(), sc.zs, sc.other
	var err error
	sc.secret, sc.tok, err = f.svc.CreateToken(ctx, zs, accounts.NewToken{Label: " 数据导出脚本 ", ExpiresInDays: 30})
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	secret, tok := sc.secret, sc.tok
	if !strings.HasPrefix(secret, accounts.TokenPrefix+"zhang.san~"+tok.ID+"~") {
		t.Errorf("token %q does not start with %q", secret, accounts.TokenPrefix+"zhang.san~"+tok.ID+"~")
	}
	if tok.Label != "数据导出脚本" {
		t.Errorf("token label %q, want it trimmed", tok.Label)
	}
	if got := tok.ExpiresAt.Sub(tok.CreatedAt); got != 30*24*time.Hour {
		t.Errorf("token lives %v, want %v", got, 30*24*time.Hour)
	}
	if time.Since(tok.CreatedAt) > time.Hour || time.Until(tok.CreatedAt) > time.Hour {
		t.Errorf("token created at %v, far from now", tok.CreatedAt)
	}

	sc.otherSecret, _, err = f.svc.CreateToken(ctx, other, accounts.NewToken{Label: "li", ExpiresInDays: 1})
	if err != nil {
		t.Fatalf("CreateToken for li.si: %v", err)
	}
}

// secretNotStored: the account keeps the token's hash, never its secret.
func (sc *tokenScenario) secretNotStored(t *testing.T) {
	f, ctx, secret, tok := sc.f, t.Context(), sc.secret, sc.tok
	var raw json.RawMessage
	if _, err := f.docs.Get(ctx, accounts.Prefix+"zhang.san.json", &raw); err != nil {
		t.Fatalf("read raw account: %v", err)
	}
	sec := secret[strings.LastIndex(secret, "~")+1:]
	if strings.Contains(string(raw), sec) {
		t.Errorf("the stored account holds the token secret: %s", raw)
	}
	if !strings.Contains(string(raw), tok.Hash) || tok.Hash == "" {
		t.Errorf("the stored account lacks the token hash %q: %s", tok.Hash, raw)
	}
}

// resolve: the secret stands for its account.
func (sc *tokenScenario) resolve(t *testing.T) {
	f, ctx, secret := sc.f, t.Context(), sc.secret
	a, err := f.svc.ResolveToken(ctx, secret)
	if err != nil || a.Name != "zhang.san" {
		t.Fatalf("ResolveToken = %s, %v; want zhang.san", a.Name, err)
	}
}

// tampered: any change to a token, or a token moved to another account, is refused.
func (sc *tokenScenario) tampered(t *testing.T) {
	f, ctx, secret, otherSecret := sc.f, t.Context(), sc.secret, sc.otherSecret
	parts := strings.Split(strings.TrimPrefix(secret, accounts.TokenPrefix), "~")
	otherParts := strings.Split(strings.TrimPrefix(otherSecret, accounts.TokenPrefix), "~")
	flip := func(s string) string {
		last := s[len(s)-1]
		if last == '0' {
			return s[:len(s)-1] + "1"
		}
		return s[:len(s)-1] + "0"
	}
	tests := []struct{ name, token string }{
		{"empty", ""},
		{"prefix only", accounts.TokenPrefix},
		{"no prefix", strings.TrimPrefix(secret, accounts.TokenPrefix)},
		{"other prefix", "xxx_" + strings.TrimPrefix(secret, accounts.TokenPrefix)},
		{"secret changed", flip(secret)},
		{"secret shortened", secret[:len(secret)-1]},
		{"secret empty", accounts.TokenPrefix + parts[0] + "~" + parts[1] + "~"},
		{"other id", accounts.TokenPrefix + parts[0] + "~" + otherParts[1] + "~" + parts[2]},
		{"other account's secret", accounts.TokenPrefix + parts[0] + "~" + parts[1] + "~" + otherParts[2]},
		{"moved to other account", accounts.TokenPrefix + "li.si~" + parts[1] + "~" + parts[2]},
		{"unknown account", accounts.TokenPrefix + "wang.wu~" + parts[1] + "~" + parts[2]},
		{"extra part", secret + "~x"},
		{"upper-case name", accounts.TokenPrefix + "ZHANG.SAN~" + parts[1] + "~" + parts[2]},
		{"bearer prefix left in", "Bearer " + secret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := f.svc.ResolveToken(ctx, tc.token)
			if !errors.Is(err, accounts.ErrBadCredentials) {
				t.Fatalf("ResolveToken(%q) = %s, %v; want ErrBadCredentials", tc.token, a.Name, err)
			}
		})
	}
}

// expired: an expired token is refused, and dropped when the next is created.
func (sc *tokenScenario) expired(t *testing.T) {
	f, ctx, other, otherSecret := sc.f, t.Context(), sc.other, sc.otherSecret
	// The Service clock cannot be set from outside, so age the stored token instead.
	a, err := f.store.Get(ctx, "li.si")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Tokens) != 1 {
		t.Fatalf("li.si has %d tokens, want 1", len(a.Tokens))
	}
	if _, err := f.svc.ResolveToken(ctx, otherSecret); err != nil {
		t.Fatalf("ResolveToken before expiry: %v", err)
	}
	a.Tokens[0].ExpiresAt = time.Now().Add(-time.Minute)
	if _, err := f.store.Update(ctx, a); err != nil {
		t.Fatalf("age the token: %v", err)
	}
	if _, err := f.svc.ResolveToken(ctx, otherSecret); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Fatalf("ResolveToken of an expired token: err = %v, want ErrBadCredentials", err)
	}
	// Creating the next token drops the expired one.
	if _, _, err := f.svc.CreateToken(ctx, other, accounts.NewToken{Label: "fresh", ExpiresInDays: 7}); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	a, err = f.store.Get(ctx, "li.si")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Tokens) != 1 || a.Tokens[0].Label != "fresh" {
		t.Errorf("tokens after CreateToken = %+v, want only the fresh one", a.Tokens)
	}
}

// revoked: a revoked token is refused, the others work, and only the owner revokes.
func (sc *tokenScenario) revoked(t *testing.T) {
	f, ctx, zs, other, secret, tok := sc.f, t.Context(), sc.zs, sc.other, sc.secret, sc.tok
	second, tok2, err := f.svc.CreateToken(ctx, zs, accounts.NewToken{Label: "second", ExpiresInDays: 365})
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if err := f.svc.RevokeToken(ctx, zs, tok.ID); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if _, err := f.svc.ResolveToken(ctx, secret); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Fatalf("ResolveToken of a revoked token: err = %v, want ErrBadCredentials", err)
	}
	if a, err := f.svc.ResolveToken(ctx, second); err != nil || a.Name != "zhang.san" {
		t.Errorf("the other token stopped working after revoking the first: %s, %v", a.Name, err)
	}
	if err := f.svc.RevokeToken(ctx, zs, tok.ID); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("second RevokeToken: err = %v, want ErrNotFound", err)
	}
	// One cannot revoke somebody else's token: the id is looked up in the actor's own account.
	if err := f.svc.RevokeToken(ctx, other, tok2.ID); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("RevokeToken of another account's token: err = %v, want ErrNotFound", err)
	}
	if _, err := f.svc.ResolveToken(ctx, second); err != nil {
		t.Errorf("token revoked through another account: %v", err)
	}
}

// disabledAccount: the tokens of a disabled account stop working.
func (sc *tokenScenario) disabledAccount(t *testing.T) {
	f, ctx, zs := sc.f, t.Context(), sc.zs
	s, _, err := f.svc.CreateToken(ctx, zs, accounts.NewToken{Label: "soon disabled", ExpiresInDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Update(ctx, f.admin, "zhang.san", "", accounts.Change{Disabled: ptr(true)}); err != nil {
		t.Fatalf("disable: %v", err)
	}
	if _, err := f.svc.ResolveToken(ctx, s); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Fatalf("ResolveToken for a disabled account: err = %v, want ErrBadCredentials", err)
	}
}

func TestTokenLimit(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	zs := f.register(t, "zhang.san")
	for i := range 20 {
		if _, _, err := f.svc.CreateToken(ctx, zs, accounts.NewToken{Label: "t", ExpiresInDays: 1}); err != nil {
			t.Fatalf("CreateToken %d: %v", i+1, err)
		}
	}
	_, _, err := f.svc.CreateToken(ctx, zs, accounts.NewToken{Label: "one too many", ExpiresInDays: 1})
	if got := problems(t, err); !slices.Equal(got, []string{"label:too_many_tokens"}) {
		t.Fatalf("21st CreateToken: problems %v (err %v), want [label:too_many_tokens]", got, err)
	}
}

func TestUpdate(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	lib := f.createStaff(t, "dwk.lib", accounts.Librarian, "dwk-library")

	t.Run("applies and notifies", func(t *testing.T) {
		n := len(f.heard.heard())
		cur, err := f.store.Get(ctx, "dwk.lib")
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Update(ctx, f.admin, "dwk.lib", `"`+strings.Trim(cur.Version, `"`)+`"`,
			accounts.Change{DisplayName: ptr("大武口区图书馆馆员"), Unit: ptr("dwk")})
		if err != nil {
			t.Fatalf("Update with the current version: %v", err)
		}
		if got.DisplayName != "大武口区图书馆馆员" || got.Unit != "dwk" || got.Version == cur.Version || !got.UpdatedAt.After(cur.UpdatedAt) {
			t.Errorf("Update = %+v; want new name, unit dwk, a new version and a later UpdatedAt", got)
		}
		stored, err := f.store.Get(ctx, "dwk.lib")
		if err != nil {
			t.Fatal(err)
		}
		if stored.DisplayName != got.DisplayName || stored.Version != got.Version {
			t.Errorf("stored %+v, Update returned %+v", stored, got)
		}
		f.expectHeard(t, n, "dwk.lib")
	})

	t.Run("stale version", func(t *testing.T) {
		n := len(f.heard.heard())
		_, err := f.svc.Update(ctx, f.admin, "dwk.lib", lib.Version, accounts.Change{DisplayName: ptr("过期的修改")})
		if !errors.Is(err, accounts.ErrStale) {
			t.Fatalf("Update with a stale version: err = %v, want ErrStale", err)
		}
		stored, err := f.store.Get(ctx, "dwk.lib")
		if err != nil {
			t.Fatal(err)
		}
		if stored.DisplayName == "过期的修改" {
			t.Error("a stale Update was written")
		}
		f.expectHeard(t, n)
	})

	t.Run("not admin", func(t *testing.T) {
		for _, actor := range []accounts.Account{lib, {Name: "dwk.lib", Role: accounts.Lecturer}, {Name: "x", Role: accounts.Citizen}} {
			if _, err := f.svc.Update(ctx, actor, "dwk.lib", "", accounts.Change{Role: ptr(accounts.Admin)}); !errors.Is(err, accounts.ErrForbidden) {
				t.Errorf("Update by %s: err = %v, want ErrForbidden", actor.Role, err)
			}
		}
		if stored, _ := f.store.Get(ctx, "dwk.lib"); stored.Role != accounts.Librarian {
			t.Errorf("a forbidden Update made dwk.lib %s", stored.Role)
		}
	})

	t.Run("unknown account", func(t *testing.T) {
		if _, err := f.svc.Update(ctx, f.admin, "wang.wu", "", accounts.Change{}); !errors.Is(err, accounts.ErrNotFound) {
			t.Errorf("Update of an unknown account: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("invalid change", func(t *testing.T) {
		n := len(f.heard.heard())
		_, err := f.svc.Update(ctx, f.admin, "dwk.lib", "", accounts.Change{Unit: ptr("nowhere")})
		if got := problems(t, err); !slices.Equal(got, []string{"unit:unit"}) {
			t.Fatalf("Update to an unknown unit: problems %v", got)
		}
		f.expectHeard(t, n)
	})

	t.Run("admin cannot demote or disable themselves", func(t *testing.T) {
		for _, c := range []accounts.Change{
			{Role: ptr(accounts.Citizen)},
			{Role: ptr(accounts.Librarian), Unit: ptr("szs")},
			{Disabled: ptr(true)},
		} {
			n := len(f.heard.heard())
			_, err := f.svc.Update(ctx, f.admin, "root.admin", "", c)
			if got := problems(t, err); !slices.Equal(got, []string{"role:self_demote"}) {
				t.Errorf("self-demotion %+v: problems %v (err %v), want [role:self_demote]", c, got, err)
			}
			f.expectHeard(t, n)
		}
		stored, err := f.store.Get(ctx, "root.admin")
		if err != nil {
			t.Fatal(err)
		}
		if stored.Role != accounts.Admin || stored.Disabled {
			t.Errorf("admin after refused self-demotion: %+v", stored)
		}
		// Harmless changes to oneself are fine.
		if _, err := f.svc.Update(ctx, f.admin, "root.admin", "", accounts.Change{DisplayName: ptr("管理员"), Role: ptr(accounts.Admin), Disabled: ptr(false)}); err != nil {
			t.Errorf("admin renaming themselves: %v", err)
		}
	})

	t.Run("admin can demote another admin", func(t *testing.T) {
		other := f.createStaff(t, "second.admin", accounts.Admin, "")
		if _, err := f.svc.Update(ctx, f.admin, other.Name, other.Version, accounts.Change{Role: ptr(accounts.Citizen)}); err != nil {
			t.Fatalf("demote another admin: %v", err)
		}
	})

	t.Run("password change", func(t *testing.T) {
		const newPassword = "Yellow-River-2025"
		n := len(f.heard.heard())
		if _, err := f.svc.Update(ctx, f.admin, "dwk.lib", "", accounts.Change{Password: ptr(newPassword)}); err != nil {
			t.Fatalf("Update password: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, "dwk.lib", newPassword); err != nil {
			t.Errorf("new password refused: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, "dwk.lib", goodPassword); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Errorf("old password: err = %v, want ErrBadCredentials", err)
		}
		f.expectHeard(t, n, "dwk.lib")
	})
}

func TestStore(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	a := f.register(t, "zhang.san")

	t.Run("update without version", func(t *testing.T) {
		b := a
		b.Version = ""
		if _, err := f.store.Update(ctx, b); !errors.Is(err, accounts.ErrStale) {
			t.Errorf("Store.Update without a version: err = %v, want ErrStale", err)
		}
	})
	t.Run("lost update", func(t *testing.T) {
		first := a
		first.DisplayName = "第一"
		if _, err := f.store.Update(ctx, first); err != nil {
			t.Fatalf("first Update: %v", err)
		}
		second := a
		second.DisplayName = "第二"
		if _, err := f.store.Update(ctx, second); !errors.Is(err, accounts.ErrStale) {
			t.Errorf("Update from the same old version: err = %v, want ErrStale", err)
		}
	})
	t.Run("create existing", func(t *testing.T) {
		if _, err := f.store.Create(ctx, a); !errors.Is(err, accounts.ErrExists) {
			t.Errorf("Store.Create of an existing name: err = %v, want ErrExists", err)
		}
	})
	t.Run("get invalid names", func(t *testing.T) {
		for _, name := range []string{"", "ZHANG.SAN", "../units", "zhang.san/../../units", "a"} {
			if _, err := f.store.Get(ctx, name); !errors.Is(err, accounts.ErrNotFound) {
				t.Errorf("Get(%q): err = %v, want ErrNotFound", name, err)
			}
		}
	})
	t.Run("password hash not in JSON of input", func(t *testing.T) {
		// NewAccount carries the password in; the stored record must only hold the hash.
		var raw map[string]any
		if _, err := f.docs.Get(ctx, accounts.Prefix+"zhang.san.json", &raw); err != nil {
			t.Fatal(err)
		}
		if _, ok := raw["password"]; ok {
			t.Errorf("stored account has a password field: %v", raw)
		}
		if h, _ := raw["password_hash"].(string); !strings.HasPrefix(h, "$argon2id$") {
			t.Errorf("stored password_hash = %q", h)
		}
	})
}
