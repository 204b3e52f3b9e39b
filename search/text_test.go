package search

import (
	"slices"
	"strings"
	"testing"
)

func TestPinyinAndBigrams(t *testing.T) {
	tests := []struct {
		in          string
		pinyinHas   []string
		bigramsHave []string
	}{
		{"石嘴山老照片", []string{"shizuishanlaozhaopian", "szslzp", "shi", "zui"}, []string{"石嘴", "嘴山", "老照"}},
		{"数据处理 and 2026", []string{"shujuchuli", "sjcl"}, []string{"数据", "据处", "处理"}},
		// Inside a title: a phrase token starts at every character, and words are spelled
		// exactly, so "shizuishan" and "szs" find it although the title starts elsewhere.
		{"上海支宁青年在石嘴山的合影", []string{"shizuishandeheying", "szsdhy", "shizuishan", "heying", "zhining"}, []string{"合影"}},
		// A character with several readings: words carry each (长胜 is read changsheng).
		{"长胜街道综合文化站", []string{"changsheng", "zhangsheng", "changshengjiedao", "jiedaozonghewenhuazhan"}, []string{"长胜"}},
		{"Latin only", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p := strings.Fields(Pinyin(tt.in))
			for _, want := range tt.pinyinHas {
				if !contains(p, want) {
					t.Errorf("Pinyin(%q) = %v, lacks %q", tt.in, p, want)
				}
			}
			b := strings.Fields(Bigrams(tt.in))
			for _, want := range tt.bigramsHave {
				if !contains(b, want) {
					t.Errorf("Bigrams(%q) = %v, lacks %q", tt.in, b, want)
				}
			}
			if tt.pinyinHas == nil && (len(p) != 0 || len(b) != 0) {
				t.Errorf("no Chinese, yet pinyin %v bigrams %v", p, b)
			}
		})
	}
}

func TestPinyinProse(t *testing.T) {
	p := strings.Fields(PinyinProse("泥哇呜是用黄河泥土烧制的吹奏乐器，平罗县传承至今。"))
	// A query's last word matches a token's start.
	for _, want := range []string{"niwawu", "huanghe", "pingluoxian", "pingluo", "chuizou", "yueqi"} {
		if !slices.ContainsFunc(p, func(w string) bool { return strings.HasPrefix(w, want) }) {
			t.Errorf("PinyinProse has no token starting %q: %v", want, p)
		}
	}
	if contains(p, "nww") {
		t.Errorf("PinyinProse spelled initials, which match almost anything in running text: %v", p)
	}
	long := strings.Repeat("黄河", proseRunes) + "沙湖"
	if strings.Contains(PinyinProse(long), "shahu") {
		t.Errorf("PinyinProse spelled beyond its first %d characters", proseRunes)
	}
}

// Every token stays far below Meilisearch's longest word, whatever the text.
func FuzzPinyin(f *testing.F) {
	for _, seed := range []string{"石嘴山老照片", "长胜街道 and 2026", "", "𠀀𠀁𠀂重重重重重重重重重重"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, w := range strings.Fields(Pinyin(text) + " " + PinyinProse(text)) {
			if len(w) > 6*pinyinPhrase {
				t.Fatalf("token of %d bytes from %q", len(w), text)
			}
		}
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
