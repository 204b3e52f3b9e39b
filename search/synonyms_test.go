package search_test

import (
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/configs"
	"github.com/shizuishan/culturecloud/search"
)

// TestSynonymsFile checks that configs/synonyms.yaml is well-formed and large enough to cover
// the field's terms.
func TestSynonymsFile(t *testing.T) {
	groups, err := search.ParseSynonyms(configs.Synonyms)
	if err != nil {
		t.Fatalf("configs/synonyms.yaml: %v", err)
	}
	pairs := 0
	for _, g := range groups {
		pairs += len(g) * (len(g) - 1) / 2
		for _, w := range g {
			if len([]rune(w)) < 2 {
				t.Errorf("%q in %v: a single character would match almost everything", w, g)
			}
		}
	}
	if pairs < 100 {
		t.Errorf("configs/synonyms.yaml has %d pairs; keep at least 100", pairs)
	}
	m := search.SynonymMap(groups)
	if !strings.Contains(strings.Join(m["讲座"], " "), "大讲堂") {
		t.Errorf("讲座 ↔ 大讲堂 missing: %v", m["讲座"])
	}
}

func TestParseSynonymsRefuses(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"not a list", "a: b", "synonyms"},
		{"one word", "- [讲座]", "fewer than two"},
		{"empty word", "- [讲座, '']", "empty"},
		{"blank around", "- [讲座, ' 讲堂']", "spaces"},
		{"twice in a group", "- [讲座, 讲堂, 讲座]", "讲座"},
		{"in two groups", "- [讲座, 讲堂]\n- [大讲堂, 讲座]", "讲座"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := search.ParseSynonyms([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseSynonyms(%q) = %v, want an error about %q", tc.yaml, err, tc.want)
			}
		})
	}
}

// TestSynonymsFindAcross indexes, for every word of configs/synonyms.yaml, an item that holds
// only that word, and checks that a search for each other word of its group finds it, with the
// product's index settings on real Meilisearch.
func TestSynonymsFindAcross(t *testing.T) {
	e := newEnv(t)
	groups, err := search.ParseSynonyms(configs.Synonyms)
	if err != nil {
		t.Fatal(err)
	}
	var docs []search.ItemDoc
	for _, g := range groups {
		for _, w := range g {
			docs = append(docs, search.ItemDoc{ID: search.DocID(w), Title: w, Type: "Text", Theme: "history", Unit: "szs",
				UnitPath: []string{"szs"}, Licence: "cc-by-4.0", Pinyin: search.Pinyin(w), Grams: search.Bigrams(w), Synonyms: search.SynonymsIn(w)})
		}
	}
	task, err := e.client.Upsert(t.Context(), search.ItemsIndex, docs)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.client.Wait(t.Context(), task); err != nil {
		t.Fatal(err)
	}
	misses := 0
	for _, g := range groups {
		for _, query := range g {
			res, err := e.client.SearchItems(t.Context(), search.ItemQuery{Text: query, Sort: "relevance", Page: 1, PerPage: 100})
			if err != nil {
				t.Fatalf("search %q: %v", query, err)
			}
			found := map[string]bool{}
			for _, h := range res.Hits {
				found[h.Title] = true
			}
			for _, other := range g {
				if !found[other] {
					misses++
					t.Errorf("%q does not find %q (group %v; found %d)", query, other, g, len(res.Hits))
				}
			}
		}
	}
	if misses > 0 {
		t.Logf("%d misses", misses)
	}
}
