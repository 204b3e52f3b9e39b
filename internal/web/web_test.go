package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/units"
)

var testUnits = []units.Unit{
	{ID: "szs", NameZH: "石嘴山市", NameEN: "Shizuishan City", Kind: "city"},
	{ID: "dwk", Parent: "szs", NameZH: "大武口区", NameEN: "Dawukou District", Kind: "district"},
	{ID: "dwk-library", Parent: "dwk", NameZH: "大武口区图书馆", NameEN: "Dawukou District Library", Kind: "library"},
	{ID: "pl", Parent: "szs", NameZH: "平罗县", NameEN: "Pingluo County", Kind: "county"},
	{ID: "szs-library", Parent: "szs", NameZH: "石嘴山市图书馆", NameEN: "Shizuishan City Library", Kind: "library"},
}

var (
	keyRef       = regexp.MustCompile(`\bt \$?\.Lang "([^"]+)"`)
	inputTag     = regexp.MustCompile(`<(input|select)\b[^>]*>`)
	attrID       = regexp.MustCompile(`\bid="([^"]+)"`)
	attrType     = regexp.MustCompile(`\btype="([^"]+)"`)
	labelFor     = regexp.MustCompile(`<label\b[^>]*\bfor="([^"]+)"`)
	inlineEvent  = regexp.MustCompile(`(?i)<[a-z][^>]*\son[a-z]+\s*=`)
	styleAttr    = regexp.MustCompile(`(?i)<[a-z][^>]*\sstyle\s*=`)
	scriptTag    = regexp.MustCompile(`(?i)<script\b[^>]*>`)
	htmlLang     = regexp.MustCompile(`<html lang="([^"]+)"`)
	anyIDAttr    = regexp.MustCompile(`\sid="([^"]+)"`)
	escapedAttr  = regexp.MustCompile(`\sdata-[a-z-]+="(&#34;|\\u0022|&quot;)`)
	customProp   = regexp.MustCompile(`(--[a-z0-9-]+)\s*:\s*(#[0-9a-fA-F]{6})\s*;`)
	fontSizeDecl = regexp.MustCompile(`font-size\s*:\s*([^;]+);`)
	lineHeight   = regexp.MustCompile(`line-height\s*:\s*([0-9.]+)\s*;`)
)

func templateSources(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := fs.ReadDir(templateFS, "templates")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(templateFS, "templates/"+e.Name())
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// usedKeys is every i18n key the templates name, plus the keys built at run time.
func usedKeys(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	for name, src := range templateSources(t) {
		found := keyRef.FindAllStringSubmatch(src, -1)
		if len(found) == 0 {
			t.Errorf("%s names no i18n key; is the pattern still right?", name)
		}
		for _, m := range found {
			seen[m[1]] = true
		}
	}
	for _, p := range Pages() {
		seen["title."+p] = true
	}
	for _, r := range Roles() {
		seen["role."+r] = true
	}
	for _, k := range units.Kinds() {
		seen["kind."+k] = true
	}
	var keys []string
	for k := range seen {
		keys = append(keys, k)
	}
	return keys
}

func TestKeysExist(t *testing.T) {
	for _, k := range usedKeys(t) {
		if !i18n.Has(k) {
			t.Errorf("i18n key %q is used by the pages but missing", k)
			continue
		}
		for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
			if strings.TrimSpace(i18n.T(lang, k)) == "" {
				t.Errorf("i18n key %q is empty in %s", k, lang)
			}
		}
		if strings.HasPrefix(k, "problem.") || strings.HasPrefix(k, "field.") {
			t.Errorf("pages should not use API key %q", k)
		}
	}
}

// renderCase is one page as one kind of visitor sees it in one language.
type renderCase struct {
	page   string
	viewer *Viewer
	lang   i18n.Lang
}

func (c renderCase) name() string {
	who := "anonymous"
	if c.viewer != nil {
		who = c.viewer.Role
	}
	return fmt.Sprintf("%s/%s/%s", c.page, c.lang, who)
}

// TestRender renders every page for a visitor, a citizen and (admin pages) an admin, in
// both languages, and holds each output to every rule of renderRules.
func TestRender(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	admin := &Viewer{Name: "admin", DisplayName: "管理员", Role: "admin", Unit: "szs"}
	citizen := &Viewer{Name: "li.hua", DisplayName: "李华", Role: "citizen"}
	var cases []renderCase
	for _, p := range Pages() {
		viewers := []*Viewer{nil, citizen}
		if strings.HasPrefix(p, "admin_") {
			viewers = append(viewers, admin)
		}
		for _, v := range viewers {
			for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
				cases = append(cases, renderCase{page: p, viewer: v, lang: lang})
			}
		}
	}
	rules := renderRules(usedKeys(t))
	for _, c := range cases {
		t.Run(c.name(), func(t *testing.T) {
			d := PageData{Lang: c.lang, Page: c.page, Path: "/x", Viewer: c.viewer, Nonce: "n0nce", Units: testUnits, Status: 404}
			if c.viewer != nil {
				d.CSRF = "csrf-token-value"
			}
			var buf bytes.Buffer
			if err := r.Render(&buf, d); err != nil {
				t.Fatal(err)
			}
			for _, rule := range rules {
				t.Run(rule.name, func(t *testing.T) { rule.check(t, c, d, buf.String()) })
			}
		})
	}
}

// renderRule is one thing every rendered page must satisfy.
type renderRule struct {
	name  string
	check func(t *testing.T, c renderCase, d PageData, out string)
}

// renderRules are the rules of TestRender; keys are the catalogue keys the pages use.
func renderRules(keys []string) []renderRule {
	return []renderRule{
		{"texts are rendered", func(t *testing.T, _ renderCase, _ PageData, out string) {
			if strings.Contains(out, "{{") {
				t.Error("output holds template braces")
			}
			for _, k := range keys {
				if strings.Contains(out, k) {
					t.Errorf("output holds raw i18n key %q", k)
				}
			}
		}},
		{"page frame", checkPageFrame},
		{"language switch", checkLanguageSwitch},
		{"viewer's links", func(t *testing.T, c renderCase, _ PageData, out string) {
			if (c.viewer != nil) != strings.Contains(out, `id="logout-button"`) {
				t.Error("logout button shown wrongly")
			}
			if (c.viewer != nil && c.viewer.Role == "admin") != strings.Contains(out, `href="/admin/users"`) {
				t.Error("admin links shown wrongly")
			}
		}},
		{"labels and ids", checkLabelsAndIDs},
		// html/template escapes some attribute values as JS or URLs; texts must come out plain.
		{"attributes are plain", func(t *testing.T, _ renderCase, _ PageData, out string) {
			if m := escapedAttr.FindString(out); m != "" {
				t.Errorf("attribute value escaped as script: %s", m)
			}
		}},
		{"content security policy", checkCSPRules},
	}
}

// checkPageFrame: the skip link, menu, tools and CSRF token of every page.
func checkPageFrame(t *testing.T, c renderCase, d PageData, out string) {
	if m := htmlLang.FindStringSubmatch(out); m == nil || m[1] != c.lang.HTMLLang() {
		t.Errorf("html lang = %v, want %s", m, c.lang.HTMLLang())
	}
	for _, must := range []string{`<main id="main"`, `href="#main"`, `<nav class="main-nav collapsible" id="site-menu" aria-label="`, `<button type="button" class="disclosure-toggle menu-toggle" id="menu-toggle" aria-expanded="false" aria-controls="site-menu site-tools">`, `id="site-tools"`, `id="elderly-toggle"`, `aria-pressed="false"`,
		`id="lang-en" href="/x?lang=en" hreflang="en"`, `id="lang-zh" href="/x?lang=zh-CN" hreflang="zh-CN"`, `<meta name="csrf-token" content="` + d.CSRF + `">`} {
		if !strings.Contains(out, must) {
			t.Errorf("output lacks %s", must)
		}
	}
}

// checkLanguageSwitch: the page's language, and only it, is marked current.
func checkLanguageSwitch(t *testing.T, c renderCase, _ PageData, out string) {
	current := "lang-zh"
	if c.lang == i18n.EN {
		current = "lang-en"
	}
	if !regexp.MustCompile(`id="` + current + `"[^>]*aria-current="true"`).MatchString(out) {
		t.Errorf("%s is not marked current", current)
	}
	if strings.Count(out, `aria-current="true"`) != 1 {
		t.Error("exactly one language should be current")
	}
}

// wantIDs are the controls the scripts of some pages look for.
func wantIDs(page string) []string {
	return map[string][]string{
		"login":    {"login-name", "login-password", "login-submit", "login-next"},
		"register": {"register-name", "register-display-name", "register-email", "register-password", "register-submit"},
		"admin_users": {"create-account-form", "account-name", "account-display-name", "account-email", "account-password", "account-role", "account-unit", "create-account-submit", "accounts-table",
			"accounts-status", "edit-account-panel", "edit-account-title", "edit-account-form", "edit-display-name", "edit-role", "edit-unit", "edit-disabled", "edit-password", "edit-account-submit", "edit-account-cancel"},
		"admin_units": {"create-unit-form", "unit-tree",
			"rename-unit-panel", "rename-unit-title", "rename-unit-form", "rename-name-zh", "rename-name-en", "rename-unit-submit", "rename-unit-cancel"},
	}[page]
}

// checkLabelsAndIDs: every visible control has a label, ids are unique, and the pages'
// scripts find their controls.
func checkLabelsAndIDs(t *testing.T, c renderCase, _ PageData, out string) {
	labels := map[string]bool{}
	for _, m := range labelFor.FindAllStringSubmatch(out, -1) {
		labels[m[1]] = true
	}
	for _, tag := range inputTag.FindAllString(out, -1) {
		if m := attrType.FindStringSubmatch(tag); m != nil && m[1] == "hidden" {
			continue
		}
		id := attrID.FindStringSubmatch(tag)
		if id == nil {
			t.Errorf("control without id: %s", tag)
			continue
		}
		if !labels[id[1]] {
			t.Errorf("control %q has no <label for>", id[1])
		}
	}
	ids := map[string]int{}
	for _, m := range anyIDAttr.FindAllStringSubmatch(out, -1) {
		ids[m[1]]++
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %q used %d times", id, n)
		}
	}
	shown := c.viewer != nil && (c.viewer.Role == "admin" || !strings.HasPrefix(c.page, "admin_")) ||
		c.viewer == nil && (c.page == "login" || c.page == "register")
	if shown {
		for _, id := range wantIDs(c.page) {
			if ids[id] == 0 {
				t.Errorf("id %q missing", id)
			}
		}
	}
}

// checkCSPRules: no inline handlers or styles, and one inline script, with the nonce.
func checkCSPRules(t *testing.T, _ renderCase, _ PageData, out string) {
	if m := inlineEvent.FindString(out); m != "" {
		t.Errorf("inline event handler: %s", m)
	}
	if m := styleAttr.FindString(out); m != "" {
		t.Errorf("inline style attribute: %s", m)
	}
	inline := 0
	for _, tag := range scriptTag.FindAllString(out, -1) {
		if strings.Contains(tag, " src=") {
			continue
		}
		if !strings.Contains(tag, `nonce="n0nce"`) {
			t.Errorf("inline script without nonce: %s", tag)
		}
		inline++
	}
	if inline != 1 {
		t.Errorf("%d inline scripts, want exactly 1", inline)
	}
}

func TestRenderContent(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	admin := &Viewer{Name: "admin", DisplayName: "管理员", Role: "admin", Unit: "szs"}
	tests := []struct {
		name string
		d    PageData
		want []string
	}{
		{"units tree zh", PageData{Lang: i18n.ZH, Page: "admin_units", Viewer: admin, Units: testUnits},
			[]string{"大武口区图书馆", ">图书馆<", `<option value="dwk-library">石嘴山市 / 大武口区 / 大武口区图书馆</option>`}},
		{"units tree en", PageData{Lang: i18n.EN, Page: "admin_units", Viewer: admin, Units: testUnits},
			[]string{"Dawukou District Library", ">Library<", `<option value="dwk">Shizuishan City / Dawukou District</option>`}},
		{"users unit select", PageData{Lang: i18n.ZH, Page: "admin_users", Viewer: admin, Units: testUnits},
			[]string{`<option value="pl">石嘴山市 / 平罗县</option>`, `<option value="librarian" selected>馆员</option>`, `<table id="accounts-table"`, `scope="col"`}},
		{"login next", PageData{Lang: i18n.ZH, Page: "login", Next: "/account"},
			[]string{`<input type="hidden" id="login-next" value="/account">`, `autocomplete="current-password"`}},
		{"login default next", PageData{Lang: i18n.EN, Page: "login"},
			[]string{`id="login-next" value="/"`}},
		{"account roles", PageData{Lang: i18n.ZH, Page: "account", Viewer: &Viewer{Name: "wang", DisplayName: "王老师", Role: "lecturer", Unit: "dwk"}},
			[]string{"<dd>讲师</dd>", "<code>dwk</code>", `href="/account/developer"`, `id="password-form" data-api="/api/v1/me/password"`,
				`data-must-match="new-password"`}},
		{"account learning", PageData{Lang: i18n.ZH, Page: "account", Viewer: &Viewer{Name: "wang", DisplayName: "王秀兰", Role: "citizen"},
			Data: &AccountData{Email: "wxl@example.org",
				InProgress: []LearningRow{{CourseID: "course-a", Title: "贺兰山岩画临摹", Done: 1, Total: 4, Continue: 2, ContinueTitle: "第三课 线描"}},
				Completed: []LearningRow{{CourseID: "course-b", Title: "剪纸入门", Done: 3, Total: 3,
					Certificate: &CertificateData{CourseID: "course-b", Serial: "SZS-0123456789AB", Completed: "2026-12-01"}}}}},
			[]string{"wxl@example.org", "已完成 1 / 4 课时", `<progress max="4" value="1"`, `href="/courses/course-a/lessons/2"`,
				`aria-label="继续学习《贺兰山岩画临摹》：第三课 线描"`, "<code>SZS-0123456789AB</code>", `href="/courses/course-b/certificate"`,
				`href="/certificates/SZS-0123456789AB"`}},
		{"account nothing learned", PageData{Lang: i18n.EN, Page: "account", Viewer: &Viewer{Name: "li", Role: "citizen"}, Data: &AccountData{}},
			[]string{"You are not taking any course yet.", `href="/courses"`, "When you complete every lesson"}},
		{"developer tokens", PageData{Lang: i18n.ZH, Page: "account_developer", Viewer: &Viewer{Name: "wang", Role: "lecturer"}},
			[]string{`id="tokens-table"`, `name="expires_in_days" type="number" min="1" max="365" step="1" value="30"`}},
		{"verify genuine", PageData{Lang: i18n.ZH, Page: "certificate_verify", Data: &VerifyData{Serial: "SZS-0123456789AB",
			Certificate: &CertificateData{Serial: "SZS-0123456789AB", Learner: "王秀兰", CourseTitle: "剪纸入门", Completed: "2026-12-01"}}},
			[]string{"证书真实有效", "<dd>王秀兰</dd>", "<dd>剪纸入门</dd>", `value="SZS-0123456789AB"`}},
		{"verify malformed", PageData{Lang: i18n.EN, Page: "certificate_verify", Data: &VerifyData{Serial: "abc", Malformed: true}},
			[]string{`aria-invalid="true"`, `id="verify-serial-error"`, `value="abc"`}},
		{"verify unknown", PageData{Lang: i18n.EN, Page: "certificate_verify", Data: &VerifyData{Serial: "SZS-0123456789AB", Unknown: true}},
			[]string{"No certificate has the number SZS-0123456789AB"}},
		{"certificate print", PageData{Lang: i18n.ZH, Page: "certificate", Data: &CertificateData{Serial: "SZS-0123456789AB",
			VerifyURL: "https://culture.example/certificates/SZS-0123456789AB", Own: true}},
			[]string{`data-print`, "查验地址：https://culture.example/certificates/SZS-0123456789AB"}},
		{"password new", PageData{Lang: i18n.ZH, Page: "password_new"},
			[]string{`data-from-hash="token"`, `data-api="/api/v1/auth/password-reset/confirm"`, `autocomplete="new-password"`}},
		{"login forgot", PageData{Lang: i18n.ZH, Page: "login"}, []string{`href="/password-reset"`}},
		{"not found", PageData{Lang: i18n.EN, Page: "notfound", Status: 404},
			[]string{"Error code: 404", `<a href="/">`}},
		{"error", PageData{Lang: i18n.ZH, Page: "error", Status: 500},
			[]string{"错误代码：500", "服务器出了点问题"}},
		{"forbidden", PageData{Lang: i18n.EN, Page: "error", Status: 403, Viewer: &Viewer{Name: "li", Role: "citizen"}},
			[]string{"Not allowed", "Error code: 403"}},
		{"unavailable", PageData{Lang: i18n.ZH, Page: "error", Status: 503},
			[]string{"暂时无法访问", "错误代码：503"}},
		{"home themes", PageData{Lang: i18n.ZH, Page: "home"},
			[]string{"黄河文化", "移民文化", "工业文化", "非物质文化遗产", "即将上线", "国家公共文化服务体系示范区"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := r.Render(&buf, tt.d); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("output lacks %s", w)
				}
			}
		})
	}
	if err := r.Render(&bytes.Buffer{}, PageData{Page: "nope"}); err == nil {
		t.Error("unknown page rendered")
	}
}

func TestStatic(t *testing.T) {
	for _, name := range []string{"app.css", "app.js"} {
		if _, err := fs.Stat(Static(), name); err != nil {
			t.Errorf("static %s: %v", name, err)
		}
	}
	js, _ := fs.ReadFile(Static(), "app.js")
	for _, must := range []string{"X-CSRF-Token", "same-origin", "Accept-Language", "application/json", "cc-elderly", "aria-pressed", "aria-invalid", "aria-describedby",
		"If-Match", "'PATCH'", "edit-account", "rename-unit", "Escape"} {
		if !bytes.Contains(js, []byte(must)) {
			t.Errorf("app.js lacks %s", must)
		}
	}
}

// cssBlocks returns the bodies of the rules whose selector is exactly sel.
func cssBlocks(css, sel string) []string {
	var out []string
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sel) + `\s*\{([^}]*)\}`)
	for _, m := range re.FindAllStringSubmatch(css, -1) {
		out = append(out, m[1])
	}
	return out
}

func palette(blocks []string, base map[string]string) map[string]string {
	p := map[string]string{}
	for k, v := range base {
		p[k] = v
	}
	for _, b := range blocks {
		for _, m := range customProp.FindAllStringSubmatch(b, -1) {
			p[m[1]] = m[2]
		}
	}
	return p
}

func luminance(hex string) float64 {
	var c [3]float64
	for i := range c {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		s := float64(v) / 255
		if s <= 0.04045 {
			c[i] = s / 12.92
		} else {
			c[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}

func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// cssPx evaluates a font-size value in px, with 1rem = 100% = 16px; max() takes the largest.
func cssPx(v string) float64 {
	v = strings.TrimSpace(v)
	if inner, ok := strings.CutPrefix(v, "max("); ok {
		best := 0.0
		for _, part := range strings.Split(strings.TrimSuffix(inner, ")"), ",") {
			best = max(best, cssPx(part))
		}
		return best
	}
	for unit, factor := range map[string]float64{"px": 1, "rem": 16, "em": 16, "%": 0.16} {
		if n, ok := strings.CutSuffix(v, unit); ok {
			if f, err := strconv.ParseFloat(n, 64); err == nil {
				return f * factor
			}
		}
	}
	return 0
}

func TestCSS(t *testing.T) {
	b, err := fs.ReadFile(Static(), "app.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	for _, must := range []string{`"PingFang SC"`, `"Microsoft YaHei"`, `"Noto Sans CJK SC"`, `:focus-visible`, `min-height: 48px`} {
		if !strings.Contains(css, must) {
			t.Errorf("app.css lacks %s", must)
		}
	}
	rootBlocks := cssBlocks(css, ":root")
	elderlyBlocks := cssBlocks(css, "html.elderly")
	if len(rootBlocks) == 0 || len(elderlyBlocks) == 0 {
		t.Fatal("app.css lacks the :root or html.elderly block")
	}
	normal := palette(rootBlocks, nil)
	elderly := palette(elderlyBlocks, normal)

	size, lh := 0.0, 0.0
	for _, blk := range elderlyBlocks {
		for _, m := range fontSizeDecl.FindAllStringSubmatch(blk, -1) {
			size = max(size, cssPx(m[1]))
		}
		for _, m := range lineHeight.FindAllStringSubmatch(blk, -1) {
			f, _ := strconv.ParseFloat(m[1], 64)
			lh = max(lh, f)
		}
	}
	if size < 20 {
		t.Errorf("elderly font-size = %.1fpx, want at least 20px", size)
	}
	if lh < 1.7 {
		t.Errorf("elderly line-height = %v, want at least 1.7", lh)
	}
	if !strings.Contains(css, "html.elderly *") || !strings.Contains(css, "animation: none") {
		t.Error("elderly mode does not stop animations")
	}

	// Every text colour the style sheet puts on a background.
	pairs := [][2]string{
		{"--text", "--bg"}, {"--muted", "--bg"}, {"--link", "--bg"}, {"--brand", "--bg"},
		{"--error", "--bg"}, {"--success", "--bg"}, {"--btn-bg", "--bg"}, {"--btn-text", "--btn-bg"},
		{"--btn-text", "--brand"}, {"--text", "--surface"}, {"--muted", "--surface"}, {"--link", "--surface"},
		{"--brand", "--surface"}, {"--text", "--tag-bg"},
	}
	used := map[string]bool{}
	for _, mode := range []struct {
		name string
		p    map[string]string
		min  float64
	}{{"normal", normal, 4.5}, {"elderly", elderly, 7}} {
		for _, pr := range pairs {
			fg, bg := mode.p[pr[0]], mode.p[pr[1]]
			if fg == "" || bg == "" {
				t.Errorf("%s: %s or %s not declared", mode.name, pr[0], pr[1])
				continue
			}
			used[pr[0]], used[pr[1]] = true, true
			if c := contrast(fg, bg); c < mode.min {
				t.Errorf("%s: %s %s on %s %s has contrast %.2f, want ≥ %.1f", mode.name, pr[0], fg, pr[1], bg, c, mode.min)
			}
		}
		// Non-text colours (borders, focus ring) need 3:1 against the page.
		for _, v := range []string{"--border", "--focus"} {
			used[v] = true
			if c := contrast(mode.p[v], mode.p["--bg"]); c < 3 {
				t.Errorf("%s: %s has contrast %.2f against --bg, want ≥ 3", mode.name, v, c)
			}
		}
	}
	for v := range elderly {
		if !used[v] {
			t.Errorf("colour %s is declared but its contrast is not checked", v)
		}
	}
}

// render renders one page or fails the test.
func render(t *testing.T, r *Renderer, d PageData) string {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Render(&buf, d); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// tagWithID returns the start tag of the element with this id, or "".
func tagWithID(out, id string) string {
	return regexp.MustCompile(`<[a-z0-9]+\b[^>]*\sid="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindString(out)
}

// labelText returns the text of <label for=id>, or "".
func labelText(out, id string) string {
	m := regexp.MustCompile(`<label for="` + regexp.QuoteMeta(id) + `">([^<]*)</label>`).FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestEditAccountForm(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	admin := &Viewer{Name: "admin", DisplayName: "管理员", Role: "admin", Unit: "szs"}
	for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
		t.Run(string(lang), func(t *testing.T) {
			out := render(t, r, PageData{Lang: lang, Page: "admin_users", Viewer: admin, Units: testUnits, CSRF: "c"})
			tr := func(key string) string { return template.HTMLEscapeString(i18n.T(lang, key)) }

			panel := tagWithID(out, "edit-account-panel")
			if !strings.Contains(panel, " hidden") || !strings.Contains(panel, `aria-labelledby="edit-account-title"`) {
				t.Errorf("edit panel should start hidden and be named by its heading: %s", panel)
			}
			if !strings.Contains(panel, `data-heading="`+tr("users.edit_heading")+`"`) {
				t.Errorf("edit panel lacks its heading text: %s", panel)
			}
			form := tagWithID(out, "edit-account-form")
			for _, must := range []string{`data-api-base="/api/v1/accounts"`, `data-method="PATCH"`, `data-status="accounts-status"`, `novalidate`,
				`data-success="` + tr("users.updated") + `"`, `data-unchanged="` + tr("users.unchanged") + `"`} {
				if !strings.Contains(form, must) {
					t.Errorf("edit form lacks %s: %s", must, form)
				}
			}
			if strings.Contains(form, " data-api=") {
				t.Error("edit form has data-api: the generic handler would send the whole form")
			}
			// The edit form comes after the table, in document (and so tab) order.
			if strings.Index(out, `id="accounts-table"`) > strings.Index(out, `id="edit-account-form"`) {
				t.Error("edit form is not below the table")
			}

			labels := map[string]string{
				"edit-display-name": "form.display_name", "edit-role": "account.role", "edit-unit": "account.unit",
				"edit-disabled": "users.disable", "edit-password": "users.new_password",
			}
			for id, key := range labels {
				if got, want := labelText(out, id), tr(key); got != want {
					t.Errorf("label of %s = %q, want %q", id, got, want)
				}
			}
			for id, want := range map[string][]string{
				"edit-display-name": {`name="display_name"`, `type="text"`},
				"edit-role":         {`name="role"`},
				"edit-unit":         {`name="unit"`, `aria-describedby="edit-unit-hint"`},
				"edit-disabled":     {`name="disabled"`, `type="checkbox"`},
				"edit-password":     {`name="password"`, `type="password"`, `autocomplete="new-password"`, `aria-describedby="edit-password-hint"`},
			} {
				tag := tagWithID(out, id)
				for _, w := range want {
					if !strings.Contains(tag, w) {
						t.Errorf("%s lacks %s: %s", id, w, tag)
					}
				}
			}
			if strings.Contains(tagWithID(out, "edit-password"), "required") {
				t.Error("the new password must be optional")
			}
			if !strings.Contains(out, `id="edit-password-hint">`+tr("users.new_password_hint")+`<`) {
				t.Error("the password hint does not say that empty keeps the password")
			}
			for _, role := range Roles() {
				if !strings.Contains(out, `<option value="`+role+`">`+tr("role."+role)+`</option>`) {
					t.Errorf("role select lacks %s", role)
				}
			}
			unitSel := regexp.MustCompile(`(?s)<select id="edit-unit".*?</select>`).FindString(out)
			if !strings.Contains(unitSel, `<option value="">`+tr("users.unit_none")+`</option>`) {
				t.Error("unit select lacks the none option")
			}
			if n := strings.Count(unitSel, "<option value="); n != len(testUnits)+1 {
				t.Errorf("unit select has %d options, want %d", n, len(testUnits)+1)
			}
			if !strings.Contains(tagWithID(out, "edit-account-submit"), `type="submit"`) {
				t.Error("edit form has no submit button")
			}
			if !strings.Contains(tagWithID(out, "edit-account-cancel"), `type="button"`) {
				t.Error("cancel must not submit")
			}
			if !strings.Contains(out, `id="edit-account-cancel">`+tr("form.cancel")+`<`) {
				t.Error("cancel button text")
			}
			table := tagWithID(out, "accounts-table")
			for _, must := range []string{`data-edit="` + tr("users.edit") + `"`, `data-edit-label="` + tr("users.edit_label") + `"`} {
				if !strings.Contains(table, must) {
					t.Errorf("accounts table lacks %s", must)
				}
			}
			if !strings.Contains(tagWithID(out, "accounts-status"), `aria-live="polite"`) {
				t.Error("accounts-status is not a live region")
			}
			if strings.Contains(out, `colspan="6"`) || !strings.Contains(out, `colspan="7"`) {
				t.Error("the loading row does not span the 7 columns")
			}
		})
	}
}

func TestRenameUnitForm(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	admin := &Viewer{Name: "admin", DisplayName: "管理员", Role: "admin", Unit: "szs"}
	for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
		t.Run(string(lang), func(t *testing.T) {
			out := render(t, r, PageData{Lang: lang, Page: "admin_units", Viewer: admin, Units: testUnits, CSRF: "c"})
			tr := func(key string) string { return template.HTMLEscapeString(i18n.T(lang, key)) }

			buttons := regexp.MustCompile(`<button type="button" class="rename-unit"[^>]*>([^<]*)</button>`).FindAllStringSubmatch(out, -1)
			if len(buttons) != len(testUnits) {
				t.Fatalf("%d rename buttons, want one per unit (%d)", len(buttons), len(testUnits))
			}
			for i, u := range testUnits {
				b := buttons[i][0]
				for _, must := range []string{`data-id="` + u.ID + `"`, `data-name-zh="` + u.NameZH + `"`, `data-name-en="` + u.NameEN + `"`,
					`aria-label="` + template.HTMLEscapeString(i18n.T(lang, "units.rename_label", unitName(lang, u))) + `"`} {
					if !strings.Contains(b, must) {
						t.Errorf("rename button of %s lacks %s: %s", u.ID, must, b)
					}
				}
				if buttons[i][1] != tr("units.rename") {
					t.Errorf("rename button says %q", buttons[i][1])
				}
			}
			// The accessible name contains the visible text (WCAG 2.5.3).
			if !strings.Contains(i18n.T(lang, "units.rename_label", "x"), i18n.T(lang, "units.rename")) {
				t.Error("the rename aria-label does not contain the visible text")
			}
			panel := tagWithID(out, "rename-unit-panel")
			if !strings.Contains(panel, " hidden") || !strings.Contains(panel, `data-heading="`+tr("units.rename_heading")+`"`) {
				t.Errorf("rename panel: %s", panel)
			}
			form := tagWithID(out, "rename-unit-form")
			for _, must := range []string{`data-api-base="/api/v1/units"`, `data-method="PATCH"`, `data-after="reload"`, `data-success="` + tr("units.renamed") + `"`} {
				if !strings.Contains(form, must) {
					t.Errorf("rename form lacks %s: %s", must, form)
				}
			}
			if strings.Contains(form, " data-api=") {
				t.Error("rename form has data-api: the generic handler would POST it")
			}
			for id, key := range map[string]string{"rename-name-zh": "units.name_zh", "rename-name-en": "units.name_en"} {
				if got, want := labelText(out, id), tr(key); got != want {
					t.Errorf("label of %s = %q, want %q", id, got, want)
				}
			}
			for id, want := range map[string]string{"rename-name-zh": `name="name_zh"`, "rename-name-en": `name="name_en"`} {
				if !strings.Contains(tagWithID(out, id), want) {
					t.Errorf("%s lacks %s", id, want)
				}
			}
			if !strings.Contains(tagWithID(out, "rename-unit-cancel"), `type="button"`) {
				t.Error("cancel must not submit")
			}
		})
	}
}

// TestScriptTexts: every text app.js shows comes from a data-* attribute filled from the
// catalogue (so the key scan of the templates covers it), and the placeholders app.js fills
// are in both languages.
func TestScriptTexts(t *testing.T) {
	js, err := fs.ReadFile(Static(), "app.js")
	if err != nil {
		t.Fatal(err)
	}
	// Attributes that carry data, not words.
	notText := map[string]bool{
		"data-api": true, "data-api-base": true, "data-method": true, "data-redirect": true, "data-redirect-from": true,
		"data-after": true, "data-status": true, "data-item": true, "data-id": true, "data-search": true, "data-target": true,
		"data-name": true, "data-name-zh": true, "data-name-en": true, "data-extra": true, "data-reset": true,
		"data-must-match": true, "data-from-hash": true, "data-missing": true, "data-print": true,
	}
	sources := templateSources(t)
	attrs := regexp.MustCompile(`'(data-[a-z-]+)'`).FindAllSubmatch(js, -1)
	if len(attrs) < 10 {
		t.Fatalf("found only %d data-* names in app.js; is the pattern still right?", len(attrs))
	}
	for _, m := range attrs {
		name := string(m[1])
		if notText[name] {
			continue
		}
		pattern := regexp.QuoteMeta(name)
		if strings.HasSuffix(name, "-") {
			pattern += `[a-z-]+` // a prefix, as in msg('saving') → data-msg-saving
		}
		re := regexp.MustCompile(`\s(` + pattern + `)="(\{\{t \$?\.Lang "[^"]+"\}\}|[^"]*)"`)
		found := 0
		for file, src := range sources {
			for _, a := range re.FindAllStringSubmatch(src, -1) {
				found++
				if !keyRef.MatchString(a[2]) {
					t.Errorf("%s: %s=%q is not taken from the catalogue", file, a[1], a[2])
				}
			}
		}
		if found == 0 {
			t.Errorf("app.js reads %s, which no template sets", name)
		}
	}
	placeholders := map[string]string{
		"users.total": "{n}", "users.edit_label": "{name}", "users.edit_heading": "{name}", "users.updated": "{name}",
		"units.rename_heading": "{id}",
	}
	for key, ph := range placeholders {
		for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
			if !strings.Contains(i18n.T(lang, key), ph) {
				t.Errorf("%s in %s lacks %s", key, lang, ph)
			}
		}
	}
	// The edit button's accessible name contains its visible text (WCAG 2.5.3).
	for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
		if !strings.Contains(i18n.T(lang, "users.edit_label"), i18n.T(lang, "users.edit")) {
			t.Errorf("%s: users.edit_label does not contain users.edit", lang)
		}
	}
}
