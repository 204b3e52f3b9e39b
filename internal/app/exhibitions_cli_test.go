package app_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/app"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/search"
)

// TestReindexDropsStaleExhibitions: `culturecloud reindex` rebuilds the exhibitions (and
// courses) indexes from MinIO, so an exhibition whose withdrawal event was lost leaves the
// public list, as items do.
func TestReindexDropsStaleExhibitions(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	core, err := app.Connect(cfg, app.NewLogger(cfg.Log, testenv.LogWriter(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	ctx := context.Background()
	if err := core.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	for index, doc := range map[string]any{
		search.ExhibitionsIndex: search.ExhibitionDoc{ID: "exh-stale00001", Title: "已撤回的展览", Theme: "industrial", Unit: "szs-library",
			ClosesAt: search.Permanent, Permanent: true},
		search.CoursesIndex: search.CourseDoc{ID: "crs-stale00001", Title: "已撤回的课程", Category: "calligraphy", Level: "beginner"},
	} {
		task, err := core.Search.Upsert(ctx, index, []any{doc})
		if err != nil {
			t.Fatal(err)
		}
		if err := core.Search.Wait(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if code := app.Run(ctx, []string{"reindex"}, func(k string) string { return envOf(cfg)[k] }, strings.NewReader(""), &out,
		testenv.LogWriter(t)); code != 0 {
		t.Fatalf("reindex exit %d: %s", code, out.String())
	}
	exh, err := core.Search.SearchExhibitions(ctx, search.ExhibitionQuery{Now: time.Now(), Page: 1, PerPage: 20})
	if err != nil {
		t.Fatal(err)
	}
	crs, err := core.Search.SearchCourses(ctx, search.CourseQuery{Page: 1, PerPage: 20})
	if err != nil {
		t.Fatal(err)
	}
	if exh.Total != 0 || crs.Total != 0 {
		t.Fatalf("after reindex the index still lists %v and %v", exh.Hits, crs.Hits)
	}
}
