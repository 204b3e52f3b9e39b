// Package validate collects field-level problems in user input. Domain packages report codes
// and arguments; the HTTP edge turns them into words in the reader's language.
package validate

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Problem is one field that failed, with a message code (see i18n "field.*") and its arguments.
type Problem struct {
	Field string
	Code  string
	Args  []any
}

// Errors is every problem found in one input.
type Errors []Problem

func (e Errors) Error() string {
	var b strings.Builder
	b.WriteString("invalid input:")
	for _, p := range e {
		b.WriteString(" " + p.Field + " (" + p.Code + ")")
	}
	return b.String()
}

// Add records a problem.
func (e *Errors) Add(field, code string, args ...any) { *e = append(*e, Problem{field, code, args}) }

// Err returns e as an error, or nil when it holds nothing.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// Text checks a free-text field: required or not, length in characters, no control characters.
func (e *Errors) Text(field, value string, required bool, minLen, maxLen int) {
	n := utf8.RuneCountInString(value)
	switch {
	case value == "" && required:
		e.Add(field, "required")
	case value == "":
	case !utf8.ValidString(value) || strings.IndexFunc(value, unicode.IsControl) >= 0:
		e.Add(field, "text")
	case n < minLen:
		e.Add(field, "too_short", minLen)
	case n > maxLen:
		e.Add(field, "too_long", maxLen)
	}
}

// Email checks an optional email address.
func (e *Errors) Email(field, value string) {
	if value == "" {
		return
	}
	addr, err := mail.ParseAddress(value)
	if err != nil || addr.Address != value || len(value) > 254 || !strings.Contains(value[strings.LastIndexByte(value, '@'):], ".") {
		e.Add(field, "email")
	}
}

// Clean trims surrounding white space; apply it before checking free text.
func Clean(s string) string { return strings.TrimSpace(s) }
