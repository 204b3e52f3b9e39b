package i18n

import (
	"slices"
	"strings"
	"testing"
)

// catalogues are the maps that lookup searches, by name.
func catalogues() map[string]map[string]text {
	return map[string]map[string]text{
		"messages":           messages,
		"pageMessages":       pageMessages,
		"libraryMessages":    libraryMessages,
		"replayMessages":     replayMessages,
		"exhibitionMessages": exhibitionMessages,
	}
}

// allKeys is every key of every catalogue, sorted.
func allKeys() []string {
	var keys []string
	for _, c := range catalogues() {
		for k := range c {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func TestCatalogueHasBothLanguages(t *testing.T) {
	keys := allKeys()
	if len(keys) < 50 {
		t.Fatalf("only %d keys: the catalogues look empty", len(keys))
	}
	for _, k := range keys {
		m, _ := lookup(k)
		if strings.TrimSpace(m.zh) == "" {
			t.Errorf("key %q has no Chinese text", k)
		}
		if strings.TrimSpace(m.en) == "" {
			t.Errorf("key %q has no English text", k)
		}
	}
}

func TestNoKeyInTwoCatalogues(t *testing.T) {
	// A key in two maps would make one text unreachable: lookup takes the first it finds.
	where := map[string][]string{}
	for name, c := range catalogues() {
		for k := range c {
			where[k] = append(where[k], name)
		}
	}
	for k, names := range where {
		if len(names) > 1 {
			slices.Sort(names)
			t.Errorf("key %q is in %v", k, names)
		}
	}
}

// verbs lists the argument kinds that the format verbs of s consume: "str" for %s, %q and
// %v, "int" for %d; "%%" consumes nothing. A '%' at the end or before a space is a literal
// percent sign of a text that T returns unformatted (e.g. "{n}%" for the browser), reported
// as "lit". Unknown verbs are reported as "?x".
func verbs(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		i++
		if i >= len(s) || s[i] == ' ' {
			out = append(out, "lit")
			continue
		}
		// Skip flags, width and precision.
		for i < len(s) && strings.IndexByte("+-# 0123456789.", s[i]) >= 0 {
			i++
		}
		if i >= len(s) {
			out = append(out, "?end")
			break
		}
		switch s[i] {
		case '%':
		case 's', 'q', 'v':
			out = append(out, "str")
		case 'd':
			out = append(out, "int")
		default:
			out = append(out, "?"+string(s[i]))
		}
	}
	return out
}

func TestVerbs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"plain", nil},
		{"100%% sure", nil},
		{"%s and %d", []string{"str", "int"}},
		{"字段“%s”的类型不对，应为%s。", []string{"str", "str"}},
		{"%q %5d %-3s", []string{"str", "int", "str"}},
		{"%x", []string{"?x"}},
		{"trailing %", []string{"lit"}},
		{"50% off", []string{"lit"}},
		{"%-", []string{"?end"}},
	}
	for _, tc := range tests {
		if got := verbs(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("verbs(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestFormatVerbsMatch(t *testing.T) {
	for _, k := range allKeys() {
		t.Run(k, func(t *testing.T) {
			m, _ := lookup(k)
			zh, en := verbs(m.zh), verbs(m.en)
			if !slices.Equal(zh, en) {
				t.Fatalf("format verbs differ: zh %q has %v, en %q has %v", m.zh, zh, m.en, en)
			}
			for _, v := range zh {
				if strings.HasPrefix(v, "?") {
					t.Fatalf("unexpected format verb %s in %q", v, m.zh)
				}
			}
			zh = slices.DeleteFunc(zh, func(v string) bool { return v == "lit" })
			if len(zh) == 0 {
				return
			}
			if len(zh) != len(verbs(m.zh)) {
				t.Fatalf("%q has format verbs and a bare %%: formatting would mangle the %%", m.zh)
			}
			// Formatting with arguments of the right kinds leaves no %!.
			args := make([]any, len(zh))
			for i, v := range zh {
				if v == "int" {
					args[i] = 42
				} else {
					args[i] = "arg"
				}
			}
			for _, l := range []Lang{ZH, EN} {
				if got := T(l, k, args...); strings.Contains(got, "%!") {
					t.Errorf("T(%s, %q, %v) = %q: bad formatting", l, k, args, got)
				}
			}
		})
	}
}

func TestT(t *testing.T) {
	tests := []struct {
		lang Lang
		key  string
		args []any
		want string
	}{
		{ZH, "site.name", nil, "石嘴山数字文化云"},
		{EN, "site.name", nil, "Shizuishan Culture Cloud"},
		{"", "site.name", nil, "石嘴山数字文化云"},
		{"fr", "site.name", nil, "石嘴山数字文化云"},
		{ZH, "field.too_short", []any{10}, "至少 10 个字符"},
		{EN, "field.too_short", []any{10}, "must have at least 10 characters"},
		{EN, "problem.unknown_field.detail", []any{"x"}, `The request has an unknown field "x"; remove it and try again.`},
		{ZH, "no.such.key", nil, "no.such.key"},
		{EN, "no.such.key", []any{1}, "no.such.key"},
	}
	for _, tc := range tests {
		t.Run(string(tc.lang)+"/"+tc.key, func(t *testing.T) {
			if got := T(tc.lang, tc.key, tc.args...); got != tc.want {
				t.Errorf("T(%q, %q, %v) = %q, want %q", tc.lang, tc.key, tc.args, got, tc.want)
			}
		})
	}
	if !Has("site.name") || !Has("problem.internal.title") || Has("no.such.key") {
		t.Error("Has does not match the catalogues")
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Lang
		ok   bool
	}{
		{"zh", ZH, true},
		{"zh-CN", ZH, true},
		{"ZH-cn", ZH, true},
		{"zh-Hans-CN", ZH, true},
		{" en ", EN, true},
		{"en", EN, true},
		{"en-GB", EN, true},
		{"EN-us", EN, true},
		{"english", "", false},
		{"zhx", "", false},
		{"fr", "", false},
		{"*", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := Parse(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Parse(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestNegotiate(t *testing.T) {
	many := strings.Repeat("fr,", 20) + "en"
	tests := []struct {
		header string
		want   Lang
	}{
		{"", ZH},
		{"en", EN},
		{"EN", EN},
		{"en-US,en;q=0.9", EN},
		{"en-GB", EN},
		{"zh-CN,zh;q=0.9,en;q=0.8", ZH},
		{"zh", ZH},
		{"fr", ZH},
		{"fr-FR,fr;q=0.9", ZH},
		{"fr,en;q=0.5", EN},
		{"en;q=0.1, zh;q=0.9", ZH},
		{"zh;q=0.2,en;q=0.8", EN},
		{"en;q=0.9,zh", ZH},
		{"en, zh", EN}, // equal weights: the first named wins
		{"*", ZH},
		{"en;q=abc", ZH},
		{"en;q=1.5", ZH},
		{"en;q=-1", ZH},
		{"en;q=abc,zh;q=0.1", ZH},
		{";;;,,,===", ZH},
		{"\x00\xff garbage", ZH},
		{strings.Repeat(",", 10000), ZH},
		{many, ZH}, // the 21st entry is no longer read
		{strings.Repeat("fr,", 19) + "en", EN},
	}
	for _, tc := range tests {
		name := tc.header
		if len(name) > 40 {
			name = name[:40] + "…"
		}
		t.Run(name, func(t *testing.T) {
			if got := Negotiate(tc.header); got != tc.want {
				t.Errorf("Negotiate(%q) = %q, want %q", tc.header, got, tc.want)
			}
		})
	}
}

func TestNegotiateZeroWeightMeansNotAcceptable(t *testing.T) {
	tests := []struct {
		header string
		want   Lang
	}{
		{"en;q=0", ZH},
		{"fr,en;q=0", ZH},
		{"en;q=0.0", ZH},
	}
	for _, tc := range tests {
		if got := Negotiate(tc.header); got != tc.want {
			t.Errorf("Negotiate(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

func TestHTMLLang(t *testing.T) {
	for _, tc := range []struct {
		l    Lang
		want string
	}{{ZH, "zh-CN"}, {EN, "en"}, {"", "zh-CN"}, {"fr", "zh-CN"}} {
		if got := tc.l.HTMLLang(); got != tc.want {
			t.Errorf("Lang(%q).HTMLLang() = %q, want %q", tc.l, got, tc.want)
		}
	}
}
