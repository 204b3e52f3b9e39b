package search_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/devservices"
	"github.com/shizuishan/culturecloud/internal/testservices"
	"github.com/shizuishan/culturecloud/search"
)

func TestMain(m *testing.M) { testservices.Main(m) }

type env struct {
	svc    testservices.Services
	client *search.Client
}

// meiliTimeout is generous: with -race on two cores a Meilisearch answer can take seconds.
const meiliTimeout = 10 * time.Second

// newEnv connects to the shared Meilisearch with an index prefix of the test's own and sets
// up the product's indexes.
func newEnv(t *testing.T) env {
	t.Helper()
	stack := testservices.Shared(t)
	svc := testservices.For(t, stack)
	c := search.Connect(svc.MeiliURL, testservices.MeiliKey, svc.IndexPrefix, meiliTimeout)
	if err := c.Setup(t.Context(), search.Indexes()); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	return env{svc: svc, client: c}
}

// upsert adds docs to the accounts index and waits until they are searchable.
func (e env) upsert(t *testing.T, docs ...search.AccountDoc) {
	t.Helper()
	task, err := e.client.Upsert(t.Context(), search.AccountsIndex, docs)
	if err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	if err := e.client.Wait(t.Context(), task); err != nil {
		t.Fatalf("Wait for upsert: %v", err)
	}
}

func (e env) search(t *testing.T, q search.Query) ([]search.AccountDoc, int64) {
	t.Helper()
	res, err := e.client.Search(t.Context(), search.AccountsIndex, q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	var docs []search.AccountDoc
	if err := res.Hits.DecodeInto(&docs); err != nil {
		t.Fatalf("decode hits: %v", err)
	}
	return docs, res.Total
}

func names(docs []search.AccountDoc) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.Name
	}
	return out
}

func account(name, display, role, unit string) search.AccountDoc {
	return search.AccountDoc{
		ID: search.DocID(name), Name: name, DisplayName: display, Role: role, Unit: unit,
		CreatedAt: int64(len(name)),
	}
}

// settings reads an index's settings over plain HTTP, independent of the client under test.
func (e env) settings(t *testing.T, uid string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.svc.MeiliURL+"/indexes/"+uid+"/settings", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testservices.MeiliKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET settings: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET settings of %s: %s", uid, resp.Status)
	}
	var s map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("decode settings: %v", err)
	}
	return s
}

func strs(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func TestSetup(t *testing.T) {
	e := newEnv(t)
	uid := e.client.UID(search.AccountsIndex)
	if uid != e.svc.IndexPrefix+"accounts" {
		t.Fatalf("UID = %q, want the prefix and accounts", uid)
	}
	check := func(t *testing.T) {
		t.Helper()
		s := e.settings(t, uid)
		want := accountsIndex(t).Settings
		if got := strs(s["searchableAttributes"]); !slices.Equal(got, want.SearchableAttributes) {
			t.Errorf("searchableAttributes = %v, want %v", got, want.SearchableAttributes)
		}
		got := strs(s["filterableAttributes"])
		sort.Strings(got)
		wantF := slices.Clone(want.FilterableAttributes)
		sort.Strings(wantF)
		if !slices.Equal(got, wantF) {
			t.Errorf("filterableAttributes = %v, want %v", got, wantF)
		}
		gotS := strs(s["sortableAttributes"])
		sort.Strings(gotS)
		wantS := slices.Clone(want.SortableAttributes)
		sort.Strings(wantS)
		if !slices.Equal(gotS, wantS) {
			t.Errorf("sortableAttributes = %v, want %v", gotS, wantS)
		}
	}
	check(t)
	// Setup is idempotent: a second run keeps the index, its documents and settings.
	e.upsert(t, account("zhang.san", "张三", "citizen", ""))
	if err := e.client.Setup(t.Context(), search.Indexes()); err != nil {
		t.Fatalf("second Setup: %v", err)
	}
	check(t)
	if docs, _ := e.search(t, search.Query{Text: "zhang.san"}); len(docs) != 1 {
		t.Errorf("after the second Setup the search finds %v, want zhang.san", names(docs))
	}
	if err := e.client.Check(t.Context()); err != nil {
		t.Errorf("Check: %v", err)
	}
}

// accountsIndex finds the accounts index among search.Indexes().
func accountsIndex(t *testing.T) search.Index {
	t.Helper()
	for _, ix := range search.Indexes() {
		if ix.Name == search.AccountsIndex {
			return ix
		}
	}
	t.Fatalf("search.Indexes() has no %q index", search.AccountsIndex)
	return search.Index{}
}

func TestIndexesDefinition(t *testing.T) {
	ix := accountsIndex(t)
	if ix.PrimaryKey != "id" {
		t.Fatalf("accounts index = %+v, want primary key id", ix)
	}
	seen := map[string]bool{}
	for _, x := range search.Indexes() {
		if seen[x.Name] {
			t.Errorf("index %q defined twice", x.Name)
		}
		seen[x.Name] = true
	}
	// The searchable view of an account never holds secrets.
	data, err := json.Marshal(search.AccountDoc{ID: "x", Name: "x", Email: "x@example.cn", Unit: "u", UnitPath: []string{"u"}, UnitName: "n"})
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	for k := range fields {
		if strings.Contains(k, "password") || strings.Contains(k, "token") || strings.Contains(k, "hash") {
			t.Errorf("AccountDoc has field %q", k)
		}
	}
	for _, attr := range append(slices.Clone(ix.Settings.SearchableAttributes), ix.Settings.FilterableAttributes...) {
		if _, ok := fields[attr]; !ok {
			t.Errorf("index setting names attribute %q that AccountDoc does not have", attr)
		}
	}
}

func TestSearchChinese(t *testing.T) {
	e := newEnv(t)
	e.upsert(t,
		account("dwk.lib", "大武口区图书馆馆员", "librarian", "dwk-library"),
		account("hn.centre", "惠农区文化馆馆长", "librarian", "hn-culture-centre"),
		account("zhang.san", "张三", "citizen", ""),
	)
	tests := []struct {
		query string
		want  []string
	}{
		{"图书馆", []string{"dwk.lib"}},
		{"大武口", []string{"dwk.lib"}},
		{"惠农", []string{"hn.centre"}},
		{"文化馆", []string{"hn.centre"}},
		{"张三", []string{"zhang.san"}},
		{"zhang", []string{"zhang.san"}},
		{"贺兰山", nil},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			docs, total := e.search(t, search.Query{Text: tc.query, Limit: 10})
			got := names(docs)
			sort.Strings(got)
			if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("search %q found %v, want %v", tc.query, got, tc.want)
			}
			if int(total) != len(tc.want) {
				t.Errorf("search %q total %d, want %d", tc.query, total, len(tc.want))
			}
		})
	}
}

func TestSearchFilterSortPage(t *testing.T) {
	e := newEnv(t)
	docs := []search.AccountDoc{
		{ID: search.DocID("a.lib"), Name: "a.lib", DisplayName: "馆员甲", Role: "librarian", Unit: "dwk-library", UnitPath: []string{"szs", "dwk", "dwk-library"}, CreatedAt: 3},
		{ID: search.DocID("b.lib"), Name: "b.lib", DisplayName: "馆员乙", Role: "librarian", Unit: "hn-library", UnitPath: []string{"szs", "hn", "hn-library"}, CreatedAt: 1},
		{ID: search.DocID("c.lect"), Name: "c.lect", DisplayName: "讲师丙", Role: "lecturer", Unit: "dwk", UnitPath: []string{"szs", "dwk"}, CreatedAt: 2},
		{ID: search.DocID("d.off"), Name: "d.off", DisplayName: "停用丁", Role: "librarian", Unit: "dwk", UnitPath: []string{"szs", "dwk"}, Disabled: true, CreatedAt: 4},
	}
	e.upsert(t, docs...)
	tests := []struct {
		name string
		q    search.Query
		want []string
	}{
		{"role", search.Query{Filter: []string{search.Eq("role", "librarian")}, Sort: []string{"name:asc"}}, []string{"a.lib", "b.lib", "d.off"}},
		{"unit subtree", search.Query{Filter: []string{search.Eq("unit_path", "dwk")}, Sort: []string{"name:asc"}}, []string{"a.lib", "c.lect", "d.off"}},
		{"two filters ANDed", search.Query{Filter: []string{search.Eq("unit_path", "dwk"), search.Eq("role", "librarian")}, Sort: []string{"name:asc"}}, []string{"a.lib", "d.off"}},
		{"disabled", search.Query{Filter: []string{"disabled = true"}}, []string{"d.off"}},
		{"sort by created_at", search.Query{Sort: []string{"created_at:asc"}}, []string{"b.lib", "c.lect", "a.lib", "d.off"}},
		{"sort desc", search.Query{Sort: []string{"created_at:desc"}}, []string{"d.off", "a.lib", "c.lect", "b.lib"}},
		{"page", search.Query{Sort: []string{"created_at:asc"}, Offset: 1, Limit: 2}, []string{"c.lect", "a.lib"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := e.search(t, tc.q)
			if !slices.Equal(names(got), tc.want) {
				t.Errorf("Search(%+v) = %v, want %v", tc.q, names(got), tc.want)
			}
		})
	}

	t.Run("delete", func(t *testing.T) {
		task, err := e.client.Delete(t.Context(), search.AccountsIndex, search.DocID("c.lect"))
		if err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if err := e.client.Wait(t.Context(), task); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		got, _ := e.search(t, search.Query{Sort: []string{"name:asc"}})
		if want := []string{"a.lib", "b.lib", "d.off"}; !slices.Equal(names(got), want) {
			t.Errorf("after Delete: %v, want %v", names(got), want)
		}
	})

	t.Run("upsert replaces", func(t *testing.T) {
		changed := docs[0]
		changed.Role = "lecturer"
		e.upsert(t, changed)
		got, _ := e.search(t, search.Query{Filter: []string{search.Eq("role", "lecturer")}})
		if !slices.Equal(names(got), []string{"a.lib"}) {
			t.Errorf("lecturers after the upsert: %v, want a.lib", names(got))
		}
	})

	t.Run("bad filter is an error", func(t *testing.T) {
		// An unfilterable attribute: the task of Eq is to keep input from reaching here.
		_, err := e.client.Search(t.Context(), search.AccountsIndex, search.Query{Filter: []string{search.Eq("email", "x")}})
		if err == nil {
			t.Error("filter on a non-filterable attribute gave no error")
		}
	})
}

func TestEq(t *testing.T) {
	tests := []struct{ attr, value, want string }{
		{"role", "admin", `role = "admin"`},
		{"role", "", `role = ""`},
		{"role", `a"b`, `role = "a\"b"`},
		{"role", `a\b`, `role = "a\\b"`},
		{"role", `\"`, `role = "\\\""`},
		{"unit", "大武口", `unit = "大武口"`},
	}
	for _, tc := range tests {
		if got := search.Eq(tc.attr, tc.value); got != tc.want {
			t.Errorf("Eq(%q, %q) = %s, want %s", tc.attr, tc.value, got, tc.want)
		}
	}
}

func TestEqCannotWidenAFilter(t *testing.T) {
	e := newEnv(t)
	hostile := []string{
		`librarian" OR role = "admin`,
		`\" OR 1=1`,
		`x\`,
		`x\\`,
		`"`,
		`\`,
		`admin") OR (role = "librarian`,
		`librarian" OR role EXISTS OR role = "`,
		`" OR NOT role = "`,
		`librarian' OR role = 'admin`,
		"librarian\" OR role = \"admin\x00",
		"librarian\nOR role = admin",
		`librarian\" OR role = \"admin`,
		`librarian\\" OR role = "admin`,
		`librarian\\\" OR role = \\"admin`,
	}
	docs := []search.AccountDoc{
		account("lib.one", "馆员一", "librarian", ""),
		account("lib.two", "馆员二", "librarian", ""),
		account("root.admin", "管理员", "admin", ""),
	}
	// Documents whose role is the hostile text itself: the only ones a filter may match.
	for i, h := range hostile {
		d := account(fmt.Sprintf("hostile.%02d", i), "怪", h, "")
		docs = append(docs, d)
	}
	e.upsert(t, docs...)

	// The control: a plain value finds exactly its documents, so the check below can fail.
	got, _ := e.search(t, search.Query{Filter: []string{search.Eq("role", "librarian")}, Limit: 100})
	if gotNames := names(got); !slices.Equal(sorted(gotNames), []string{"lib.one", "lib.two"}) {
		t.Fatalf("Eq(role, librarian) found %v, want lib.one and lib.two", gotNames)
	}

	for i, h := range hostile {
		t.Run(fmt.Sprintf("%02d", i), func(t *testing.T) {
			filter := search.Eq("role", h)
			res, err := e.client.Search(t.Context(), search.AccountsIndex, search.Query{Filter: []string{filter}, Limit: 100})
			if err != nil {
				t.Fatalf("filter %s for input %q: error %v; an escaped value must always be a valid filter", filter, h, err)
			}
			var found []search.AccountDoc
			if err := res.Hits.DecodeInto(&found); err != nil {
				t.Fatal(err)
			}
			for _, d := range found {
				if d.Role != h {
					t.Errorf("filter %s for input %q matched %s with role %q: the input widened the filter", filter, h, d.Name, d.Role)
				}
			}
			// Escaping must also keep the value intact: the document holding it is found.
			if want := fmt.Sprintf("hostile.%02d", i); !slices.Equal(names(found), []string{want}) {
				t.Errorf("filter %s for input %q found %v, want exactly %s", filter, h, names(found), want)
			}
			// Combined with another filter, the hostile one must not break out either.
			res, err = e.client.Search(t.Context(), search.AccountsIndex, search.Query{
				Filter: []string{search.Eq("role", h), search.Eq("role", "librarian")}, Limit: 100,
			})
			if err != nil {
				t.Fatalf("two filters with input %q: %v", h, err)
			}
			if len(res.Hits) != 0 {
				t.Errorf("role = %q AND role = librarian matched %d documents, want none", h, len(res.Hits))
			}
		})
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func TestDocID(t *testing.T) {
	keys := []string{"a.b", "a_b", "a-b", "ab", "a.b.json", "records/accounts/a.b.json", "张三", "", "A.B", "a b"}
	valid := regexp.MustCompile(`^[a-zA-Z0-9_-]*$`)
	seen := map[string]string{}
	for _, k := range keys {
		id := search.DocID(k)
		if !valid.MatchString(id) {
			t.Errorf("DocID(%q) = %q has characters Meilisearch refuses", k, id)
		}
		back, err := hex.DecodeString(id)
		if err != nil || string(back) != k {
			t.Errorf("DocID(%q) = %q does not decode back (%q, %v)", k, id, back, err)
		}
		if other, dup := seen[id]; dup {
			t.Errorf("DocID(%q) = DocID(%q) = %q", k, other, id)
		}
		seen[id] = k
	}
	// The longest account key (32-character name) stays within Meilisearch's 511-byte limit.
	if n := len(search.DocID("records/accounts/" + strings.Repeat("a", 32) + ".json")); n > 511 {
		t.Errorf("DocID of the longest account key is %d bytes, over 511", n)
	}
}

func TestDocIDsAreAcceptedByMeilisearch(t *testing.T) {
	e := newEnv(t)
	e.upsert(t, account("a.b", "点", "citizen", ""), account("a_b", "下划线", "citizen", ""))
	got, total := e.search(t, search.Query{Limit: 10})
	if total != 2 || !slices.Equal(sorted(names(got)), []string{"a.b", "a_b"}) {
		t.Errorf("stored %v (total %d), want a.b and a_b as two documents", names(got), total)
	}
}

// TestSearchLatencyHasNoGzipStall guards the DisableCompression transport of search.Connect:
// with gzip asked for, Meilisearch holds the end of each reply about 40 ms on a reused
// connection. A healthy search takes 1-3 ms; the median is robust to a slow moment.
func TestSearchLatencyHasNoGzipStall(t *testing.T) {
	e := newEnv(t)
	var docs []search.AccountDoc
	for i := range 50 {
		docs = append(docs, account(fmt.Sprintf("user%02d", i), fmt.Sprintf("石嘴山用户%02d号", i), "citizen", ""))
	}
	e.upsert(t, docs...)
	ctx := t.Context()
	// The stall shows on replies of a few kilobytes (measured: ~43 ms median with gzip against
	// ~0.5 ms without, for 20 hits); a tiny reply would not reveal it.
	q := search.Query{Text: "石嘴山", Limit: 20}
	// Warm up: open the connection that the timed searches reuse.
	if _, err := e.client.Search(ctx, search.AccountsIndex, q); err != nil {
		t.Fatalf("warm-up search: %v", err)
	}
	const n = 30
	took := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		res, err := e.client.Search(ctx, search.AccountsIndex, q)
		took = append(took, time.Since(start))
		if err != nil {
			t.Fatalf("search: %v", err)
		}
		if len(res.Hits) != 20 {
			t.Fatalf("search found %d hits, want 20", len(res.Hits))
		}
	}
	slices.Sort(took)
	median := took[n/2]
	t.Logf("search latency: min %v, median %v, max %v", took[0], median, took[n-1])
	if median >= 30*time.Millisecond {
		t.Errorf("median search latency %v (min %v, max %v), want under 30 ms: is compression back on in search.Connect?", median, took[0], took[n-1])
	}
}

func TestUnavailable(t *testing.T) {
	port, err := devservices.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	c := search.Connect(fmt.Sprintf("http://127.0.0.1:%d", port), "test-master-key-0123456789abcdef", "t_", 500*time.Millisecond)
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Check", c.Check},
		{"Setup", func(ctx context.Context) error { return c.Setup(ctx, search.Indexes()) }},
		{"Upsert", func(ctx context.Context) error {
			_, err := c.Upsert(ctx, search.AccountsIndex, []search.AccountDoc{account("x.y.z", "x", "citizen", "")})
			return err
		}},
		{"Delete", func(ctx context.Context) error { _, err := c.Delete(ctx, search.AccountsIndex, "x"); return err }},
		{"Search", func(ctx context.Context) error {
			_, err := c.Search(ctx, search.AccountsIndex, search.Query{Text: "x"})
			return err
		}},
		{"Wait", func(ctx context.Context) error { return c.Wait(ctx, 1) }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const bound = 10 * time.Second
			done := make(chan error, 1)
			go func() { done <- tc.call(context.Background()) }()
			select {
			case err := <-done:
				if !errors.Is(err, search.ErrUnavailable) {
					t.Fatalf("%s against a closed port: err = %v, want search.ErrUnavailable", tc.name, err)
				}
			case <-time.After(bound):
				t.Fatalf("%s against a closed port did not return within %v", tc.name, bound)
			}
		})
	}
}

func TestWrongAPIKey(t *testing.T) {
	e := newEnv(t)
	c := search.Connect(e.svc.MeiliURL, "wrong-key-0123456789abcdef", e.svc.IndexPrefix, meiliTimeout)
	_, err := c.Search(t.Context(), search.AccountsIndex, search.Query{Text: "x"})
	if !errors.Is(err, search.ErrUnavailable) {
		t.Errorf("Search with a wrong key: err = %v, want search.ErrUnavailable", err)
	}
}

// TestRebuildLeavesNoCopies: a rebuild that fails deletes its half-built copy, and copies
// left by a rebuild that was killed are found and deleted, leaving the live indexes alone.
func TestRebuildLeavesNoCopies(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	def := accountsIndex(t)
	e.upsert(t, search.AccountDoc{ID: "live", Name: "live", Role: "admin"})
	broken := errors.New("MinIO went away")
	err := e.client.Rebuild(ctx, def, func(add func(docs any) error) error {
		if err := add([]search.AccountDoc{{ID: "half", Name: "half", Role: "admin"}}); err != nil {
			return err
		}
		return broken
	})
	if !errors.Is(err, broken) {
		t.Fatalf("Rebuild = %v, want the fill's error", err)
	}
	if left, err := e.client.DropRebuilds(ctx); err != nil || len(left) != 0 {
		t.Fatalf("a failed rebuild left %v (%v)", left, err)
	}

	// What a killed rebuild leaves: copies of both kinds of index under this prefix.
	killed := []search.Index{{Name: search.AccountsIndex + "_rebuild_killed1", PrimaryKey: "id"},
		{Name: search.ItemsIndex + "_rebuild_killed2", PrimaryKey: "id"}}
	if err := e.client.Setup(ctx, killed); err != nil {
		t.Fatal(err)
	}
	dropped, err := e.client.DropRebuilds(ctx)
	slices.Sort(dropped)
	want := []string{e.client.UID(killed[0].Name), e.client.UID(killed[1].Name)}
	if err != nil || !slices.Equal(dropped, want) {
		t.Fatalf("DropRebuilds = %v, %v; want %v", dropped, err, want)
	}
	if again, err := e.client.DropRebuilds(ctx); err != nil || len(again) != 0 {
		t.Fatalf("second DropRebuilds = %v, %v", again, err)
	}
	if docs, _ := e.search(t, search.Query{Text: "live"}); len(docs) != 1 {
		t.Fatalf("the live index lost its documents: %v", docs)
	}
}
