package indexer_test

import (
	"io"
	"log/slog"
	"os"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/app"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/outbox"
	"github.com/shizuishan/culturecloud/internal/review"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/search"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// qualitySet is testdata/search_quality.yaml.
type qualitySet struct {
	Records []struct {
		Key         string   `yaml:"key"`
		Unit        string   `yaml:"unit"`
		Type        string   `yaml:"type"`
		Theme       string   `yaml:"theme"`
		Title       string   `yaml:"title"`
		Place       string   `yaml:"place"`
		Creator     []string `yaml:"creator"`
		Subject     []string `yaml:"subject"`
		Description string   `yaml:"description"`
	} `yaml:"records"`
	Queries []struct {
		Q    string   `yaml:"q"`
		Want []string `yaml:"want"`
		Only bool     `yaml:"only"`
	} `yaml:"queries"`
}

// TestSearchQuality publishes the records of the quality set through the library, indexes
// them the way a publication is indexed (the outbox event's handler) and checks that every
// query finds every record it should, and, where the set says "only", nothing else.
func TestSearchQuality(t *testing.T) {
	raw, err := os.ReadFile("testdata/search_quality.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var set qualitySet
	if err := yaml.Unmarshal(raw, &set); err != nil {
		t.Fatalf("search_quality.yaml: %v", err)
	}
	if len(set.Queries) < 60 {
		t.Fatalf("the quality set has %d queries; keep at least 60", len(set.Queries))
	}
	ctx := t.Context()
	core, err := app.Connect(testenv.Config(t, testenv.Shared(t)), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Prepare(ctx); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	librarian := accounts.Account{Name: "quality-librarian", Role: accounts.Admin}
	reviewer := accounts.Account{Name: "quality-reviewer", Role: accounts.Admin}
	keyOf := map[string]string{}
	for _, r := range set.Records {
		it, err := core.Library.Create(ctx, librarian, library.Fields{Title: r.Title, Type: r.Type, Theme: r.Theme, Unit: r.Unit,
			Licence: "cc-by-4.0", Language: "zh", Creator: r.Creator, Subject: r.Subject, Description: r.Description,
			Place: library.Place{Name: r.Place}})
		if err != nil {
			t.Fatalf("create %s: %v", r.Key, err)
		}
		if _, err := core.Library.Move(ctx, librarian, it.ID, "", library.InReview); err != nil {
			t.Fatalf("submit %s: %v", r.Key, err)
		}
		// Approved by a second person (先审后发).
		if it, err = core.Library.Review(ctx, reviewer, it.ID, "", review.Decision{Approve: true}); err != nil || it.Status != library.Published {
			t.Fatalf("approve %s: %v (status %s)", r.Key, err, it.Status)
		}
		if err := core.Indexer.Handle(ctx, outbox.Event{Kind: "item", ID: it.ID}); err != nil {
			t.Fatalf("index %s: %v", r.Key, err)
		}
		keyOf[it.ID] = r.Key
	}

	var wanted, found, complete int
	for _, c := range set.Queries {
		res, err := core.Search.SearchItems(ctx, search.ItemQuery{Text: c.Q, Sort: "relevance", Page: 1, PerPage: 100})
		if err != nil {
			t.Fatalf("search %q: %v", c.Q, err)
		}
		var got []string
		for _, h := range res.Hits {
			got = append(got, keyOf[h.ID])
		}
		// What a query should find comes before anything else it finds.
		for i, g := range got {
			if !slices.Contains(c.Want, g) && slices.ContainsFunc(got[i:], func(k string) bool { return slices.Contains(c.Want, k) }) {
				t.Errorf("%q ranks %s above expected results: %v", c.Q, g, got)
				break
			}
		}
		slices.Sort(got)
		var missing, extra []string
		for _, w := range c.Want {
			if !slices.Contains(got, w) {
				missing = append(missing, w)
			}
		}
		if c.Only {
			for _, g := range got {
				if !slices.Contains(c.Want, g) {
					extra = append(extra, g)
				}
			}
		}
		wanted += len(c.Want)
		found += len(c.Want) - len(missing)
		if len(missing) == 0 {
			complete++
		}
		if len(missing) > 0 || len(extra) > 0 {
			t.Errorf("%q: missing %v, unexpected %v (found %v)", c.Q, missing, extra, got)
		}
	}
	t.Logf("%d queries: %d of %d expected results found (%.0f %%); %d complete", len(set.Queries), found, wanted,
		100*float64(found)/float64(wanted), complete)
}
