package search

import (
	"slices"
	"strings"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// Pinyin spelling of Chinese text for Latin-letter queries; Meilisearch does none itself.
// Meilisearch matches the last query word as a prefix and every other word exactly, so a
// document carries two kinds of tokens for each position of a run of Chinese characters:
//
//   - a phrase: the joined pinyin of up to pinyinPhrase characters from there ("shizuishande…"),
//     so that a word or phrase typed as one string is found wherever it starts, not only at
//     the start of a title; initials likewise ("szsd…") in names and titles;
//   - words: the joined pinyin of the two, three and four characters from there
//     ("shizui", "shizuishan", …), each reading of a character with several, so that a word
//     followed by another query word matches exactly (长胜 is "changsheng" as well as
//     the default "zhangsheng").
//
// Single syllables are kept too, for queries typed with spaces ("shi zui shan").
const (
	pinyinPhrase   = 8 // characters in a phrase token: longer queries are rare, tokens stay short
	pinyinMaxWord  = 4 // longest word spelled exactly
	readingsPerHan = 2 // a character's first readings used in words
	wordVariants   = 4 // spellings of one word at most, when several of its characters have readings
	// proseRunes caps the description spelled: a long text would make every document large
	// and every upsert slow (400 characters give about 8 KB of pinyin).
	proseRunes   = 400
	prosePhrase  = 6 // shorter phrases in running text, for the same reason
	proseMaxWord = 2
)

// spellStyle says which tokens a text gets.
type spellStyle struct {
	phrase, maxWord int
	initials        bool // initials of phrases: only for names and titles
	allReadings     bool // words in every reading; else only those a phrase lacks (not the default)
}

var (
	nameStyle  = spellStyle{phrase: pinyinPhrase, maxWord: pinyinMaxWord, initials: true, allReadings: true}
	proseStyle = spellStyle{phrase: prosePhrase, maxWord: proseMaxWord}
)

func pinyinArgs() pinyin.Args {
	a := pinyin.NewArgs()
	a.Style = pinyin.Normal
	a.Heteronym = true
	return a
}

// spelling collects distinct tokens in order.
type spelling struct {
	seen map[string]bool
	out  []string
}

func (s *spelling) add(w string) {
	if w != "" && !s.seen[w] {
		s.seen[w] = true
		s.out = append(s.out, w)
	}
}

// Pinyin spells names and titles: syllables, phrases, words and initials (see above).
func Pinyin(texts ...string) string {
	s := spelling{seen: map[string]bool{}}
	for _, text := range texts {
		s.spell(text, nameStyle)
	}
	return strings.Join(s.out, " ")
}

// PinyinProse spells a description, more sparingly: syllables, phrases, and two-character
// words only in their other readings (the default one starts a phrase, which a query's last
// word matches as a prefix); no initials (in running text, three letters would match almost
// any three characters); only its first proseRunes characters.
func PinyinProse(text string) string {
	if r := []rune(text); len(r) > proseRunes {
		text = string(r[:proseRunes])
	}
	s := spelling{seen: map[string]bool{}}
	s.spell(text, proseStyle)
	return strings.Join(s.out, " ")
}

func (s *spelling) spell(text string, style spellStyle) {
	for _, run := range hanRuns(text) {
		readings := pinyin.Pinyin(run, pinyinArgs())
		if len(readings) != len([]rune(run)) || slices.ContainsFunc(readings, func(r []string) bool { return len(r) == 0 }) {
			continue // a character without pinyin: leave the run to the character pairs
		}
		for i := range readings {
			if len(readings[i]) > readingsPerHan {
				readings[i] = readings[i][:readingsPerHan]
			}
			s.add(readings[i][0])
		}
		for i := range readings {
			end := min(i+style.phrase, len(readings))
			var phrase, inits strings.Builder
			for _, r := range readings[i:end] {
				phrase.WriteString(r[0])
				inits.WriteByte(r[0][0])
			}
			s.add(phrase.String())
			if style.initials && end-i > 1 {
				s.add(inits.String())
			}
			for n := 2; n <= style.maxWord && i+n <= len(readings); n++ {
				words := variants(readings[i : i+n])
				if !style.allReadings {
					words = words[1:]
				}
				for _, w := range words {
					s.add(w)
				}
			}
		}
	}
}

// variants spells a word with each reading of its characters, default readings first, at
// most wordVariants spellings.
func variants(readings [][]string) []string {
	words := []string{""}
	for _, r := range readings {
		var next []string
		for _, w := range words {
			for _, syl := range r {
				if len(next) < wordVariants {
					next = append(next, w+syl)
				}
			}
		}
		words = next
	}
	return words
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
