package lectures_test

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/configs"
	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/ocfl"
	"github.com/shizuishan/culturecloud/internal/review"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
	"github.com/shizuishan/culturecloud/storage"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The people of the tests. zhang.lecturer works for the Dawukou culture centre and gives
// talks for the Dawukou library, a sibling unit he does not manage.
var (
	admin     = accounts.Account{Name: "admin", DisplayName: "管理员", Role: accounts.Admin}
	librarian = accounts.Account{Name: "li.librarian", DisplayName: "李馆员", Role: accounts.Librarian, Unit: "dwk"}
	huinong   = accounts.Account{Name: "wang.hn", DisplayName: "王馆员", Role: accounts.Librarian, Unit: "hn"}
	lecturer  = accounts.Account{Name: "zhang.lecturer", DisplayName: "张老师", Role: accounts.Lecturer, Unit: "dwk-culture-centre"}
	// ma.lecturer lectures for the whole Dawukou district: a colleague of zhang.lecturer who
	// may give talks of the Dawukou library but not run zhang's.
	colleague = accounts.Account{Name: "ma.lecturer", DisplayName: "马老师", Role: accounts.Lecturer, Unit: "dwk"}
	retired   = accounts.Account{Name: "old.lecturer", DisplayName: "老讲师", Role: accounts.Lecturer, Unit: "dwk", Disabled: true}
	citizen   = accounts.Account{Name: "citizen", DisplayName: "市民", Role: accounts.Citizen}
)

// notes records the lectures the service reported as changed.
type notes struct {
	mu  sync.Mutex
	ids []string
}

func (n *notes) LectureChanged(_ context.Context, id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ids = append(n.ids, id)
}

func (n *notes) count(id string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, x := range n.ids {
		if x == id {
			c++
		}
	}
	return c
}

type quiet struct{}

func (quiet) ItemChanged(context.Context, string)       {}
func (quiet) FileAdded(context.Context, string, string) {}

type env struct {
	docs  *docstore.Store
	lib   *library.Service
	acc   *accounts.Store
	units *units.DocStore
	notes *notes
	// image and text are files of library items: a possible cover and one that is not.
	image, text lectures.FileRef
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cfg := testenv.Config(t, testenv.Shared(t))
	docs := testenv.Docs(t, cfg)
	ctx := context.Background()
	vocab, err := library.ParseVocabulary(configs.Vocabulary)
	if err != nil {
		t.Fatal(err)
	}
	store := ocfl.New(docs.Objects(), "ocfl/", cfg.MinIO.Timeout)
	if err := store.Init(ctx); err != nil {
		t.Fatal(err)
	}
	tree, err := units.ParseSeed(configs.Units)
	if err != nil {
		t.Fatal(err)
	}
	unitStore := units.NewDocStore(docs)
	if _, err := unitStore.Seed(ctx, tree); err != nil {
		t.Fatal(err)
	}
	e := &env{docs: docs, lib: library.NewService(store, unitStore, vocab, quiet{}), acc: accounts.NewStore(docs),
		units: unitStore, notes: &notes{}}
	for _, a := range []accounts.Account{admin, librarian, huinong, lecturer, colleague, retired, citizen} {
		if _, err := e.acc.Create(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	it, err := e.lib.Create(ctx, admin, library.Fields{Title: "讲座海报", Type: "StillImage", Theme: "history", Unit: "szs", Licence: "cc-by-4.0"})
	if err != nil {
		t.Fatal(err)
	}
	e.image = e.addFile(t, it.ID, "poster.png", "image/png", []byte("\x89PNG\r\n\x1a\n not really"))
	e.text = e.addFile(t, it.ID, "notes.txt", "text/plain", []byte("讲稿"))
	// Published, so that every editor may take its picture as a cover.
	if _, err := e.lib.Move(ctx, admin, it.ID, "", library.InReview); err != nil {
		t.Fatal(err)
	}
	// Approved by a second person (先审后发).
	cityLibrarian := accounts.Account{Name: "rev.szs", Role: accounts.Librarian, Unit: "szs"}
	if _, err := e.lib.Review(ctx, cityLibrarian, it.ID, "", review.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	return e
}

// addFile stages data in MinIO and adds it to the item.
func (e *env) addFile(t *testing.T, item, name, mediaType string, data []byte) lectures.FileRef {
	t.Helper()
	ctx := context.Background()
	key := "uploads/staging/" + item + "/" + name
	if _, err := e.docs.Objects().PutBytes(ctx, key, data, storage.PutOptions{ContentType: mediaType}); err != nil {
		t.Fatal(err)
	}
	s256, s512 := sha256.Sum256(data), sha512.Sum512(data)
	_, f, err := e.lib.AddFile(ctx, admin, item, "", library.Upload{Key: key, Name: name, SafeName: name,
		MediaType: mediaType, SHA256: hex.EncodeToString(s256[:]), SHA512: hex.EncodeToString(s512[:]), Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	return lectures.FileRef{Item: item, Path: f.Path}
}

func (e *env) service(o lectures.Options) *lectures.Service {
	return lectures.New(e.docs, e.lib, e.acc, e.units, e.notes, o)
}

// input is a valid lecture of the Dawukou library by zhang.lecturer.
func input(start time.Time) lectures.Input {
	return lectures.Input{
		Title:       "贺兰山岩画里的石嘴山",
		Lecturer:    lectures.Lecturer{Account: lecturer.Name},
		Unit:        "dwk-library",
		Start:       start,
		Minutes:     90,
		Description: "岩画、移民与煤城：\n一座城市的记忆。",
		Visibility:  lectures.Public,
	}
}

func create(t *testing.T, s *lectures.Service, actor accounts.Account, in lectures.Input) (lectures.Lecture, string) {
	t.Helper()
	l, k, err := s.Create(t.Context(), actor, in)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return l, k
}

// codes lists the field problems of a validation error as "field:code", sorted.
func codes(err error) []string {
	var errs validate.Errors
	if !errors.As(err, &errs) {
		return nil
	}
	var out []string
	for _, p := range errs {
		out = append(out, p.Field+":"+p.Code)
	}
	slices.Sort(out)
	return out
}
