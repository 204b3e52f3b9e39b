package accounts_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/configs"
	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
)

func seedTree(t *testing.T) *units.Tree {
	t.Helper()
	tree, err := units.ParseSeed(configs.Units)
	if err != nil {
		t.Fatalf("ParseSeed: %v", err)
	}
	return &tree
}

// problems returns "field:code" for each problem in err, which must be nil or
// validate.Errors, and checks that every code has words in i18n.
func problems(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve validate.Errors
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not validate.Errors", err, err)
	}
	out := make([]string, len(ve))
	for i, p := range ve {
		out[i] = p.Field + ":" + p.Code
		if !i18n.Has("field." + p.Code) {
			t.Errorf("problem code %q has no i18n key field.%s", p.Code, p.Code)
		}
	}
	return out
}

func TestRoles(t *testing.T) {
	tests := []struct {
		role         accounts.Role
		valid, staff bool
	}{
		{accounts.Citizen, true, false},
		{accounts.Librarian, true, true},
		{accounts.Lecturer, true, true},
		{accounts.Admin, true, false},
		{"", false, false},
		{"Admin", false, false},
		{"root", false, false},
	}
	for _, tc := range tests {
		t.Run(string(tc.role), func(t *testing.T) {
			if got := tc.role.Valid(); got != tc.valid {
				t.Errorf("Role(%q).Valid() = %v, want %v", tc.role, got, tc.valid)
			}
			if got := tc.role.Staff(); got != tc.staff {
				t.Errorf("Role(%q).Staff() = %v, want %v", tc.role, got, tc.staff)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	n := accounts.NewAccount{Name: "  Wang.Fang\t", DisplayName: " 王芳 ", Email: " wf@example.cn ", Password: " keep spaces "}
	n.Normalize()
	want := accounts.NewAccount{Name: "wang.fang", DisplayName: "王芳", Email: "wf@example.cn", Password: " keep spaces "}
	if n != want {
		t.Errorf("Normalize = %+v, want %+v", n, want)
	}
}

func TestNewAccountValidate(t *testing.T) {
	tree := seedTree(t)
	ok := accounts.NewAccount{
		Name: "wang.fang", DisplayName: "王芳", Email: "wf@example.cn",
		Password: "Helan-Shan-2024!", Role: accounts.Citizen,
	}
	with := func(f func(*accounts.NewAccount)) accounts.NewAccount { n := ok; f(&n); return n }
	tests := []struct {
		name string
		in   accounts.NewAccount
		want []string
	}{
		{"valid citizen", ok, nil},
		{"valid without email", with(func(n *accounts.NewAccount) { n.Email = "" }), nil},
		{"valid librarian", with(func(n *accounts.NewAccount) { n.Role, n.Unit = accounts.Librarian, "dwk-library" }), nil},
		{"valid lecturer at the city", with(func(n *accounts.NewAccount) { n.Role, n.Unit = accounts.Lecturer, "szs" }), nil},
		{"valid admin without unit", with(func(n *accounts.NewAccount) { n.Role = accounts.Admin }), nil},
		{"citizen with a known unit", with(func(n *accounts.NewAccount) { n.Unit = "pl" }), nil},
		{"name of 3", with(func(n *accounts.NewAccount) { n.Name = "abc" }), nil},
		{"name of 32", with(func(n *accounts.NewAccount) { n.Name = "a" + strings.Repeat("b", 31) }), nil},
		{"name with _ and -", with(func(n *accounts.NewAccount) { n.Name = "li_si-2" }), nil},

		{"empty name", with(func(n *accounts.NewAccount) { n.Name = "" }), []string{"name:required"}},
		{"name of 2", with(func(n *accounts.NewAccount) { n.Name = "ab" }), []string{"name:account_name"}},
		{"name of 33", with(func(n *accounts.NewAccount) { n.Name = "a" + strings.Repeat("b", 32) }), []string{"name:account_name"}},
		{"upper-case name", with(func(n *accounts.NewAccount) { n.Name = "Wang" }), []string{"name:account_name"}},
		{"name starting with digit", with(func(n *accounts.NewAccount) { n.Name = "1wang" }), []string{"name:account_name"}},
		{"name with space", with(func(n *accounts.NewAccount) { n.Name = "wang fang" }), []string{"name:account_name"}},
		{"name with slash", with(func(n *accounts.NewAccount) { n.Name = "wang/../x" }), []string{"name:account_name"}},
		{"chinese name", with(func(n *accounts.NewAccount) { n.Name = "王芳" }), []string{"name:account_name"}},

		{"empty display name", with(func(n *accounts.NewAccount) { n.DisplayName = "" }), []string{"display_name:required"}},
		{"display name of 40", with(func(n *accounts.NewAccount) { n.DisplayName = strings.Repeat("文", 40) }), nil},
		{"display name of 41", with(func(n *accounts.NewAccount) { n.DisplayName = strings.Repeat("文", 41) }), []string{"display_name:too_long"}},
		{"display name with newline", with(func(n *accounts.NewAccount) { n.DisplayName = "王\n芳" }), []string{"display_name:text"}},

		{"email without @", with(func(n *accounts.NewAccount) { n.Email = "not-an-email" }), []string{"email:email"}},
		{"email without dot in domain", with(func(n *accounts.NewAccount) { n.Email = "wf@localhost" }), []string{"email:email"}},
		{"email with display name", with(func(n *accounts.NewAccount) { n.Email = "Wang <wf@example.cn>" }), []string{"email:email"}},

		{"empty password", with(func(n *accounts.NewAccount) { n.Password = "" }), []string{"password:required"}},
		{"password of 9", with(func(n *accounts.NewAccount) { n.Password = "Abc-12345" }), []string{"password:too_short"}},
		{"password of 10 runes", with(func(n *accounts.NewAccount) { n.Password = "黄河金岸石嘴山贺兰山" }), nil},
		{"password of 9 runes but 27 bytes", with(func(n *accounts.NewAccount) { n.Password = "黄河金岸石嘴山贺兰" }), []string{"password:too_short"}},
		{"password of 256", with(func(n *accounts.NewAccount) { n.Password = "Zq-" + strings.Repeat("x", 253) }), nil},
		{"password of 257", with(func(n *accounts.NewAccount) { n.Password = "Zq-" + strings.Repeat("x", 254) }), []string{"password:too_long"}},
		{"common password", with(func(n *accounts.NewAccount) { n.Password = "qwertyuiop" }), []string{"password:common_password"}},
		{"common password, other case", with(func(n *accounts.NewAccount) { n.Password = "Shizuishan123" }), []string{"password:common_password"}},
		{"password contains the name", with(func(n *accounts.NewAccount) { n.Password = "xx-WANG.FANG-2024" }), []string{"password:password_name"}},

		{"empty role", with(func(n *accounts.NewAccount) { n.Role = "" }), []string{"role:role"}},
		{"unknown role", with(func(n *accounts.NewAccount) { n.Role = "superuser" }), []string{"role:role"}},
		{"librarian without unit", with(func(n *accounts.NewAccount) { n.Role = accounts.Librarian }), []string{"unit:unit_required"}},
		{"lecturer without unit", with(func(n *accounts.NewAccount) { n.Role = accounts.Lecturer }), []string{"unit:unit_required"}},
		{"unknown unit", with(func(n *accounts.NewAccount) { n.Role, n.Unit = accounts.Librarian, "nowhere" }), []string{"unit:unit"}},
		{"citizen with unknown unit", with(func(n *accounts.NewAccount) { n.Unit = "nowhere" }), []string{"unit:unit"}},

		{"everything wrong", accounts.NewAccount{Name: "X", Email: "x", Password: "short", Role: "boss", Unit: "nowhere"},
			[]string{"name:account_name", "display_name:required", "email:email", "password:too_short", "role:role", "unit:unit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := problems(t, tc.in.Validate(tree))
			if !slices.Equal(got, tc.want) {
				t.Errorf("Validate(%+v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestValidateTooShortArgs(t *testing.T) {
	err := accounts.NewAccount{Name: "wang.fang", DisplayName: "王芳", Password: "short", Role: accounts.Citizen}.Validate(seedTree(t))
	var ve validate.Errors
	if !errors.As(err, &ve) || len(ve) != 1 {
		t.Fatalf("Validate = %v, want one problem", err)
	}
	if p := ve[0]; p.Field != "password" || p.Code != "too_short" || len(p.Args) != 1 || p.Args[0] != accounts.MinPasswordLen {
		t.Errorf("problem = %+v, want password too_short with argument %d", p, accounts.MinPasswordLen)
	}
}

func ptr[T any](v T) *T { return &v }

func TestChangeApply(t *testing.T) {
	tree := seedTree(t)
	base := accounts.Account{
		Name: "li.si", DisplayName: "李四", Email: "ls@example.cn", Role: accounts.Librarian, Unit: "dwk-library",
		PasswordHash: "$argon2id$keep", Version: "etag-1",
		Tokens: []accounts.Token{{ID: "t1", Label: "script"}},
	}
	tests := []struct {
		name   string
		change accounts.Change
		want   func(a *accounts.Account) // applied to a copy of base to give the expected result
		errs   []string
	}{
		{"nothing", accounts.Change{}, func(*accounts.Account) {}, nil},
		{"display name trimmed", accounts.Change{DisplayName: ptr("  李四（馆员） ")},
			func(a *accounts.Account) { a.DisplayName = "李四（馆员）" }, nil},
		{"empty display name", accounts.Change{DisplayName: ptr("  ")},
			func(a *accounts.Account) { a.DisplayName = "" }, []string{"display_name:required"}},
		{"email cleared", accounts.Change{Email: ptr("")}, func(a *accounts.Account) { a.Email = "" }, nil},
		{"bad email", accounts.Change{Email: ptr("nope")}, func(a *accounts.Account) { a.Email = "nope" }, []string{"email:email"}},
		{"role to lecturer", accounts.Change{Role: ptr(accounts.Lecturer)}, func(a *accounts.Account) { a.Role = accounts.Lecturer }, nil},
		{"role to citizen keeps unit", accounts.Change{Role: ptr(accounts.Citizen)}, func(a *accounts.Account) { a.Role = accounts.Citizen }, nil},
		{"unknown role", accounts.Change{Role: ptr(accounts.Role("boss"))}, func(a *accounts.Account) { a.Role = "boss" }, []string{"role:role"}},
		{"move unit", accounts.Change{Unit: ptr("hn-library")}, func(a *accounts.Account) { a.Unit = "hn-library" }, nil},
		{"staff loses unit", accounts.Change{Unit: ptr("")}, func(a *accounts.Account) { a.Unit = "" }, []string{"unit:unit_required"}},
		{"citizen loses unit", accounts.Change{Role: ptr(accounts.Citizen), Unit: ptr("")},
			func(a *accounts.Account) { a.Role, a.Unit = accounts.Citizen, "" }, nil},
		{"unknown unit", accounts.Change{Unit: ptr("nowhere")}, func(a *accounts.Account) { a.Unit = "nowhere" }, []string{"unit:unit"}},
		{"disable", accounts.Change{Disabled: ptr(true)}, func(a *accounts.Account) { a.Disabled = true }, nil},
		{"good password leaves the hash to the service", accounts.Change{Password: ptr("Helan-Shan-2024!")}, func(*accounts.Account) {}, nil},
		{"short password", accounts.Change{Password: ptr("short")}, func(*accounts.Account) {}, []string{"password:too_short"}},
		{"password with name", accounts.Change{Password: ptr("my-li.si-password")}, func(*accounts.Account) {}, []string{"password:password_name"}},
		{"common password", accounts.Change{Password: ptr("password123")}, func(*accounts.Account) {}, []string{"password:common_password"}},
		{"several problems", accounts.Change{Email: ptr("x"), Role: ptr(accounts.Role("")), Password: ptr("")},
			func(a *accounts.Account) { a.Email, a.Role = "x", "" }, []string{"email:email", "role:role", "password:required"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := base
			orig.Tokens = slices.Clone(base.Tokens)
			got, err := tc.change.Apply(orig, tree)
			if p := problems(t, err); !slices.Equal(p, tc.errs) {
				t.Fatalf("Apply problems = %v, want %v", p, tc.errs)
			}
			want := base
			tc.want(&want)
			if got.Name != want.Name || got.DisplayName != want.DisplayName || got.Email != want.Email ||
				got.Role != want.Role || got.Unit != want.Unit || got.Disabled != want.Disabled ||
				got.PasswordHash != want.PasswordHash || got.Version != want.Version || len(got.Tokens) != len(want.Tokens) {
				t.Errorf("Apply = %+v\nwant    %+v", got, want)
			}
			if orig.DisplayName != base.DisplayName || orig.Role != base.Role || orig.Unit != base.Unit || orig.Disabled != base.Disabled {
				t.Errorf("Apply changed its argument: %+v", orig)
			}
		})
	}
}

func TestCanSee(t *testing.T) {
	tree := seedTree(t)
	acct := func(name string, role accounts.Role, unit string) accounts.Account {
		return accounts.Account{Name: name, Role: role, Unit: unit}
	}
	admin := acct("root.admin", accounts.Admin, "")
	cityLib := acct("city.lib", accounts.Librarian, "szs")
	dwkLib := acct("dwk.lib", accounts.Librarian, "dwk")
	dwkLibrary := acct("dwk.library", accounts.Librarian, "dwk-library")
	hnLect := acct("hn.lect", accounts.Lecturer, "hn")
	citizen := acct("zhang.san", accounts.Citizen, "")
	citizenWithUnit := acct("li.si", accounts.Citizen, "dwk")
	staffNoUnit := acct("lost.staff", accounts.Librarian, "")
	tests := []struct {
		name      string
		actor, of accounts.Account
		want      bool
	}{
		{"admin sees a citizen", admin, citizen, true},
		{"admin sees staff", admin, hnLect, true},
		{"admin sees themselves", admin, admin, true},
		{"citizen sees themselves", citizen, citizen, true},
		{"citizen does not see another citizen", citizen, citizenWithUnit, false},
		{"citizen does not see staff", citizen, dwkLib, false},
		{"citizen does not see admin", citizen, admin, false},
		{"citizen with a unit does not see staff of that unit", citizenWithUnit, dwkLibrary, false},
		{"staff sees themselves", dwkLibrary, dwkLibrary, true},
		{"staff sees own unit", dwkLib, acct("dwk.other", accounts.Lecturer, "dwk"), true},
		{"staff sees below own unit", dwkLib, dwkLibrary, true},
		{"city staff sees every district", cityLib, hnLect, true},
		{"staff does not see a sibling district", dwkLib, hnLect, false},
		{"staff does not see above own unit", dwkLibrary, dwkLib, false},
		{"staff does not see a sibling unit", dwkLibrary, acct("dwk.centre", accounts.Librarian, "dwk-culture-centre"), false},
		{"staff does not see citizens without unit", cityLib, citizen, false},
		{"staff sees citizens placed in their unit", dwkLib, citizenWithUnit, true},
		{"staff does not see an unknown unit", cityLib, acct("ghost", accounts.Librarian, "nowhere"), false},
		{"staff without unit sees nobody else", staffNoUnit, dwkLib, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := accounts.CanSee(tc.actor, tc.of, tree); got != tc.want {
				t.Errorf("CanSee(%s/%s@%q, %s/%s@%q) = %v, want %v",
					tc.actor.Name, tc.actor.Role, tc.actor.Unit, tc.of.Name, tc.of.Role, tc.of.Unit, got, tc.want)
			}
		})
	}
}
