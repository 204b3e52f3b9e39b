// Package library owns the "Shizuishan Memory" resource library: items described with the
// fifteen Dublin Core elements plus local fields, their files, their publishing workflow and
// their history. Each item is an OCFL object in MinIO; every change is a new version.
package library

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shizuishan/culturecloud/internal/review"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
)

// Status is a step of the publishing workflow.
type Status string

const (
	Draft     Status = "draft"
	InReview  Status = "in_review"
	Published Status = "published"
	Withdrawn Status = "withdrawn"
)

// transitions lists the moves the workflow allows.
var transitions = map[Status][]Status{
	Draft:     {InReview},
	InReview:  {Draft, Published},
	Published: {Withdrawn},
	Withdrawn: {Draft, Published},
}

// CanMove reports whether the workflow allows from → to.
func CanMove(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Place is where an item was made or what it shows.
type Place struct {
	Name string   `json:"name,omitempty"`
	Lat  *float64 `json:"lat,omitempty"`
	Lon  *float64 `json:"lon,omitempty"`
}

// Fields are the descriptive metadata a librarian edits.
type Fields struct {
	Title       string   `json:"title"`
	Creator     []string `json:"creator,omitempty"`
	Subject     []string `json:"subject,omitempty"`
	Description string   `json:"description,omitempty"`
	Publisher   string   `json:"publisher,omitempty"`
	Contributor []string `json:"contributor,omitempty"`
	Date        string   `json:"date,omitempty"`
	Type        string   `json:"type"`
	Format      string   `json:"format,omitempty"`
	Identifier  string   `json:"identifier,omitempty"`
	Source      string   `json:"source,omitempty"`
	Language    string   `json:"language,omitempty"`
	Relation    string   `json:"relation,omitempty"`
	Coverage    string   `json:"coverage,omitempty"`
	Rights      string   `json:"rights,omitempty"`
	Theme       string   `json:"theme"`
	Unit        string   `json:"unit"`
	Place       Place    `json:"place"`
	Period      string   `json:"period,omitempty"`
	Licence     string   `json:"licence"`
	Tags        []string `json:"tags,omitempty"`
	AltText     string   `json:"alt_text,omitempty"`
	Transcript  string   `json:"transcript,omitempty"`
}

// File is one file of an item.
type File struct {
	Path      string `json:"path"` // logical path in the OCFL object, "files/<safe name>"
	Name      string `json:"name"` // the name people gave it
	Size      int64  `json:"size"`
	MediaType string `json:"media_type"`
	SHA256    string `json:"sha256"`
	SHA512    string `json:"sha512"`
	Upload    string `json:"upload,omitempty"` // the upload session it came from, if any
}

// Item is the whole record, stored as metadata.json in each OCFL version.
type Item struct {
	ID     string `json:"id"`
	Status Status `json:"status"`
	Fields
	Files []File `json:"files"`
	// TypeGuessed: the type was taken from the first file and nobody has chosen one since;
	// it follows the files as they change.
	TypeGuessed bool       `json:"type_guessed,omitempty"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	// Review records who submitted the item, who approved it and why it was sent back.
	Review    review.State `json:"review"`
	CreatedAt time.Time    `json:"created_at"`
	CreatedBy string       `json:"created_by"`
	UpdatedAt time.Time    `json:"updated_at"`
	UpdatedBy string       `json:"updated_by"`
	// Version is the OCFL head version ("v3"); writers must name it (If-Match).
	Version string `json:"version"`
}

// Period is a parsed period: a date, a year or a range of years.
type Period struct {
	From, To int // years, inclusive
}

var (
	yearRe  = regexp.MustCompile(`^(\d{4})$`)
	rangeRe = regexp.MustCompile(`^(\d{4})\s*[-–—~至]\s*(\d{4})$`)
	monthRe = regexp.MustCompile(`^(\d{4})-(\d{2})$`)
	dayRe   = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})$`)
)

// ParsePeriod reads "1958", "1958-1966", "1958–1966", "1958-03" or "1958-03-01".
func ParsePeriod(s string, now time.Time) (Period, bool) {
	s = strings.TrimSpace(s)
	maxYear := now.Year() + 1
	year := func(v string) (int, bool) {
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= 1000 && n <= maxYear
	}
	if m := yearRe.FindStringSubmatch(s); m != nil {
		y, ok := year(m[1])
		return Period{y, y}, ok
	}
	if m := rangeRe.FindStringSubmatch(s); m != nil {
		a, ok1 := year(m[1])
		b, ok2 := year(m[2])
		return Period{a, b}, ok1 && ok2 && a <= b
	}
	if m := monthRe.FindStringSubmatch(s); m != nil {
		_, err := time.Parse("2006-01", s)
		y, ok := year(m[1])
		return Period{y, y}, ok && err == nil
	}
	if m := dayRe.FindStringSubmatch(s); m != nil {
		_, err := time.Parse("2006-01-02", s) // refuses 1958-02-30
		y, ok := year(m[1])
		return Period{y, y}, ok && err == nil
	}
	return Period{}, false
}

// Decade is the decade of the period's start, e.g. 1950.
func (p Period) Decade() int { return p.From / 10 * 10 }

const (
	maxList     = 30
	maxListItem = 120
)

// Normalize trims whitespace and drops empty list entries.
func (f *Fields) Normalize() {
	trim := func(s *string) { *s = strings.TrimSpace(*s) }
	for _, s := range []*string{&f.Title, &f.Description, &f.Publisher, &f.Date, &f.Type, &f.Format, &f.Identifier,
		&f.Source, &f.Language, &f.Relation, &f.Coverage, &f.Rights, &f.Theme, &f.Unit, &f.Place.Name, &f.Period,
		&f.Licence, &f.AltText, &f.Transcript} {
		trim(s)
	}
	clean := func(list []string) []string {
		var out []string
		for _, v := range list {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	f.Creator, f.Subject, f.Contributor, f.Tags = clean(f.Creator), clean(f.Subject), clean(f.Contributor), clean(f.Tags)
}

// Validate checks the fields against the vocabularies and the unit tree; every problem is
// reported with its field.
func (f Fields) Validate(v *Vocabulary, tree *units.Tree, now time.Time) error {
	return f.validate(v, tree, now, false)
}

// validate is Validate, with the theme optional for a draft made from files.
func (f Fields) validate(v *Vocabulary, tree *units.Tree, now time.Time, themeOptional bool) error {
	var errs validate.Errors
	errs.Text("title", f.Title, true, 1, 200)
	errs.Text("description", f.Description, false, 0, 20000)
	for _, sf := range []struct {
		name  string
		value string
	}{{"publisher", f.Publisher}, {"format", f.Format}, {"identifier", f.Identifier}, {"source", f.Source},
		{"relation", f.Relation}, {"coverage", f.Coverage}, {"rights", f.Rights}, {"place.name", f.Place.Name}} {
		errs.Text(sf.name, sf.value, false, 0, 500)
	}
	errs.Text("alt_text", f.AltText, false, 0, 1000)
	if utf8.RuneCountInString(f.Transcript) > 200000 {
		errs.Add("transcript", "too_long", 200000)
	}
	for _, lf := range []struct {
		name string
		list []string
	}{{"creator", f.Creator}, {"subject", f.Subject}, {"contributor", f.Contributor}, {"tags", f.Tags}} {
		if len(lf.list) > maxList {
			errs.Add(lf.name, "too_many", maxList)
			continue
		}
		for i, v := range lf.list {
			errs.Text(fmt.Sprintf("%s[%d]", lf.name, i), v, false, 0, maxListItem)
		}
	}
	if f.Date != "" {
		if _, ok := ParsePeriod(f.Date, now); !ok || rangeRe.MatchString(f.Date) {
			errs.Add("date", "date")
		}
	}
	if f.Period != "" {
		if _, ok := ParsePeriod(f.Period, now); !ok {
			errs.Add("period", "period")
		}
	}
	vocab := func(field, value string, list []Term, required bool) {
		switch {
		case value == "" && required:
			errs.Add(field, "required")
		case value == "":
		default:
			if _, ok := Find(list, value); !ok {
				errs.Add(field, "vocabulary")
			}
		}
	}
	vocab("type", f.Type, v.Types, true)
	vocab("theme", f.Theme, v.Themes, !themeOptional)
	vocab("licence", f.Licence, v.Licences, true)
	vocab("language", f.Language, v.Languages, false)
	if f.Unit == "" {
		errs.Add("unit", "required")
	} else if _, ok := tree.Get(f.Unit); !ok {
		errs.Add("unit", "unit")
	}
	if f.Place.Lat != nil || f.Place.Lon != nil {
		if f.Place.Lat == nil || f.Place.Lon == nil {
			errs.Add("place", "coordinates")
		} else if lat, lon := *f.Place.Lat, *f.Place.Lon; math.IsNaN(lat) || lat < -90 || lat > 90 || math.IsNaN(lon) || lon < -180 || lon > 180 {
			errs.Add("place", "coordinates")
		}
	}
	return errs.Err()
}

// ChangedFields names the fields that differ between a and b, for the history.
func ChangedFields(a, b Fields) []string {
	var out []string
	ja, jb := fieldMap(a), fieldMap(b)
	for _, k := range fieldOrder {
		if ja[k] != jb[k] {
			out = append(out, k)
		}
	}
	return out
}

var fieldOrder = []string{"title", "creator", "subject", "description", "publisher", "contributor", "date", "type",
	"format", "identifier", "source", "language", "relation", "coverage", "rights", "theme", "unit", "place", "period",
	"licence", "tags", "alt_text", "transcript"}

func fieldMap(f Fields) map[string]string {
	p := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	j := func(l []string) string { return strings.Join(l, "\x1f") }
	return map[string]string{
		"title": f.Title, "creator": j(f.Creator), "subject": j(f.Subject), "description": f.Description,
		"publisher": f.Publisher, "contributor": j(f.Contributor), "date": f.Date, "type": f.Type, "format": f.Format,
		"identifier": f.Identifier, "source": f.Source, "language": f.Language, "relation": f.Relation,
		"coverage": f.Coverage, "rights": f.Rights, "theme": f.Theme, "unit": f.Unit,
		"place": f.Place.Name + "|" + p(f.Place.Lat) + "|" + p(f.Place.Lon), "period": f.Period,
		"licence": f.Licence, "tags": j(f.Tags), "alt_text": f.AltText, "transcript": f.Transcript,
	}
}
