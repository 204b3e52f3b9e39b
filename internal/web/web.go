// Package web is the server-rendered shell of the site: the page templates, the style sheet
// and the one script. Pages are rendered from PageData; everything a page shows in words
// comes from package i18n, Chinese first.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"

	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/units"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Pages are the template names a PageData.Page may hold.
func Pages() []string {
	return []string{"home", "login", "register", "account", "admin_users", "admin_units", "notfound", "error",
		"memory_search", "memory_item", "memory_collection", "console_home", "console_item",
		"course_catalogue", "course_page", "lesson", "certificate", "console_courses", "console_course",
		"lectures", "lecture", "studio", "console_lectures", "console_lecture",
		"account_developer", "password_reset", "password_new", "certificate_verify",
		"exhibitions", "exhibition", "console_exhibitions", "console_exhibition"}
}

// BarePages are pages without the site's frame (header, menu, footer): the embeddable
// players that other sites show in a frame. Their template defines "layout" itself.
func BarePages() []string { return []string{"embed"} }

// partials are the shared template files some pages use besides their own.
var partials = map[string][]string{"lecture": {"live_chat.html", "live_player.html", "walkthrough.html"},
	"studio": {"live_chat.html", "walkthrough.html"}, "embed": {"live_player.html", "walkthrough.html"},
	"memory_search": {"facet_panel.html"}, "course_catalogue": {"facet_panel.html"}, "exhibitions": {"facet_panel.html"},
	"exhibition": {"walkthrough.html"}, "memory_item": {"walkthrough.html"}}

// Roles are the account roles the pages know how to name.
func Roles() []string {
	return []string{"citizen", "librarian", "lecturer", "admin"}
}

// PageData is everything a page template receives.
type PageData struct {
	Lang   i18n.Lang    // i18n.ZH or i18n.EN
	Page   string       // one of Pages()
	Path   string       // request path, for the language switch links
	Viewer *Viewer      // nil for anonymous visitors
	CSRF   string       // CSRF token of the session ("" when anonymous)
	Nonce  string       // CSP nonce for the one inline <script> in <head>
	Units  []units.Unit // organisation units (admin pages)
	Next   string       // login page: local path to go to after login; "" means "/"
	Status int          // notfound and error pages
	// Data is the page's own data: *HomeData, *SearchData, *ItemData or *CollectionData
	// (library.go); nil when the page has none.
	Data any
}

// Viewer is the signed-in account looking at the page.
type Viewer struct {
	Name, DisplayName, Role, Unit string // Role is citizen|librarian|lecturer|admin
}

// Renderer holds the parsed templates, one set per page.
type Renderer struct {
	pages map[string]*template.Template
}

// New parses the embedded templates once.
func New() (*Renderer, error) {
	funcs := template.FuncMap{
		"t":             func(lang i18n.Lang, key string, args ...any) string { return i18n.T(lang, key, args...) },
		"unitName":      unitName,
		"roleName":      roleName,
		"kindName":      kindName,
		"unitTree":      unitTree,
		"unitOptions":   unitOptions,
		"unitKinds":     func() []string { return units.Kinds() },
		"roles":         func() []string { return Roles() },
		"asset":         assetPath(),
		"term":          TermName,
		"fileSize":      fileSize,
		"formatTime":    formatTime,
		"statusKey":     statusKey,
		"join":          join,
		"list":          func(v ...string) []string { return v },
		"add":           func(a, b int) int { return a + b },
		"clock":         Clock,
		"count":         FormatCount,
		"addf":          func(a, b float64) float64 { return a + b },
		"lectureTime":   LectureTime,
		"lectureSpan":   LectureSpan,
		"isoTime":       isoTime,
		"beijingMinute": beijingMinute,
		"stateKey":      lectureStateKey,
		"lessonLabel":   LessonLabel,
		"walk":          func(lang i18n.Lang, d *ExhibitionData) WalkView { return WalkView{Lang: lang, Data: d} },
		"tour": func(lang i18n.Lang, d *ExhibitionData, lecture, mode, track, video string) TourView {
			return TourView{Lang: lang, Data: d, Lecture: lecture, Mode: mode, Track: track, Video: video}
		},
	}
	layout, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: layout: %w", err)
	}
	r := &Renderer{pages: make(map[string]*template.Template, len(Pages())+len(BarePages()))}
	for _, p := range append(Pages(), BarePages()...) {
		set, err := layout.Clone()
		if err != nil {
			return nil, fmt.Errorf("web: page %s: %w", p, err)
		}
		files := []string{"templates/" + p + ".html"}
		for _, f := range partials[p] {
			files = append(files, "templates/"+f)
		}
		if _, err := set.ParseFS(templateFS, files...); err != nil {
			return nil, fmt.Errorf("web: page %s: %w", p, err)
		}
		r.pages[p] = set
	}
	return r, nil
}

// Render writes the layout with d.Page's content. Nothing is written when rendering fails.
func (r *Renderer) Render(w io.Writer, d PageData) error {
	set, ok := r.pages[d.Page]
	if !ok {
		return fmt.Errorf("web: unknown page %q", d.Page)
	}
	if d.Lang != i18n.EN {
		d.Lang = i18n.ZH
	}
	if d.Next == "" {
		d.Next = "/"
	}
	if d.Path == "" {
		d.Path = "/"
	}
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, "layout", d); err != nil {
		return fmt.Errorf("web: render %s: %w", d.Page, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// Static is the embedded static/ folder (app.css, app.js), to be served at /static/.
func Static() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the folder is embedded above; this cannot happen
	}
	return sub
}

// assetPath returns the template func that names a static file with a content hash, so
// browsers may cache it for long and still see every new version.
func assetPath() func(name string) string {
	versions := map[string]string{}
	_ = fs.WalkDir(Static(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Static(), p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		versions[p] = hex.EncodeToString(sum[:6])
		return nil
	})
	return func(name string) string {
		return "/static/" + name + "?v=" + versions[name]
	}
}

func unitName(lang i18n.Lang, u units.Unit) string {
	if lang == i18n.EN && u.NameEN != "" || u.NameZH == "" {
		return u.NameEN
	}
	return u.NameZH
}

func roleName(lang i18n.Lang, role string) string {
	if role == "" {
		return ""
	}
	return i18n.T(lang, "role."+role)
}

func kindName(lang i18n.Lang, kind string) string {
	return i18n.T(lang, "kind."+kind)
}

// unitNode is one unit of the tree with its children, for the nested lists.
type unitNode struct {
	Lang     i18n.Lang
	Unit     units.Unit
	Children []unitNode
}

// unitTree nests the flat list; a unit whose parent is not in the list is a root.
func unitTree(lang i18n.Lang, list []units.Unit) []unitNode {
	known := make(map[string]bool, len(list))
	for _, u := range list {
		known[u.ID] = true
	}
	seen := map[string]bool{}
	var build func(parent string, depth int) []unitNode
	build = func(parent string, depth int) []unitNode {
		var out []unitNode
		for _, u := range list {
			isChild := u.Parent == parent
			if parent == "" {
				isChild = u.Parent == "" || !known[u.Parent]
			}
			if !isChild || seen[u.ID] || depth > 64 {
				continue
			}
			seen[u.ID] = true
			out = append(out, unitNode{Lang: lang, Unit: u, Children: build(u.ID, depth+1)})
		}
		return out
	}
	return build("", 0)
}

// unitOption is one <option> of a unit select: the id and the names from the root down.
type unitOption struct {
	ID    string
	Label string
}

// unitOptions lists the units depth first, each labelled "parent / child".
func unitOptions(lang i18n.Lang, list []units.Unit) []unitOption {
	var out []unitOption
	var walk func(nodes []unitNode, prefix string)
	walk = func(nodes []unitNode, prefix string) {
		for _, n := range nodes {
			label := prefix + unitName(lang, n.Unit)
			out = append(out, unitOption{ID: n.Unit.ID, Label: label})
			walk(n.Children, label+" / ")
		}
	}
	walk(unitTree(lang, list), "")
	return out
}
