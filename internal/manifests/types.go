// Package manifests describes the library to IIIF viewers and aggregators in the
// Presentation API 3.0: a Manifest for each published item (one Canvas per image, audio or
// video file), a Collection for each curated collection and for each theme, and one
// Collection of the whole library. Any IIIF viewer (Mirador, Universal Viewer) can show
// them, and an aggregator can harvest the library by walking the Collections.
//
// Only published items are described: a Manifest is public and cached by others.
package manifests

// Context is the JSON-LD context of every Presentation 3 document.
const Context = "http://iiif.io/api/presentation/3/context.json"

// MediaType is the answer's Content-Type, with the profile the specification asks for.
const MediaType = `application/ld+json;profile="` + Context + `"`

// LanguageMap is a IIIF language map: language code → values.
type LanguageMap map[string][]string

// Entry is a label and a value, for metadata and requiredStatement.
type Entry struct {
	Label LanguageMap `json:"label"`
	Value LanguageMap `json:"value"`
}

// Service is an image service a viewer can ask for tiles.
type Service struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Profile string `json:"profile"`
}

// Content is an external resource: an image, a sound, a video, a web page, a record.
type Content struct {
	ID       string      `json:"id"`
	Type     string      `json:"type"`
	Format   string      `json:"format,omitempty"`
	Label    LanguageMap `json:"label,omitempty"`
	Language []string    `json:"language,omitempty"`
	Profile  string      `json:"profile,omitempty"`
	Width    int         `json:"width,omitempty"`
	Height   int         `json:"height,omitempty"`
	Duration float64     `json:"duration,omitempty"`
	Service  []Service   `json:"service,omitempty"`
	// Items are the alternatives of a Choice (an HLS stream or an MP4 file).
	Items []Content `json:"items,omitempty"`
}

// Agent is the institution that provides a resource.
type Agent struct {
	ID       string      `json:"id"`
	Type     string      `json:"type"`
	Label    LanguageMap `json:"label"`
	Homepage []Content   `json:"homepage,omitempty"`
}

// Annotation paints its body onto its target Canvas.
type Annotation struct {
	ID         string  `json:"id"`
	Type       string  `json:"type"`
	Motivation string  `json:"motivation"`
	Body       Content `json:"body"`
	Target     string  `json:"target"`
}

// AnnotationPage holds the painting annotations of a Canvas.
type AnnotationPage struct {
	ID    string       `json:"id"`
	Type  string       `json:"type"`
	Items []Annotation `json:"items"`
}

// Canvas is one view of an item: an image, or the timeline of a sound or video.
type Canvas struct {
	ID        string           `json:"id"`
	Type      string           `json:"type"`
	Label     LanguageMap      `json:"label"`
	Width     int              `json:"width,omitempty"`
	Height    int              `json:"height,omitempty"`
	Duration  float64          `json:"duration,omitempty"`
	Thumbnail []Content        `json:"thumbnail,omitempty"`
	Items     []AnnotationPage `json:"items"`
}

// Ref points at a Canvas (or part of one, by a media fragment) or at a nested Range.
type Ref struct {
	ID    string      `json:"id"`
	Type  string      `json:"type"`
	Label LanguageMap `json:"label,omitempty"`
	Items []Ref       `json:"items,omitempty"`
}

// Descriptive are the properties Manifests and Collections share.
type Descriptive struct {
	Context           string      `json:"@context,omitempty"`
	ID                string      `json:"id"`
	Type              string      `json:"type"`
	Label             LanguageMap `json:"label"`
	Summary           LanguageMap `json:"summary,omitempty"`
	Metadata          []Entry     `json:"metadata,omitempty"`
	Rights            string      `json:"rights,omitempty"`
	RequiredStatement *Entry      `json:"requiredStatement,omitempty"`
	Provider          []Agent     `json:"provider,omitempty"`
	Thumbnail         []Content   `json:"thumbnail,omitempty"`
	Homepage          []Content   `json:"homepage,omitempty"`
	SeeAlso           []Content   `json:"seeAlso,omitempty"`
	NavDate           string      `json:"navDate,omitempty"`
}

// Manifest is one item (or one exhibition) for a viewer.
type Manifest struct {
	Descriptive
	Items []Canvas `json:"items"`
	// Structures are the Ranges: an exhibition's sections.
	Structures []Ref `json:"structures,omitempty"`
}

// Member is an entry of a Collection: a Manifest or a nested Collection.
type Member struct {
	ID        string      `json:"id"`
	Type      string      `json:"type"`
	Label     LanguageMap `json:"label"`
	Thumbnail []Content   `json:"thumbnail,omitempty"`
}

// Collection lists Manifests or Collections.
type Collection struct {
	Descriptive
	Items []Member `json:"items"`
}
