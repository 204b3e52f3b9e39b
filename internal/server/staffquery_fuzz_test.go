package server

import (
	"net/url"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/configs"
	"github.com/shizuishan/culturecloud/internal/library"
)

// FuzzParseStaffQuery feeds arbitrary query strings through the console list's filters: no
// panic, and whatever passes is something the search can take as it is.
func FuzzParseStaffQuery(f *testing.F) {
	vocab, err := library.ParseVocabulary(configs.Vocabulary)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"", "status=draft&type=StillImage&unit=dwk", "created_from=2026-02-30", "updated_from=2026-03-02&updated_to=2026-03-01",
		"q=%00", "page=-1&per_page=1000", "created_to=0001-01-01", "theme=red&unit=szs&sort=newest"} {
		f.Add(seed)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		_, filter, errs := parseStaffQuery(values.Get, vocab, &fuzzTree, now)
		if len(errs) > 0 {
			for _, e := range errs {
				if e.Field == "" || e.Code == "" {
					t.Fatalf("unnamed problem %+v for %q", e, raw)
				}
			}
			return
		}
		switch library.Status(filter.Status) {
		case "", library.Draft, library.InReview, library.Published, library.Withdrawn:
		default:
			t.Fatalf("status %q passed", filter.Status)
		}
		if _, ok := fuzzTree.Get(filter.Unit); filter.Unit != "" && !ok {
			t.Fatalf("unit %q passed", filter.Unit)
		}
		if filter.CreatedTo != 0 && filter.CreatedFrom > filter.CreatedTo || filter.UpdatedTo != 0 && filter.UpdatedFrom > filter.UpdatedTo {
			t.Fatalf("a range that ends before it starts passed: %+v", filter)
		}
	})
}
