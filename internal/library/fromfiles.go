package library

import (
	"context"
	"mime"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/validate"
	"github.com/shizuishan/culturecloud/media/upload"
)

// FileDraft is the first of the files a librarian dropped to make a new item: the item
// starts as a draft named and typed after it.
type FileDraft struct {
	Name      string `json:"name"`
	MediaType string `json:"media_type"`
}

// draftLicence is the licence of a draft made from files until someone sets one: the status
// of its rights is not known yet, and so the public may not download it.
const draftLicence = "rights-unknown"

var (
	// titleNoise is what file names use for spaces.
	titleNoise = regexp.MustCompile(`[_\s]+|-{2,}|\.{2,}`)
	maxTitle   = 200
)

// TitleFromFileName is a file's name made into a title: without folder and extension, with
// underscores and runs of dashes or dots as spaces ("IMG_0012_大武口老街.jpg" → "IMG 0012 大武口老街").
func TitleFromFileName(name string) string {
	name = path.Base(strings.ReplaceAll(strings.TrimSpace(name), `\`, "/"))
	if ext := path.Ext(name); ext != name {
		name = strings.TrimSuffix(name, ext)
	}
	title := strings.TrimSpace(titleNoise.ReplaceAllString(name, " "))
	if utf8.RuneCountInString(title) > maxTitle {
		title = strings.TrimSpace(string([]rune(title)[:maxTitle]))
	}
	if title == "." || title == "/" {
		return ""
	}
	return title
}

// TypeForFile is the type (DCMI) that a file of this media type (or, when that says nothing,
// of this name's extension) makes an item: "" when it says nothing either.
func TypeForFile(mediaType, name string) string {
	mt, _, _ := mime.ParseMediaType(mediaType)
	if mt == "" || mt == "application/octet-stream" {
		mt = upload.TypeByExtension(path.Ext(name))
	}
	switch {
	case strings.HasPrefix(mt, "image/"):
		return "StillImage"
	case strings.HasPrefix(mt, "video/"):
		return "MovingImage"
	case strings.HasPrefix(mt, "audio/"):
		return "Sound"
	case strings.HasPrefix(mt, "text/"), mt == "application/pdf", mt == "application/epub+zip", mt == "application/msword",
		mt == "application/rtf", strings.HasPrefix(mt, "application/vnd.openxmlformats-officedocument.wordprocessingml"),
		strings.HasPrefix(mt, "application/vnd.oasis.opendocument.text"):
		return "Text"
	}
	return ""
}

// FormatOfFiles is the format (dc:format) that files give an item: their media types, each
// once, in the order of the files.
func FormatOfFiles(files []File) string {
	var types []string
	for _, f := range files {
		if f.MediaType != "" && !slices.Contains(types, f.MediaType) {
			types = append(types, f.MediaType)
		}
	}
	format := strings.Join(types, ", ")
	for len(format) > 500 { // the field's limit; a file's own type is never that long
		types = types[:len(types)-1]
		format = strings.Join(types, ", ")
	}
	return format
}

// followFiles keeps the format and a guessed type in step with the files, after they changed
// from before: the format when it was what the files gave (or empty), the type when it was
// guessed from the first file and nobody has chosen one since.
func (it *Item) followFiles(before []File) {
	if it.Format == "" || it.Format == FormatOfFiles(before) {
		it.Format = FormatOfFiles(it.Files)
	}
	if it.TypeGuessed && len(it.Files) > 0 {
		if t := TypeForFile(it.Files[0].MediaType, it.Files[0].Name); t != "" {
			it.Type = t
		}
	}
}

// CreateFromFile stores a new draft for files dropped by a librarian: what f leaves blank is
// taken from the first file (title, type) or given the draft's defaults (the actor's unit,
// rights unknown). The theme may stay blank in the draft; it is needed before review.
func (s *Service) CreateFromFile(ctx context.Context, actor accounts.Account, f Fields, file FileDraft) (Item, error) {
	tree, err := s.tree(ctx)
	if err != nil {
		return Item{}, err
	}
	f.Normalize()
	guessed := false
	if f.Title == "" {
		f.Title = TitleFromFileName(file.Name)
	}
	if f.Type == "" {
		f.Type = TypeForFile(file.MediaType, file.Name)
		guessed = f.Type != ""
	}
	if f.Unit == "" {
		f.Unit = actor.Unit
	}
	if f.Licence == "" {
		f.Licence = draftLicence
	}
	if err := f.validate(s.vocab, tree, s.now(), f.Theme == ""); err != nil {
		return Item{}, err
	}
	if !CanEdit(actor, f.Unit, tree) {
		return Item{}, ErrForbidden
	}
	now := s.now().UTC().Truncate(time.Second)
	it := Item{ID: newID(), Status: Draft, Fields: f, TypeGuessed: guessed, Files: []File{}, CreatedAt: now, CreatedBy: actor.Name,
		UpdatedAt: now, UpdatedBy: actor.Name}
	return s.commit(ctx, it, nil, "", actor, revision{message: "created from file " + file.Name})
}

// readyForReview reports what a record lacks before it may be reviewed (a draft made from
// files may have no theme yet).
func (it *Item) readyForReview() error {
	if it.Theme == "" {
		return validate.Errors{{Field: "theme", Code: "required"}}
	}
	return nil
}
