package docstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/devservices"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type doc struct {
	Title string   `json:"title"`
	Count int      `json:"count"`
	Tags  []string `json:"tags,omitempty"`
}

// newStore connects to the shared MinIO with a bucket of the test's own, set up.
func newStore(t *testing.T) *docstore.Store {
	t.Helper()
	stack := testenv.Shared(t)
	cfg := testenv.Config(t, stack)
	store, err := docstore.Connect(docstore.Options{
		Endpoint:  cfg.MinIO.Endpoint,
		AccessKey: cfg.MinIO.AccessKey,
		SecretKey: cfg.MinIO.SecretKey.Reveal(),
		Bucket:    cfg.MinIO.Bucket,
		UseTLS:    cfg.MinIO.UseTLS,
		Timeout:   cfg.MinIO.Timeout,
	})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	testenv.SetupDocs(t, store)
	return store
}

func TestPutGetRoundTrip(t *testing.T) {
	store := newStore(t)
	ctx := t.Context()
	tests := []struct {
		name string
		key  string
		in   doc
	}{
		{"ascii", "records/a.json", doc{Title: "hello", Count: 1}},
		{"chinese", "records/石嘴山.json", doc{Title: "石嘴山市图书馆", Count: 2, Tags: []string{"图书馆", "文化"}}},
		{"empty values", "records/empty.json", doc{}},
		{"nested key", "records/x/y/z.json", doc{Title: "deep", Count: -5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			etag, err := store.Put(ctx, tc.key, tc.in, docstore.Always())
			if err != nil {
				t.Fatalf("Put(%q): %v", tc.key, err)
			}
			if etag == "" {
				t.Errorf("Put(%q) returned an empty ETag", tc.key)
			}
			var got doc
			getTag, err := store.Get(ctx, tc.key, &got)
			if err != nil {
				t.Fatalf("Get(%q): %v", tc.key, err)
			}
			if got.Title != tc.in.Title || got.Count != tc.in.Count || !slices.Equal(got.Tags, tc.in.Tags) {
				t.Errorf("Get(%q) = %+v, want %+v", tc.key, got, tc.in)
			}
			if getTag != etag {
				t.Errorf("Get(%q) ETag %q, Put returned %q", tc.key, getTag, etag)
			}
		})
	}
}

func TestCreateRefusesSecondCreate(t *testing.T) {
	store := newStore(t)
	ctx := t.Context()
	const key = "records/create.json"
	if _, err := store.Put(ctx, key, doc{Title: "first"}, docstore.Create()); err != nil {
		t.Fatalf("first Create: %v", err)
	}
	_, err := store.Put(ctx, key, doc{Title: "second"}, docstore.Create())
	if !errors.Is(err, docstore.ErrPrecondition) {
		t.Fatalf("second Create: err = %v, want ErrPrecondition", err)
	}
	var got doc
	if _, err := store.Get(ctx, key, &got); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Title != "first" {
		t.Errorf("after refused Create the document is %+v, want title %q", got, "first")
	}
}

func TestMatch(t *testing.T) {
	store := newStore(t)
	ctx := t.Context()
	const key = "records/match.json"
	first, err := store.Put(ctx, key, doc{Title: "v1", Count: 1}, docstore.Create())
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	second, err := store.Put(ctx, key, doc{Title: "v2", Count: 2}, docstore.Match(first))
	if err != nil {
		t.Fatalf("Put with the current ETag: %v", err)
	}
	if second == first {
		t.Fatalf("ETag did not change on write: %q", second)
	}

	tests := []struct {
		name string
		etag string
	}{
		{"stale etag", first},
		{"stale etag in quotes", `"` + first + `"`},
		{"made-up etag", "00000000000000000000000000000000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.Put(ctx, key, doc{Title: "lost update", Count: 99}, docstore.Match(tc.etag))
			if !errors.Is(err, docstore.ErrPrecondition) {
				t.Fatalf("Put with Match(%q): err = %v, want ErrPrecondition", tc.etag, err)
			}
			var got doc
			tag, err := store.Get(ctx, key, &got)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if got.Title != "v2" || got.Count != 2 || tag != second {
				t.Errorf("after the refused write the document is %+v (ETag %q), want v2/2 (ETag %q)", got, tag, second)
			}
		})
	}

	t.Run("current etag in quotes", func(t *testing.T) {
		if _, err := store.Put(ctx, key, doc{Title: "v3", Count: 3}, docstore.Match(`"`+second+`"`)); err != nil {
			t.Fatalf("Put with the quoted current ETag: %v", err)
		}
	})

	t.Run("match on a missing key", func(t *testing.T) {
		_, err := store.Put(ctx, "records/never-written.json", doc{}, docstore.Match(first))
		if err == nil {
			t.Fatal("Put with Match on a missing key succeeded")
		}
		if dep.IsUnavailable(err) {
			t.Errorf("Put with Match on a missing key: %v, want ErrPrecondition or ErrNotFound, not unavailable", err)
		}
	})
}

func TestGetMissing(t *testing.T) {
	store := newStore(t)
	var got doc
	_, err := store.Get(t.Context(), "records/does-not-exist.json", &got)
	if !errors.Is(err, docstore.ErrNotFound) {
		t.Fatalf("Get of a missing key: err = %v, want ErrNotFound", err)
	}
}

func TestDelete(t *testing.T) {
	store := newStore(t)
	ctx := t.Context()
	const key = "records/deleted.json"
	if _, err := store.Put(ctx, key, doc{Title: "x"}, docstore.Always()); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := store.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	var got doc
	if _, err := store.Get(ctx, key, &got); !errors.Is(err, docstore.ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	// A deleted key is free again for Create.
	if _, err := store.Put(ctx, key, doc{Title: "again"}, docstore.Create()); err != nil {
		t.Fatalf("Create after Delete: %v", err)
	}
}

func TestGetDecodeError(t *testing.T) {
	store := newStore(t)
	ctx := t.Context()
	const key = "records/string.json"
	if _, err := store.Put(ctx, key, "just a string", docstore.Always()); err != nil {
		t.Fatalf("Put: %v", err)
	}
	var got doc
	_, err := store.Get(ctx, key, &got)
	if err == nil {
		t.Fatal("Get decoded a JSON string into a struct without error")
	}
	if errors.Is(err, docstore.ErrNotFound) || dep.IsUnavailable(err) {
		t.Errorf("decode failure reported as %v; want a plain decode error", err)
	}
}

func TestList(t *testing.T) {
	store := newStore(t)
	ctx := t.Context()
	keys := []string{
		"records/accounts/b.json",
		"records/accounts/a.json",
		"records/accounts/sub/c.json",
		"records/units.json",
		"other/a.json",
	}
	for _, k := range keys {
		if _, err := store.Put(ctx, k, doc{Title: k}, docstore.Always()); err != nil {
			t.Fatalf("Put(%q): %v", k, err)
		}
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"records/accounts/", []string{"records/accounts/a.json", "records/accounts/b.json", "records/accounts/sub/c.json"}},
		{"records/", []string{"records/accounts/a.json", "records/accounts/b.json", "records/accounts/sub/c.json", "records/units.json"}},
		{"other/", []string{"other/a.json"}},
		{"nothing-here/", nil},
		{"", []string{"other/a.json", "records/accounts/a.json", "records/accounts/b.json", "records/accounts/sub/c.json", "records/units.json"}},
	}
	for _, tc := range tests {
		t.Run(strconv.Quote(tc.prefix), func(t *testing.T) {
			got, err := store.List(ctx, tc.prefix)
			if err != nil {
				t.Fatalf("List(%q): %v", tc.prefix, err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("List(%q) = %q, want %q", tc.prefix, got, tc.want)
			}
		})
	}
}

func TestVersionedAfterSetup(t *testing.T) {
	store := newStore(t)
	ctx := t.Context()
	on, err := store.Versioned(ctx)
	if err != nil {
		t.Fatalf("Versioned: %v", err)
	}
	if !on {
		t.Fatal("Versioned() = false after Setup")
	}
	// Setup is idempotent.
	if err := store.Setup(ctx); err != nil {
		t.Fatalf("second Setup: %v", err)
	}
	if err := store.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func TestCheckMissingBucket(t *testing.T) {
	stack := testenv.Shared(t)
	cfg := testenv.Config(t, stack)
	store, err := docstore.Connect(docstore.Options{
		Endpoint: cfg.MinIO.Endpoint, AccessKey: cfg.MinIO.AccessKey, SecretKey: cfg.MinIO.SecretKey.Reveal(),
		Bucket: cfg.MinIO.Bucket, Timeout: cfg.MinIO.Timeout,
	})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	// No Setup: the bucket does not exist.
	if err := store.Check(t.Context()); !dep.IsUnavailable(err) {
		t.Fatalf("Check without a bucket: err = %v, want an unavailable dependency", err)
	}
	var got doc
	if _, err := store.Get(t.Context(), "records/x.json", &got); !dep.IsUnavailable(err) {
		t.Fatalf("Get without a bucket: err = %v, want an unavailable dependency (NoSuchBucket is not a missing document)", err)
	}
}

func TestUnavailable(t *testing.T) {
	port, err := devservices.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	store, err := docstore.Connect(docstore.Options{
		Endpoint:  fmt.Sprintf("127.0.0.1:%d", port), // nothing listens here
		AccessKey: "nobody",
		SecretKey: "nobody-secret-123",
		Bucket:    "nowhere",
		Timeout:   500 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Setup", store.Setup},
		{"Check", store.Check},
		{"Versioned", func(ctx context.Context) error { _, err := store.Versioned(ctx); return err }},
		{"Get", func(ctx context.Context) error { var d doc; _, err := store.Get(ctx, "k.json", &d); return err }},
		{"Put", func(ctx context.Context) error {
			_, err := store.Put(ctx, "k.json", doc{}, docstore.Always())
			return err
		}},
		{"Put Create", func(ctx context.Context) error {
			_, err := store.Put(ctx, "k.json", doc{}, docstore.Create())
			return err
		}},
		{"Put Match", func(ctx context.Context) error {
			_, err := store.Put(ctx, "k.json", doc{}, docstore.Match("abc"))
			return err
		}},
		{"Delete", func(ctx context.Context) error { return store.Delete(ctx, "k.json") }},
		{"List", func(ctx context.Context) error { _, err := store.List(ctx, "records/"); return err }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The bound is generous so that a slow machine passes; a hang would not.
			const bound = 10 * time.Second
			done := make(chan error, 1)
			go func() { done <- tc.call(context.Background()) }()
			select {
			case err := <-done:
				if !dep.IsUnavailable(err) {
					t.Fatalf("%s against a closed port: err = %v, want an unavailable dependency", tc.name, err)
				}
				if name := dep.Name(err); name != dep.MinIO {
					t.Errorf("%s: dep.Name = %q, want %q", tc.name, name, dep.MinIO)
				}
			case <-time.After(bound):
				t.Fatalf("%s against a closed port did not return within %v", tc.name, bound)
			}
		})
	}
}

func TestGetRefusesOversizedDocument(t *testing.T) {
	store := newStore(t)
	ctx := t.Context()
	const key = "records/huge.json"
	huge := doc{Title: strings.Repeat("x", 4<<20+16)}
	if _, err := store.Put(ctx, key, huge, docstore.Always()); err != nil {
		t.Fatalf("Put: %v", err)
	}
	var got doc
	_, err := store.Get(ctx, key, &got)
	if err == nil {
		t.Fatal("Get of a document over 4 MiB succeeded")
	}
	if dep.IsUnavailable(err) || errors.Is(err, docstore.ErrNotFound) {
		t.Errorf("Get of an oversized document: %v, want a size error", err)
	}
}

// TestGetDuringConcurrentWrites: a Get that overlaps a write must return either version,
// never an error.
func TestGetDuringConcurrentWrites(t *testing.T) {
	store := newStore(t)
	ctx := t.Context()
	const key = "records/busy.json"
	if _, err := store.Put(ctx, key, doc{Title: "v", Count: 0}, docstore.Always()); err != nil {
		t.Fatalf("Put: %v", err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := store.Put(ctx, key, doc{Title: "v", Count: i}, docstore.Always()); err != nil {
				t.Errorf("writer Put: %v", err)
				return
			}
		}
	})
	defer wg.Wait()
	defer close(stop)
	for i := range 300 {
		var got doc
		if _, err := store.Get(ctx, key, &got); err != nil {
			t.Fatalf("Get %d while another client writes: %v", i, err)
		}
	}
}
