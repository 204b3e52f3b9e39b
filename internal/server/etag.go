package server

import "strings"

// ifMatchHolds evaluates an If-Match field value (RFC 9110 §13.1.1) against the current
// strong entity tag (quotes included): "*", or a list of entity tags of which one is
// strongly equal to it. A weak tag never matches, and a malformed list matches nothing.
func ifMatchHolds(field, current string) bool {
	rest := strings.TrimSpace(field)
	if rest == "*" {
		return true
	}
	for {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			return false
		}
		weak := strings.HasPrefix(rest, "W/")
		if weak {
			rest = rest[2:]
		}
		if !strings.HasPrefix(rest, `"`) {
			return false
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return false
		}
		tag := rest[:end+2]
		if !weak && tag == current {
			return true
		}
		rest = strings.TrimLeft(rest[end+2:], " \t")
		if rest != "" && rest[0] != ',' {
			return false
		}
	}
}
