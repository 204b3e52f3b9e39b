package units_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shizuishan/culturecloud/configs"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/review"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func seedTree(t *testing.T) units.Tree {
	t.Helper()
	tree, err := units.ParseSeed(configs.Units)
	if err != nil {
		t.Fatalf("ParseSeed(configs.Units): %v", err)
	}
	return tree
}

func ids(us []units.Unit) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func TestParseSeedShizuishan(t *testing.T) {
	tree := seedTree(t)

	roots := tree.Children("")
	if len(roots) != 1 || roots[0].ID != "szs" || roots[0].NameZH != "石嘴山市" || roots[0].Kind != "city" {
		t.Fatalf("roots = %+v, want the one city szs 石嘴山市", roots)
	}
	if len(tree.Units) == 0 || tree.Units[0].ID != "szs" {
		t.Errorf("first unit is %+v, want szs first (parents before children)", tree.Units[0])
	}
	// Parents come before children in the flat list.
	seen := map[string]bool{}
	for _, u := range tree.Units {
		if u.Parent != "" && !seen[u.Parent] {
			t.Errorf("unit %s comes before its parent %s", u.ID, u.Parent)
		}
		if seen[u.ID] {
			t.Errorf("unit %s appears twice", u.ID)
		}
		seen[u.ID] = true
	}

	tests := []struct {
		id, parent, nameZH, kind string
	}{
		{"dwk", "szs", "大武口区", "district"},
		{"hn", "szs", "惠农区", "district"},
		{"pl", "szs", "平罗县", "county"},
		{"szs-library", "szs", "石嘴山市图书馆", "library"},
		{"dwk-library", "dwk", "大武口区图书馆", "library"},
		{"pl-huangquqiao-bookroom", "pl", "黄渠桥村农家书屋", "service_point"},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			u, ok := tree.Get(tc.id)
			if !ok {
				t.Fatalf("unit %s missing from the seed", tc.id)
			}
			if u.Parent != tc.parent || u.NameZH != tc.nameZH || u.Kind != tc.kind {
				t.Errorf("unit %s = %+v, want parent %s, name %s, kind %s", tc.id, u, tc.parent, tc.nameZH, tc.kind)
			}
			if u.NameEN == "" {
				t.Errorf("unit %s has no English name", tc.id)
			}
		})
	}
	districts := ids(tree.Children("szs"))
	for _, want := range []string{"dwk", "hn", "pl"} {
		if !slices.Contains(districts, want) {
			t.Errorf("children of szs = %v, missing %s", districts, want)
		}
	}
}

func TestParseSeedRejects(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // part of the error
	}{
		{"not yaml", "- id: [", "units seed"},
		{"bad id", "- {id: X, name_zh: 市市, name_en: City, kind: city}", `"X"`},
		{"unknown kind", "- {id: szs, name_zh: 市市, name_en: City, kind: planet}", "kind"},
		{"duplicate id", "- {id: szs, name_zh: 市市, name_en: City, kind: city, children: [{id: szs, name_zh: 市市, name_en: City, kind: library}]}", "conflict"},
		{"empty name", "- {id: szs, name_zh: '', name_en: City, kind: city}", "name_zh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := units.ParseSeed([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("ParseSeed(%q) succeeded", tc.yaml)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseSeed(%q) error %q does not mention %q", tc.yaml, err, tc.want)
			}
		})
	}
}

func TestWithin(t *testing.T) {
	tree := seedTree(t)
	tests := []struct {
		scope, unit string
		want        bool
	}{
		{"szs", "szs", true},
		{"szs", "dwk", true},
		{"szs", "dwk-library", true},
		{"szs", "pl-huangquqiao-bookroom", true},
		{"dwk", "dwk", true},
		{"dwk", "dwk-changsheng-station", true},
		{"dwk", "hn-library", false},
		{"dwk", "szs", false},
		{"dwk-library", "dwk", false},
		{"dwk-library", "dwk-culture-centre", false},
		{"pl", "pl-huangquqiao-bookroom", true},
		{"szs", "unknown", false},
		{"unknown", "dwk", false},
		{"szs", "", false},
		{"", "dwk", false},
		{"", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.scope+"/"+tc.unit, func(t *testing.T) {
			if got := tree.Within(tc.scope, tc.unit); got != tc.want {
				t.Errorf("Within(%q, %q) = %v, want %v", tc.scope, tc.unit, got, tc.want)
			}
		})
	}
}

func TestWithinCycleTerminates(t *testing.T) {
	// A corrupt stored tree with a cycle must not hang.
	tree := units.Tree{Units: []units.Unit{
		{ID: "aa", Parent: "bb", Kind: "city"},
		{ID: "bb", Parent: "aa", Kind: "city"},
	}}
	if tree.Within("zz", "aa") {
		t.Error("Within(zz, aa) = true in a cycle without zz")
	}
	if got := tree.Path("aa"); len(got) > 64 {
		t.Errorf("Path in a cycle has %d entries, want at most 64", len(got))
	}
}

func TestPath(t *testing.T) {
	tree := seedTree(t)
	tests := []struct {
		id   string
		want []string
	}{
		{"szs", []string{"szs"}},
		{"dwk", []string{"szs", "dwk"}},
		{"dwk-changsheng-station", []string{"szs", "dwk", "dwk-changsheng-station"}},
		{"pl-huangquqiao-bookroom", []string{"szs", "pl", "pl-huangquqiao-bookroom"}},
		{"unknown", nil},
		{"", nil},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			if got := tree.Path(tc.id); !slices.Equal(got, tc.want) {
				t.Errorf("Path(%q) = %v, want %v", tc.id, got, tc.want)
			}
		})
	}
}

func TestChildren(t *testing.T) {
	tree := seedTree(t)
	tests := []struct {
		id   string
		want []string
	}{
		{"", []string{"szs"}},
		{"szs", []string{"szs-library", "szs-culture-centre", "dwk", "hn", "pl"}},
		{"dwk", []string{"dwk-library", "dwk-culture-centre", "dwk-changsheng-station"}},
		{"pl", []string{"pl-library", "pl-culture-centre", "pl-huangquqiao-station", "pl-huangquqiao-bookroom"}},
		{"dwk-library", []string{}},
		{"unknown", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			if got := ids(tree.Children(tc.id)); !slices.Equal(got, tc.want) {
				t.Errorf("Children(%q) = %v, want %v", tc.id, got, tc.want)
			}
		})
	}
}

// problems returns "field:code" for each problem in err, which must be validate.Errors.
func problems(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve validate.Errors
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not validate.Errors", err, err)
	}
	out := make([]string, len(ve))
	for i, p := range ve {
		out[i] = p.Field + ":" + p.Code
	}
	return out
}

func TestValidate(t *testing.T) {
	tree := seedTree(t)
	ok := units.Unit{ID: "dwk-new-point", Parent: "dwk", NameZH: "新服务点", NameEN: "New Point", Kind: "service_point"}
	with := func(f func(*units.Unit)) units.Unit { u := ok; f(&u); return u }
	tests := []struct {
		name string
		unit units.Unit
		want []string
	}{
		{"valid", ok, nil},
		{"valid root", with(func(u *units.Unit) { u.Parent = "" }), nil},
		{"empty id", with(func(u *units.Unit) { u.ID = "" }), []string{"id:unit_id"}},
		{"upper-case id", with(func(u *units.Unit) { u.ID = "DWK-x" }), []string{"id:unit_id"}},
		{"id starting with digit", with(func(u *units.Unit) { u.ID = "1dwk" }), []string{"id:unit_id"}},
		{"one-letter id", with(func(u *units.Unit) { u.ID = "d" }), []string{"id:unit_id"}},
		{"id with underscore", with(func(u *units.Unit) { u.ID = "dwk_x" }), []string{"id:unit_id"}},
		{"id of 49 characters", with(func(u *units.Unit) { u.ID = "a" + strings.Repeat("b", 48) }), []string{"id:unit_id"}},
		{"id of 48 characters", with(func(u *units.Unit) { u.ID = "a" + strings.Repeat("b", 47) }), nil},
		{"duplicate id", with(func(u *units.Unit) { u.ID = "dwk-library" }), []string{"id:conflict"}},
		{"unknown parent", with(func(u *units.Unit) { u.Parent = "nowhere" }), []string{"parent:unit"}},
		{"unknown kind", with(func(u *units.Unit) { u.Kind = "museum" }), []string{"kind:unit_kind"}},
		{"empty kind", with(func(u *units.Unit) { u.Kind = "" }), []string{"kind:unit_kind"}},
		{"empty zh name", with(func(u *units.Unit) { u.NameZH = "" }), []string{"name_zh:required"}},
		{"empty en name", with(func(u *units.Unit) { u.NameEN = "" }), []string{"name_en:required"}},
		{"one-character zh name", with(func(u *units.Unit) { u.NameZH = "站" }), []string{"name_zh:too_short"}},
		{"zh name too long", with(func(u *units.Unit) { u.NameZH = strings.Repeat("文", 61) }), []string{"name_zh:too_long"}},
		{"zh name of 60 characters", with(func(u *units.Unit) { u.NameZH = strings.Repeat("文", 60) }), nil},
		{"control character", with(func(u *units.Unit) { u.NameEN = "New\nPoint" }), []string{"name_en:text"}},
		{"everything wrong", units.Unit{ID: "X", Parent: "nowhere", Kind: "x"},
			[]string{"id:unit_id", "parent:unit", "name_zh:required", "name_en:required", "kind:unit_kind"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := problems(t, tree.Validate(tc.unit))
			if !slices.Equal(got, tc.want) {
				t.Errorf("Validate(%+v) problems = %v, want %v", tc.unit, got, tc.want)
			}
		})
	}
}

func newDocStore(t *testing.T) *units.DocStore {
	t.Helper()
	stack := testenv.Shared(t)
	cfg := testenv.Config(t, stack)
	docs, err := docstore.Connect(docstore.Options{
		Endpoint: cfg.MinIO.Endpoint, AccessKey: cfg.MinIO.AccessKey, SecretKey: cfg.MinIO.SecretKey.Reveal(),
		Bucket: cfg.MinIO.Bucket, UseTLS: cfg.MinIO.UseTLS, Timeout: cfg.MinIO.Timeout,
	})
	if err != nil {
		t.Fatalf("docstore.Connect: %v", err)
	}
	testenv.SetupDocs(t, docs)
	return units.NewDocStore(docs)
}

func TestDocStoreSeedAndLoad(t *testing.T) {
	store := newDocStore(t)
	ctx := t.Context()

	empty, etag, err := store.LoadUnits(ctx)
	if err != nil {
		t.Fatalf("LoadUnits before seeding: %v", err)
	}
	if len(empty.Units) != 0 || etag != "" {
		t.Fatalf("LoadUnits before seeding = %d units, etag %q; want none and \"\"", len(empty.Units), etag)
	}

	seed := seedTree(t)
	created, err := store.Seed(ctx, seed)
	if err != nil || !created {
		t.Fatalf("first Seed = %v, %v; want true, nil", created, err)
	}
	other := units.Tree{Units: []units.Unit{{ID: "other", NameZH: "别处", NameEN: "Elsewhere", Kind: "city"}}}
	created, err = store.Seed(ctx, other)
	if err != nil || created {
		t.Fatalf("second Seed = %v, %v; want false, nil", created, err)
	}

	got, etag, err := store.LoadUnits(ctx)
	if err != nil {
		t.Fatalf("LoadUnits: %v", err)
	}
	if etag == "" {
		t.Error("LoadUnits returned an empty ETag for a stored tree")
	}
	if !slices.Equal(got.Units, seed.Units) {
		t.Errorf("stored tree has %d units %v, want the seed's %d units %v", len(got.Units), ids(got.Units), len(seed.Units), ids(seed.Units))
	}
}

func TestDocStoreSaveStale(t *testing.T) {
	store := newDocStore(t)
	ctx := t.Context()
	if _, err := store.Seed(ctx, seedTree(t)); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	tree, etag, err := store.LoadUnits(ctx)
	if err != nil {
		t.Fatalf("LoadUnits: %v", err)
	}
	// Change the content: MinIO ETags are content hashes, so an identical tree would keep
	// the same ETag.
	tree.Units = append(tree.Units, units.Unit{ID: "dwk-extra", Parent: "dwk", NameZH: "新站点", NameEN: "Extra", Kind: "station"})
	if _, err := store.SaveUnits(ctx, tree, etag); err != nil {
		t.Fatalf("SaveUnits with the current ETag: %v", err)
	}
	tree.Units = tree.Units[:len(tree.Units)-1]
	if _, err := store.SaveUnits(ctx, tree, etag); !errors.Is(err, units.ErrChanged) {
		t.Fatalf("SaveUnits with a stale ETag: err = %v, want ErrChanged", err)
	}
	if _, err := store.SaveUnits(ctx, tree, ""); !errors.Is(err, units.ErrChanged) {
		t.Fatalf("SaveUnits with \"\" over an existing tree: err = %v, want ErrChanged", err)
	}
}

func TestAdd(t *testing.T) {
	store := newDocStore(t)
	ctx := t.Context()
	if _, err := store.Seed(ctx, seedTree(t)); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	u := units.Unit{ID: "dwk-xinghai-point", Parent: "dwk", NameZH: "星海服务点", NameEN: "Xinghai Service Point", Kind: "service_point"}
	if err := units.Add(ctx, store, u); err != nil {
		t.Fatalf("Add: %v", err)
	}
	tree, _, err := store.LoadUnits(ctx)
	if err != nil {
		t.Fatalf("LoadUnits: %v", err)
	}
	got, ok := tree.Get(u.ID)
	if !ok || got != u {
		t.Fatalf("after Add, Get(%s) = %+v, %v; want %+v", u.ID, got, ok, u)
	}
	if !tree.Within("szs", u.ID) {
		t.Errorf("added unit is not within szs")
	}

	// Adding it again is a validation error, not a silent duplicate.
	err = units.Add(ctx, store, u)
	if got := problems(t, err); !slices.Equal(got, []string{"id:conflict"}) {
		t.Errorf("second Add problems = %v (err %v), want [id:conflict]", got, err)
	}
	tree, _, err = store.LoadUnits(ctx)
	if err != nil {
		t.Fatalf("LoadUnits: %v", err)
	}
	n := 0
	for _, x := range tree.Units {
		if x.ID == u.ID {
			n++
		}
	}
	if n != 1 {
		t.Errorf("unit %s stored %d times, want once", u.ID, n)
	}
}

// barrierStore is the real DocStore, except that the first LoadUnits of each writer waits
// until every writer has loaded: their saves then certainly conflict, and Add's retry on
// ErrChanged is what must keep both units.
type barrierStore struct {
	*units.DocStore
	loaded sync.WaitGroup
	mu     sync.Mutex
	first  map[string]bool
}

type writerKey struct{}

func (b *barrierStore) LoadUnits(ctx context.Context) (units.Tree, string, error) {
	tree, etag, err := b.DocStore.LoadUnits(ctx)
	writer, _ := ctx.Value(writerKey{}).(string)
	b.mu.Lock()
	first := !b.first[writer]
	b.first[writer] = true
	b.mu.Unlock()
	if first {
		b.loaded.Done()
		b.loaded.Wait()
	}
	return tree, etag, err
}

func TestAddConcurrent(t *testing.T) {
	store := newDocStore(t)
	ctx := t.Context()
	if _, err := store.Seed(ctx, seedTree(t)); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	added := []units.Unit{
		{ID: "hn-a-point", Parent: "hn", NameZH: "甲服务点", NameEN: "Point A", Kind: "service_point"},
		{ID: "pl-b-point", Parent: "pl", NameZH: "乙服务点", NameEN: "Point B", Kind: "service_point"},
	}
	b := &barrierStore{DocStore: store, first: map[string]bool{}}
	b.loaded.Add(len(added))
	var wg sync.WaitGroup
	errs := make([]error, len(added))
	for i, u := range added {
		wg.Go(func() {
			errs[i] = units.Add(context.WithValue(ctx, writerKey{}, u.ID), b, u)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Add(%s): %v", added[i].ID, err)
		}
	}
	tree, _, err := store.LoadUnits(ctx)
	if err != nil {
		t.Fatalf("LoadUnits: %v", err)
	}
	for _, u := range added {
		if _, ok := tree.Get(u.ID); !ok {
			t.Errorf("unit %s was lost by the concurrent Add (tree has %v)", u.ID, ids(tree.Units))
		}
	}
	if want := len(seedTree(t).Units) + len(added); len(tree.Units) != want {
		t.Errorf("tree has %d units after two Adds, want %d: %v", len(tree.Units), want, ids(tree.Units))
	}
}

func TestAddGivesUpAfterOneRetry(t *testing.T) {
	// A store whose save always conflicts: Add tries twice and then reports ErrChanged.
	s := &conflictStore{}
	u := units.Unit{ID: "solo", NameZH: "独立", NameEN: "Solo", Kind: "city"}
	err := units.Add(t.Context(), s, u)
	if !errors.Is(err, units.ErrChanged) {
		t.Fatalf("Add with an always-conflicting store: err = %v, want ErrChanged", err)
	}
	if s.saves != 2 {
		t.Errorf("Add tried %d saves, want 2 (one retry)", s.saves)
	}
}

// conflictStore is an in-memory units.Store whose saves always find the tree changed. It
// tests Add's retry logic, not storage.
type conflictStore struct{ saves int }

func (c *conflictStore) LoadUnits(context.Context) (units.Tree, string, error) {
	return units.Tree{}, "", nil
}

func (c *conflictStore) SaveUnits(context.Context, units.Tree, string) (string, error) {
	c.saves++
	return "", units.ErrChanged
}

func strPtr(s string) *string { return &s }

func TestUpdateRename(t *testing.T) {
	store := newDocStore(t)
	ctx := t.Context()
	seed := seedTree(t)
	if _, err := store.Seed(ctx, seed); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	orig, _ := seed.Get("dwk-library")
	tests := []struct {
		name   string
		id     string
		rename units.Rename
		wantZH string
		wantEN string
		errs   []string
		err    error
	}{
		{"both names, trimmed", "dwk-library", units.Rename{NameZH: strPtr(" 大武口区图书馆（新馆） "), NameEN: strPtr(" Dawukou New Library ")},
			"大武口区图书馆（新馆）", "Dawukou New Library", nil, nil},
		{"only Chinese", "dwk-library", units.Rename{NameZH: strPtr("大武口图书馆")}, "大武口图书馆", "Dawukou New Library", nil, nil},
		{"nothing", "dwk-library", units.Rename{}, "大武口图书馆", "Dawukou New Library", nil, nil},
		{"empty Chinese", "dwk-library", units.Rename{NameZH: strPtr("  ")}, "", "", []string{"name_zh:required"}, nil},
		{"one-character English", "dwk-library", units.Rename{NameEN: strPtr("D")}, "", "", []string{"name_en:too_short"}, nil},
		{"control character", "dwk-library", units.Rename{NameZH: strPtr("大武口\x07图书馆")}, "", "", []string{"name_zh:text"}, nil},
		{"both wrong", "dwk-library", units.Rename{NameZH: strPtr(""), NameEN: strPtr(strings.Repeat("x", 121))}, "", "",
			[]string{"name_zh:required", "name_en:too_long"}, nil},
		{"unknown unit", "nowhere", units.Rename{NameZH: strPtr("某地")}, "", "", nil, units.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _, err := store.LoadUnits(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := units.Update(ctx, store, tc.id, tc.rename)
			switch {
			case tc.err != nil:
				if !errors.Is(err, tc.err) {
					t.Fatalf("Update(%s) err = %v, want %v", tc.id, err, tc.err)
				}
			case tc.errs != nil:
				if p := problems(t, err); !slices.Equal(p, tc.errs) {
					t.Fatalf("Update(%s, %+v) problems %v, want %v", tc.id, tc.rename, p, tc.errs)
				}
			default:
				if err != nil {
					t.Fatalf("Update(%s, %+v): %v", tc.id, tc.rename, err)
				}
				if got.NameZH != tc.wantZH || got.NameEN != tc.wantEN || got.ID != orig.ID || got.Parent != orig.Parent || got.Kind != orig.Kind {
					t.Errorf("Update = %+v, want names %q/%q and the rest of %+v", got, tc.wantZH, tc.wantEN, orig)
				}
			}
			after, _, err := store.LoadUnits(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(after.Units) != len(before.Units) {
				t.Errorf("Update changed the number of units from %d to %d", len(before.Units), len(after.Units))
			}
			stored, _ := after.Get("dwk-library")
			if tc.err == nil && tc.errs == nil {
				if stored != got {
					t.Errorf("stored %+v, Update returned %+v", stored, got)
				}
			} else if prev, _ := before.Get("dwk-library"); stored != prev {
				t.Errorf("a refused Update changed the stored unit from %+v to %+v", prev, stored)
			}
		})
	}
}

func TestUpdateConcurrentWithAdd(t *testing.T) {
	store := newDocStore(t)
	ctx := t.Context()
	if _, err := store.Seed(ctx, seedTree(t)); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	b := &barrierStore{DocStore: store, first: map[string]bool{}}
	b.loaded.Add(2)
	newUnit := units.Unit{ID: "hn-new-point", Parent: "hn", NameZH: "新服务点", NameEN: "New Point", Kind: "service_point"}
	var wg sync.WaitGroup
	var addErr, renameErr error
	wg.Go(func() { addErr = units.Add(context.WithValue(ctx, writerKey{}, "add"), b, newUnit) })
	wg.Go(func() {
		_, renameErr = units.Update(context.WithValue(ctx, writerKey{}, "rename"), b, "pl", units.Rename{NameEN: strPtr("Pingluo")})
	})
	wg.Wait()
	if addErr != nil || renameErr != nil {
		t.Fatalf("concurrent Add and Update: %v, %v", addErr, renameErr)
	}
	tree, _, err := store.LoadUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tree.Get(newUnit.ID); !ok {
		t.Error("the added unit was lost")
	}
	if pl, _ := tree.Get("pl"); pl.NameEN != "Pingluo" {
		t.Errorf("the rename was lost: pl = %+v", pl)
	}
}

// TestReviewPolicyInherited: a unit without a policy takes its nearest ancestor's, and a
// tree without any policy reviews once (先审后发 is never off by omission).
func TestReviewPolicyInherited(t *testing.T) {
	tree, err := units.ParseSeed([]byte(`
- id: szs
  name_zh: 石嘴山市
  name_en: Shizuishan City
  kind: city
  review: one
  children:
    - id: dwk
      name_zh: 大武口区
      name_en: Dawukou District
      kind: district
      review: two
      children:
        - id: dwk-library
          name_zh: 大武口区图书馆
          name_en: Dawukou District Library
          kind: library
    - id: pl
      name_zh: 平罗县
      name_en: Pingluo County
      kind: county
      review: none
`))
	if err != nil {
		t.Fatal(err)
	}
	bare := units.Tree{Units: []units.Unit{{ID: "szs", NameZH: "石嘴山市", NameEN: "Shizuishan", Kind: "city"}}}
	for _, tt := range []struct {
		tree *units.Tree
		unit string
		want review.Policy
	}{{&tree, "szs", review.One}, {&tree, "dwk", review.Two}, {&tree, "dwk-library", review.Two}, {&tree, "pl", review.None},
		{&tree, "nowhere", review.One}, {&bare, "szs", review.One}} {
		if got := tt.tree.ReviewPolicy(tt.unit); got != tt.want {
			t.Errorf("policy of %s = %s, want %s", tt.unit, got, tt.want)
		}
	}
	if _, err := units.ParseSeed([]byte("- {id: szs, name_zh: 石嘴山市, name_en: Shizuishan, kind: city, review: three}\n")); err == nil {
		t.Error("a seed with an unknown policy was accepted")
	}
}

func TestPlaceNames(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"石嘴山市", []string{"石嘴山市", "石嘴山"}},
		{"大武口区", []string{"大武口区", "大武口"}},
		{"大武口区图书馆", []string{"大武口区图书馆", "大武口区", "大武口"}},
		{"平罗县文化馆", []string{"平罗县文化馆", "平罗县", "平罗"}},
		{"长胜街道综合文化站", []string{"长胜街道综合文化站", "长胜街道"}},
		{"黄渠桥村农家书屋", []string{"黄渠桥村农家书屋", "黄渠桥村"}},
		{"图书馆", []string{"图书馆"}}, // nothing left but the kind: no place
		{"城区", []string{"城区"}},   // one character left is no place name
		{"Reading Room", []string{"Reading Room"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (units.Unit{NameZH: tc.name}).PlaceNames(); !slices.Equal(got, tc.want) {
				t.Errorf("PlaceNames(%s) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}
