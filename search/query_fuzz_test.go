package search

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseItemQuery: any query string either parses into allowed shapes or is refused with
// named fields; nothing reaches a filter unquoted.
func FuzzParseItemQuery(f *testing.F) {
	for _, seed := range []string{"q=石嘴山&theme=migrant&decade=1950&page=2", "sort=views&has_media=true", "page=-1",
		`theme=a" OR b = "c`, "decade=1955", "per_page=1000", "q=" + strings.Repeat("长", 300)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, problems := ParseItemQuery(values.Get)
		if len(problems) > 0 {
			for field, code := range problems {
				if field == "" || code == "" {
					t.Fatalf("unnamed problem %q=%q", field, code)
				}
			}
			return
		}
		if q.Page < 1 || q.Page > 500 || q.PerPage < 1 || q.PerPage > 100 || q.Decade%10 != 0 {
			t.Fatalf("out-of-range query accepted: %+v", q)
		}
		if _, ok := ItemSorts()[q.Sort]; !ok {
			t.Fatalf("unknown sort accepted: %q", q.Sort)
		}
		for _, v := range []string{q.Type, q.Theme, q.District, q.Format} {
			expr := Eq("x", v)
			// The value is one quoted string: after the opening quote, every quote is escaped.
			body := strings.TrimSuffix(strings.TrimPrefix(expr, `x = "`), `"`)
			for i := 0; i < len(body); i++ {
				if body[i] == '\\' {
					i++
					continue
				}
				if body[i] == '"' {
					t.Fatalf("unescaped quote in %q", expr)
				}
			}
		}
	})
}

// FuzzParseExhibitionQuery: any query string parses into allowed shapes or names its faults.
func FuzzParseExhibitionQuery(f *testing.F) {
	for _, seed := range []string{"q=工业&theme=industrial&open_now=true", "open_now=1", "page=-1", `unit=a" OR b = "c`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, problems := ParseExhibitionQuery(values.Get)
		for field, code := range problems {
			if field == "" || code == "" {
				t.Fatalf("unnamed problem %q=%q", field, code)
			}
		}
		if len(problems) == 0 && (q.Page < 1 || q.Page > 500 || q.PerPage < 1 || q.PerPage > 100) {
			t.Fatalf("out-of-range query accepted: %+v", q)
		}
	})
}
