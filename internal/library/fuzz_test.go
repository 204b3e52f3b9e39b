package library

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/configs"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
)

// FuzzFieldsValidate feeds arbitrary JSON through the record validation: it never panics, and
// every refusal names fields, so a librarian can fix them.
func FuzzFieldsValidate(f *testing.F) {
	vocab, err := ParseVocabulary(configs.Vocabulary)
	if err != nil {
		f.Fatal(err)
	}
	tree, err := units.ParseSeed(configs.Units)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		`{"title":"石嘴山老照片","type":"StillImage","theme":"migrant","unit":"dwk","licence":"cc-by-4.0"}`,
		`{"title":"x","type":"Text","theme":"red","unit":"szs","licence":"cc0-1.0","date":"1958-02-30","period":"1966-1958"}`,
		`{"place":{"name":"沙湖","lat":91,"lon":10}}`, `{"tags":["a","","b"],"creator":["  "]}`, `{}`,
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		var fields Fields
		if json.Unmarshal(data, &fields) != nil {
			return
		}
		fields.Normalize()
		err := fields.Validate(vocab, &tree, now)
		if err == nil {
			if fields.Title == "" || fields.Unit == "" {
				t.Fatalf("accepted without title or unit: %+v", fields)
			}
			return
		}
		var verrs validate.Errors
		if !errors.As(err, &verrs) || len(verrs) == 0 {
			t.Fatalf("refusal without field errors: %v", err)
		}
		for _, p := range verrs {
			if p.Field == "" || p.Code == "" {
				t.Fatalf("unnamed problem %+v", p)
			}
		}
	})
}

func TestParsePeriod(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in       string
		from, to int
		ok       bool
	}{
		{"1958", 1958, 1958, true},
		{"1958-1966", 1958, 1966, true},
		{"1958–1966", 1958, 1966, true},
		{"1958-03", 1958, 1958, true},
		{"1958-03-01", 1958, 1958, true},
		{"1958-02-30", 0, 0, false},
		{"1966-1958", 0, 0, false},
		{"2999", 0, 0, false},
		{"958", 0, 0, false},
		{"1958-13", 0, 0, false},
		{"", 0, 0, false},
		{"五十年代", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, ok := ParsePeriod(tt.in, now)
			if ok != tt.ok || ok && (p.From != tt.from || p.To != tt.to) {
				t.Fatalf("ParsePeriod(%q) = %+v, %v", tt.in, p, ok)
			}
		})
	}
}

func TestWorkflowMoves(t *testing.T) {
	allowed := map[[2]Status]bool{
		{Draft, InReview}: true, {InReview, Draft}: true, {InReview, Published}: true,
		{Published, Withdrawn}: true, {Withdrawn, Draft}: true, {Withdrawn, Published}: true,
	}
	all := []Status{Draft, InReview, Published, Withdrawn}
	for _, from := range all {
		for _, to := range all {
			if CanMove(from, to) != allowed[[2]Status{from, to}] {
				t.Errorf("CanMove(%s, %s) = %v", from, to, CanMove(from, to))
			}
		}
	}
}
