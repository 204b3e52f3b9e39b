package web

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/internal/i18n"
)

// The page data of the Shizuishan Memory pages (PageData.Data). The server fills them;
// names of vocabulary terms stay bilingual here and are picked per language by the templates.

// Term is one entry of a controlled vocabulary with both of its names.
type Term struct {
	ID, ZH, EN string
	Download   bool // licences: whether files may be downloaded
}

// Vocab is the controlled vocabularies of the library.
type Vocab struct {
	Themes, Types, Licences, Languages []Term
}

// Card is an item as a card or a line in a list.
type Card struct {
	ID, Title string
	Theme     Term
	Type      Term
	Thumb     string // URL of a thumbnail, "" for the placeholder
}

// HomeData is the data of the home page.
type HomeData struct {
	Themes   []Term
	Trending []Card
	Latest   []Card
	Continue []CourseCard // the signed-in learner's unfinished courses
	Courses  []CourseCard // recently published courses
	// LiveLectures are on air now; Lectures are the next few upcoming ones.
	LiveLectures []LectureCard
	Lectures     []LectureCard
	// Exhibitions is how many exhibitions are open now.
	Exhibitions int64
}

// SearchData is the data of /memory, the server-rendered search.
type SearchData struct {
	Q, Sort    string
	Sorts      []string // relevance, newest, views
	Hidden     []Param  // current filters, kept when the query or sort changes
	Problems   []string // names of the parameters that could not be read
	Failed     bool     // the search engine did not answer
	Filters    []Filter // active filters, each with a link that removes it
	Facets     []Facet
	Hits       []Hit
	Total      int64
	Page       int
	TotalPages int
	Pages      []PageLink
	PrevURL    string
	NextURL    string
	// Suggest is set when nothing was found or nothing asked yet; ClearFiltersURL when
	// filters are set then, to search again without them.
	Suggest *Suggestions
	// Exhibitions are the cloud exhibitions the text finds too (the site's one search box).
	Exhibitions     []ExhibitionCard
	ClearFiltersURL string
}

// Suggestions are what an empty search offers: the themes, each a link to its filter, and
// the items people look at most.
type Suggestions struct {
	Themes  []Term
	Popular []Card
}

// Param is one query parameter.
type Param struct{ Name, Value string }

// ConsoleData is the console home: the workbench's filters as the URL gives them (so that a
// view can be bookmarked), and the choices each filter offers.
type ConsoleData struct {
	Filter        map[string]string // q, status, type, theme, unit, created_from, created_to, updated_from, updated_to
	Types, Themes []Term
	Units         []Param // unit id and path of names
	Statuses      []string
}

// Filter is an active filter and the URL without it.
type Filter struct {
	Facet, Label, RemoveURL string
}

// Facet is one facet of the sidebar (type, theme, district, decade, format, has_media).
type Facet struct {
	Name    string
	Options []FacetOption
}

// FacetOption is one value of a facet with its count and the URL that selects (or, when
// selected, removes) it.
type FacetOption struct {
	Label    string
	Count    int
	Selected bool
	URL      string
}

// Hit is one search result. Title and Snippet are escaped HTML with <mark> around matches.
type Hit struct {
	ID       string
	Title    template.HTML
	Snippet  template.HTML
	Theme    Term
	Type     Term
	District string
	Period   string
	Thumb    string
	HasMedia bool
	Views    int64
}

// PageLink is one link of the pagination; Gap marks an ellipsis.
type PageLink struct {
	Number  int
	URL     string
	Current bool
	Gap     bool
}

// ItemData is the data of an item page and of the console's item form.
type ItemData struct {
	ID, Version, Status string
	Title               string
	Description         string
	Fields              []FieldRow // the Dublin Core fields that are set, in order
	Theme, Type         Term
	Licence             Term
	Language            Term
	Unit                string // display name of the unit
	Place               string
	Coordinates         string // "38.9800, 106.3800" or ""
	Period              string
	AltText             string
	Transcript          string
	Tags                []string
	Files               []FileView
	CanDownload         bool        // the licence lets visitors download the files
	Views               *ViewCounts // nil when the counter could not be read
	Staff               bool        // the viewer may edit the item
	Transitions         []string    // statuses the item may move to
	History             []Version
	Form                ItemForm    // console: the values of the form
	Vocab               Vocab       // console: the choices of the selects
	UnitOptions         []Param     // console: the units the librarian may choose (id, label)
	Replay              *ReplayView // the lecture a replay item came from, and its chat
	Fixity              *FixityView // console: the last fixity check; nil when it could not be read
	IIIFManifest        string      // the address of its IIIF Manifest, for viewers; "" when it has none
}

// FixityView is the last check that an item's preserved files still match their digests.
type FixityView struct {
	Checked bool
	At      time.Time
	OK      bool
	Damaged []string // one line per damaged file: version, path, what happened
}

// FieldRow is one labelled metadata value.
type FieldRow struct {
	Key    string // i18n key of the label, "dc.creator"
	Values []string
}

// FileView is one file of an item.
type FileView struct {
	Path, Name, MediaType string
	Kind                  string // image, audio, video, pdf or other
	URL                   string // inline URL
	Download              string // download URL, "" when the licence forbids it
	Size                  int64
	// For transcoded video and audio: the HLS master playlist, the poster and the captions.
	Stream   string
	Poster   string
	Captions []CaptionTrack
}

// CaptionTrack is one language of captions for a player's <track>.
type CaptionTrack struct{ Lang, Label, URL string }

// HasStream reports whether a file of the item plays from an HLS stream (the page then loads
// hls.js for browsers that do not play HLS themselves).
func (d *ItemData) HasStream() bool {
	for _, f := range d.Files {
		if f.Stream != "" {
			return true
		}
	}
	return false
}

// ViewCounts are the view counts shown on an item page.
type ViewCounts struct{ Total, Today int64 }

// Version is one line of an item's history.
type Version struct {
	Version string
	Created time.Time
	User    string
	Message string
	Current bool
}

// ItemForm holds the text of every control of the console's item form.
type ItemForm struct {
	Title, Creator, Subject, Description, Publisher, Contributor, Date, Type, Format string
	Identifier, Source, Language, Relation, Coverage, Rights, Theme, Unit            string
	PlaceName, Lat, Lon, Period, Licence, Tags, AltText, Transcript                  string
}

// CollectionData is the data of a collection page (the items are loaded by the script).
type CollectionData struct {
	ID    string
	Title string // "" when the server could not read the collection; the script tries again
}

// TermName is the name of a term in lang; the id when the term is unknown.
func TermName(lang i18n.Lang, t Term) string {
	switch {
	case lang == i18n.EN && t.EN != "":
		return t.EN
	case t.ZH != "":
		return t.ZH
	}
	return t.ID
}

// fileSize writes a byte count for people: "1.5 MB".
func fileSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "KMGTP"[exp])
}

// formatTime writes a time in China Standard Time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04")
}

// statusKey is the i18n key of a workflow status.
func statusKey(status string) string { return "status." + status }

// join writes a list with the separator of lang.
func join(lang i18n.Lang, list []string) string {
	if lang == i18n.EN {
		return strings.Join(list, ", ")
	}
	return strings.Join(list, "、")
}
