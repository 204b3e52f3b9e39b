package captions

import (
	"regexp"
	"strconv"
	"strings"
)

// settingRe is the syntax of each cue setting's value. A region setting is checked and
// dropped, since region blocks are.
var settingRe = map[string]*regexp.Regexp{
	"vertical": regexp.MustCompile(`^(rl|lr)$`),
	"line":     regexp.MustCompile(`^(auto|-?[0-9]+|([0-9]+(\.[0-9]+)?)%)(,(start|center|end))?$`),
	"position": regexp.MustCompile(`^(auto|([0-9]+(\.[0-9]+)?)%)(,(line-left|center|line-right|auto))?$`),
	"size":     regexp.MustCompile(`^([0-9]+(\.[0-9]+)?)%$`),
	"align":    regexp.MustCompile(`^(start|center|end|left|right)$`),
	"region":   regexp.MustCompile(`^[^\s]+$`),
}

// parseSettings checks the cue settings after the end time and returns them normalised:
// single spaces between them, region dropped.
func parseSettings(s string) (string, string) {
	seen := map[string]bool{}
	var out []string
	for _, tok := range strings.Fields(s) {
		name, value, ok := strings.Cut(tok, ":")
		re := settingRe[name]
		switch {
		case !ok || re == nil:
			return "", "unknown cue setting " + strconv.Quote(tok) +
				"; the settings are vertical, line, position, size, align and region, written as name:value"
		case seen[name]:
			return "", "the cue setting " + strconv.Quote(name) + " is given twice"
		case !re.MatchString(value) || !percentOK(value):
			return "", "the cue setting " + strconv.Quote(tok) + " has a value WebVTT does not allow"
		}
		seen[name] = true
		if name != "region" {
			out = append(out, tok)
		}
	}
	return strings.Join(out, " "), ""
}

// percentOK checks that a percentage in a setting's value is at most 100.
func percentOK(value string) bool {
	p, _, ok := strings.Cut(value, "%")
	if !ok {
		return true
	}
	f, err := strconv.ParseFloat(p, 64)
	return err == nil && f <= 100
}
