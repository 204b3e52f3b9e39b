package server

import (
	"net/url"
	"strings"
	"testing"
)

// sameOriginAfterBrowser parses next as a browser's URL parser would before following it
// (WHATWG: tabs and newlines removed anywhere, C0 controls and spaces trimmed at the ends,
// backslashes read as slashes in http URLs) and reports whether it stays on base's origin.
func sameOriginAfterBrowser(base *url.URL, next string) bool {
	cleaned := strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(next)
	cleaned = strings.TrimFunc(cleaned, func(r rune) bool { return r <= ' ' })
	cleaned = strings.ReplaceAll(cleaned, `\`, "/")
	u, err := url.Parse(cleaned)
	if err != nil {
		return false
	}
	to := base.ResolveReference(u)
	return to.Scheme == base.Scheme && to.Host == base.Host
}

func TestSafeNext(t *testing.T) {
	tests := []struct {
		next, want string
	}{
		{"", "/"},
		{"/", "/"},
		{"/courses/crs-1", "/courses/crs-1"},
		{"/library?q=%E6%B2%99%E6%B9%96#top", "/library?q=%E6%B2%99%E6%B9%96#top"},
		{"/console/items/itm-1?tab=files", "/console/items/itm-1?tab=files"},
		{"//other.host/page", "/"},
		{`/\other.host/page`, "/"},
		{"/\t/other.host/page", "/"},
		{"/\n/other.host/page", "/"},
		{"/\r/other.host/page", "/"},
		{"\t//other.host/page", "/"},
		{" //other.host/page", "/"},
		{"/\x00/other.host", "/"},
		{"https://other.host/page", "/"},
		{"javascript:alert(1)", "/"},
		{"other.host/page", "/"},
		{"/%09/other.host/page", "/%09/other.host/page"}, // still encoded: a path on this site
		{"/courses\r\nSet-Cookie: x=1", "/"},
	}
	for _, tc := range tests {
		if got := safeNext(tc.next); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.next, got, tc.want)
		}
	}
}

// FuzzSafeNext: whatever safeNext lets through, a browser following it stays on the site.
func FuzzSafeNext(f *testing.F) {
	for _, seed := range []string{"/", "/courses/crs-1?x=1#y", "//a", "/\t/a", `/\a`, "/%2F/a", "\x01//a",
		"https://a/", "/..//a", "/./a", "/\u3000/a", "/\x7f/a"} {
		f.Add(seed)
	}
	base, _ := url.Parse("https://culture.example/login")
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got != "/" && got != next {
			t.Fatalf("safeNext(%q) = %q: it must keep the path as given or fall back to /", next, got)
		}
		if !sameOriginAfterBrowser(base, got) {
			t.Fatalf("safeNext(%q) = %q leads a browser off the site", next, got)
		}
	})
}
