package search

import (
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

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestSynonymsFileParses(t *testing.T) {
	groups, err := ParseSynonyms(configsSynonyms())
	if err != nil || len(groups) == 0 {
		t.Fatalf("configs/synonyms.yaml: %v", err)
	}
	m := SynonymMap(groups)
	if !contains(m["非遗"], "非物质文化遗产") || !contains(m["非物质文化遗产"], "非遗") {
		t.Fatalf("非遗 ↔ 非物质文化遗产 missing: %v", m["非遗"])
	}
}
