package web

import "github.com/shizuishan/culturecloud/internal/i18n"

// The page data of the cloud exhibitions (PageData.Data): the list, the walkthrough and the
// curators' console.

// ExhibitionsData is the data of /exhibitions, the server-rendered exhibition search.
type ExhibitionsData struct {
	Q          string
	Hidden     []Param
	Failed     bool
	Filters    []Filter
	Facets     []Facet
	Cards      []ExhibitionCard
	Total      int64
	Page       int
	TotalPages int
	PrevURL    string
	NextURL    string
}

// ExhibitionCard is an exhibition in a list.
type ExhibitionCard struct {
	ID, Title, Subtitle, Curator string
	Theme                        Term
	Cover                        string // URL of the cover image, "" for the placeholder
	Opens, Closes                string // days, YYYY-MM-DD
	Permanent, OpenNow           bool
	Exhibits                     int
}

// ExhibitionData is the data of the walkthrough, /exhibitions/{id}.
type ExhibitionData struct {
	ExhibitionCard
	Introduction, Unit, Status string
	Sections                   []SectionView
	Total                      int // exhibits in all sections
	Staff                      bool
	Notes                      []ExhibitionNote // for the curators: what the public no longer sees
	Visits                     *ViewCounts      // nil when not published or the counter could not be read
}

// HasPanorama reports whether a room of the walkthrough is a 720° hall (the page then loads
// the panorama viewer).
func (d *ExhibitionData) HasPanorama() bool {
	for _, s := range d.Sections {
		if s.Panorama != nil {
			return true
		}
	}
	return false
}

// WalkView is the argument of the walkthrough partial (walkthrough.html): the page's
// language and the exhibition.
type WalkView struct {
	Lang i18n.Lang
	Data *ExhibitionData
}

// TourView is the argument of the tour partial (walkthrough.html): a guided tour's
// walkthrough on one of the tour's pages.
type TourView struct {
	Lang    i18n.Lang
	Data    *ExhibitionData
	Lecture string // the tour's lecture id
	Mode    string // "guide" (the studio) or "viewer"
	Track   string // a replay's kept positions as JSON ([]replays.Stop), "" when none
	Video   string // CSS selector of the replay's video that the track follows
}

// SectionView is one room of the walkthrough.
type SectionView struct {
	N            int // 0-based
	Title, Intro string
	First        int // the global number (0-based) of its first exhibit
	Exhibits     []ExhibitView
	Panorama     *PanoramaView // a 720° hall; nil for a gallery
}

// PanoramaView is the scene of a panorama room, with its hotspots and links, in degrees.
type PanoramaView struct {
	Scene    string // URL of the equirectangular image
	Alt      string
	Hotspots []HotspotView
	Links    []LinkView
}

// HotspotView is a place in the scene that opens an exhibit of the room.
type HotspotView struct {
	N, Exhibit int // the exhibit's global number and its place in the room
	Label      string
	Yaw, Pitch float64
}

// LinkView is a place in the scene that leads to another panorama room.
type LinkView struct {
	Section    int
	Title      string
	Yaw, Pitch float64
}

// ExhibitView is one exhibit of the walkthrough.
type ExhibitView struct {
	N                     int    // 0-based, across the sections
	Section, Index        int    // its room and its place in the room, as a guide's position names it
	Key                   string // what its views and dwell are counted under (exhibitions.ExhibitKey)
	Item, ItemTitle       string
	Label, TextZH, TextEN string
	// Image is a plain image of the exhibit, shown when the deep-zoom viewer is not there;
	// TileSource is its IIIF info.json; Region is "x,y,w,h" or "".
	Image, TileSource, Region string
	Alt                       string
	Audio, AudioTitle         string // the audio guide's file URL and title, "" without one
	Captions                  string // URL of the audio guide's WebVTT captions, "" without
	Transcript                string
}

// ExhibitionNote is a note for the curators, in words.
type ExhibitionNote struct {
	Field, Item, Text string
}

// ConsoleExhibitionsData lists the exhibitions a curator may edit.
type ConsoleExhibitionsData struct {
	Rows []ConsoleExhibitionRow
}

// ConsoleExhibitionRow is one exhibition in the curators' list.
type ConsoleExhibitionRow struct {
	ID, Title, Status, Updated string
	Sections, Exhibits, Notes  int
}

// ConsoleExhibitionData is the exhibition editor.
type ConsoleExhibitionData struct {
	ID, Version, Status string
	Form                ExhibitionForm
	Sections            string // the sections as JSON, for the editor's script
	Themes              []Term
	UnitOptions         []Param
	Transitions         []string
	Notes               []ExhibitionNote
	Stats               *ExhibitionStats // nil for a new exhibition, or when the counter cannot be read
}

// ExhibitionStats is the curators' view of the counts: visits per day beside exhibit views
// per day (A and B of the chart), and per exhibit its views and dwell histogram.
type ExhibitionStats struct {
	Visits, Unique, ExhibitViews int64
	Chart                        DayChart
	Buckets                      []string // the dwell buckets' ids, shortest first
	Dwell                        DwellChart
	Exhibits                     []ExhibitStatsRow
	Tours                        []TourStatsRow
}

// TourStatsRow is one guided tour of the exhibition with its audience.
type TourStatsRow struct {
	ID, Title, State, Start      string // Start in Beijing time, "2006-01-02 15:04"
	Views, Unique, Peak, Current int64
}

// ExhibitStatsRow is one exhibit's figures for the table.
type ExhibitStatsRow struct {
	Label         string
	Views, Unique int64
	Dwell         []int64 // per bucket, as Buckets
}

// ExhibitionForm is the exhibition's own fields in the editor.
type ExhibitionForm struct {
	Title, Subtitle, Curator, Unit, Theme, Introduction string
	CoverItem, CoverFile, Opens, Closes                 string
	Permanent                                           bool
}
