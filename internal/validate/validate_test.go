package validate_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/internal/validate"
)

func codes(e validate.Errors) []string {
	out := make([]string, len(e))
	for i, p := range e {
		out[i] = p.Field + ":" + p.Code
	}
	return out
}

func TestText(t *testing.T) {
	tests := []struct {
		name     string
		value    string
		required bool
		min, max int
		want     string // "" when valid, else the code
		args     []any
	}{
		{"required and empty", "", true, 1, 10, "required", nil},
		{"optional and empty", "", false, 2, 10, "", nil},
		{"ascii ok", "hello", true, 1, 10, "", nil},
		{"exactly min", "ab", true, 2, 10, "", nil},
		{"below min", "a", true, 2, 10, "too_short", []any{2}},
		{"optional but below min", "a", false, 2, 10, "too_short", []any{2}},
		{"exactly max", "abcdefghij", true, 1, 10, "", nil},
		{"above max", "abcdefghijk", true, 1, 10, "too_long", []any{10}},
		{"chinese counted in characters", "石嘴山市文化馆", true, 1, 7, "", nil},
		{"chinese above max", "石嘴山市文化馆长", true, 1, 7, "too_long", []any{7}},
		{"emoji is one character", "👍", true, 1, 1, "", nil},
		{"newline", "a\nb", true, 1, 10, "text", nil},
		{"tab", "a\tb", true, 1, 10, "text", nil},
		{"NUL", "a\x00b", true, 1, 10, "text", nil},
		{"DEL", "a\x7fb", true, 1, 10, "text", nil},
		{"C1 control", "a\u0085b", true, 1, 10, "text", nil},
		{"invalid UTF-8", "a\xffb", true, 1, 10, "text", nil},
		{"spaces are text", "  ", true, 1, 10, "", nil},
		{"control beats length", strings.Repeat("x", 20) + "\n", true, 1, 10, "text", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var e validate.Errors
			e.Text("f", tc.value, tc.required, tc.min, tc.max)
			if tc.want == "" {
				if len(e) != 0 {
					t.Fatalf("Text(%q, required=%v, %d..%d) = %v, want no problem", tc.value, tc.required, tc.min, tc.max, codes(e))
				}
				return
			}
			if len(e) != 1 || e[0].Field != "f" || e[0].Code != tc.want {
				t.Fatalf("Text(%q, required=%v, %d..%d) = %v, want [f:%s]", tc.value, tc.required, tc.min, tc.max, codes(e), tc.want)
			}
			if !slices.Equal(e[0].Args, tc.args) {
				t.Errorf("Text(%q) args = %v, want %v", tc.value, e[0].Args, tc.args)
			}
		})
	}
}

func TestEmail(t *testing.T) {
	tests := []struct {
		value string
		ok    bool
	}{
		{"", true}, // optional
		{"wf@example.cn", true},
		{"wang.fang+news@mail.szs.gov.cn", true},
		{"a@b.co", true},
		{"not-an-email", false},
		{"@example.cn", false},
		{"wf@", false},
		{"wf@localhost", false},
		{"wf@example", false},
		{"Wang Fang <wf@example.cn>", false},
		{"<wf@example.cn>", false},
		{" wf@example.cn", false},
		{"wf@example.cn ", false},
		{"wf@@example.cn", false},
		{"wf@exa mple.cn", false},
		{"wf@example.cn, other@example.cn", false},
		{"a@b.c\n", false},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".cn", true},  // 254
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 187) + ".cn", false}, // 255
	}
	for _, tc := range tests {
		name := tc.value
		if len(name) > 40 {
			name = name[:40] + "…"
		}
		t.Run(name, func(t *testing.T) {
			var e validate.Errors
			e.Email("email", tc.value)
			if tc.ok && len(e) != 0 {
				t.Errorf("Email(%q) = %v, want valid", tc.value, codes(e))
			}
			if !tc.ok && (len(e) != 1 || e[0].Field != "email" || e[0].Code != "email") {
				t.Errorf("Email(%q) = %v, want [email:email]", tc.value, codes(e))
			}
		})
	}
}

func TestErrors(t *testing.T) {
	var e validate.Errors
	if err := e.Err(); err != nil {
		t.Fatalf("empty Errors.Err() = %v, want nil", err)
	}
	e.Add("name", "required")
	e.Add("password", "too_short", 10)
	err := e.Err()
	if err == nil {
		t.Fatal("Errors.Err() = nil with two problems")
	}
	var back validate.Errors
	if !errors.As(err, &back) || len(back) != 2 {
		t.Fatalf("errors.As(%v) = %v", err, back)
	}
	if back[1].Field != "password" || back[1].Code != "too_short" || !slices.Equal(back[1].Args, []any{10}) {
		t.Errorf("second problem = %+v", back[1])
	}
	if got, want := err.Error(), "invalid input: name (required) password (too_short)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  x  ", "x"},
		{"\t石嘴山\n", "石嘴山"},
		{"", ""},
		{"a b", "a b"},
	}
	for _, tc := range tests {
		if got := validate.Clean(tc.in); got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
