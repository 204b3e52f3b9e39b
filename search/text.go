package search

import (
	"strings"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// Pinyin spells the Chinese in text three ways so that Latin-letter queries find it: the
// syllables ("shi zui shan"), each run joined ("shizuishan") and its initials ("szs").
// Meilisearch does not do this itself.
func Pinyin(texts ...string) string {
	args := pinyin.NewArgs()
	args.Style = pinyin.Normal
	seen := map[string]bool{}
	var out []string
	add := func(w string) {
		if w != "" && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	for _, text := range texts {
		for _, run := range hanRuns(text) {
			syllables := pinyin.LazyPinyin(run, args)
			if len(syllables) == 0 {
				continue
			}
			var initials strings.Builder
			for _, s := range syllables {
				add(s)
				initials.WriteByte(s[0])
			}
			add(strings.Join(syllables, ""))
			add(initials.String())
		}
	}
	return strings.Join(out, " ")
}

// Bigrams lists every pair of neighbouring Chinese characters, so that a word inside a
// longer word is found: 数据处理 gives "数据 据处 处理", and a query for 处理 matches.
func Bigrams(texts ...string) string {
	seen := map[string]bool{}
	var out []string
	for _, text := range texts {
		for _, run := range hanRuns(text) {
			r := []rune(run)
			for i := 0; i+1 < len(r); i++ {
				g := string(r[i : i+2])
				if !seen[g] {
					seen[g] = true
					out = append(out, g)
				}
			}
		}
	}
	return strings.Join(out, " ")
}

func hanRuns(text string) []string {
	var runs []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			runs = append(runs, string(cur))
			cur = cur[:0]
		}
	}
	for _, r := range text {
		if unicode.Is(unicode.Han, r) {
			cur = append(cur, r)
		} else {
			flush()
		}
	}
	flush()
	return runs
}
