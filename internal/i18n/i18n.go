// Package i18n holds the product's two languages: Simplified Chinese first, English second.
// Pages and problem details look their words up here by key, so both languages always have
// the same keys (a test checks that).
package i18n

import (
	"fmt"
	"strconv"
	"strings"
)

// Lang is a supported language.
type Lang string

const (
	ZH Lang = "zh-CN"
	EN Lang = "en"
)

// Parse accepts "zh", "zh-CN", "en", "en-GB" and the like; anything else is ok=false.
func Parse(s string) (Lang, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "zh" || strings.HasPrefix(s, "zh-"):
		return ZH, true
	case s == "en" || strings.HasPrefix(s, "en-"):
		return EN, true
	}
	return "", false
}

// Negotiate picks the language from an Accept-Language header: the supported one with the
// highest weight, Chinese when none is named or the header cannot be read.
func Negotiate(acceptLanguage string) Lang {
	best, bestQ := ZH, -1.0
	for i, part := range strings.Split(acceptLanguage, ",") {
		if i >= 20 {
			break // a hostile header gets no more of our time
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		lang, ok := Parse(tag)
		if !ok {
			continue
		}
		q := 1.0
		if v, found := strings.CutPrefix(strings.TrimSpace(params), "q="); found {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f <= 0 || f > 1 {
				continue // q=0 means "not acceptable"
			}
			q = f
		}
		if q > bestQ {
			best, bestQ = lang, q
		}
	}
	return best
}

// HTMLLang is the value for <html lang>.
func (l Lang) HTMLLang() string {
	if l == EN {
		return "en"
	}
	return "zh-CN"
}

// T returns the text for key in lang, formatted with args; an unknown key returns the key,
// which a test makes sure never happens.
func T(lang Lang, key string, args ...any) string {
	m, ok := lookup(key)
	if !ok {
		return key
	}
	s := m.zh
	if lang == EN {
		s = m.en
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Has reports whether key exists.
func Has(key string) bool {
	_, ok := lookup(key)
	return ok
}

func lookup(key string) (text, bool) {
	if m, ok := messages[key]; ok {
		return m, true
	}
	if m, ok := pageMessages[key]; ok {
		return m, true
	}
	if m, ok := libraryMessages[key]; ok {
		return m, true
	}
	if m, ok := courseMessages[key]; ok {
		return m, true
	}
	if m, ok := replayMessages[key]; ok {
		return m, true
	}
	if m, ok := exhibitionMessages[key]; ok {
		return m, true
	}
	m, ok := liveMessages[key]
	return m, ok
}

type text struct{ zh, en string }
