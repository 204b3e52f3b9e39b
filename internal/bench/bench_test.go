package bench_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/bench"
	"github.com/shizuishan/culturecloud/internal/devservices"
	"github.com/shizuishan/culturecloud/internal/testenv"
)

// TestRunPrintsTable runs the whole benchmark at a tiny size against real services and
// checks the table, not the speed: speed is measured, not asserted.
func TestRunPrintsTable(t *testing.T) {
	if _, err := devservices.FindTools(""); err != nil {
		testenv.Unavailable(t, err)
	}
	gin.SetMode(gin.ReleaseMode)
	// A bound on a hang only: on a loaded machine the tiny run has taken over 3 minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var out, progress bytes.Buffer
	o := bench.Options{UploadMiB: 16, Records: 2000, Queries: 100, ViewRequests: 1000, ViewItems: 10,
		ViewClients: 20, RedisRequests: 20_000, VideoSeconds: 3, SegmentGets: 200}
	if err := bench.Run(ctx, o, &out, &progress); err != nil {
		t.Fatalf("Run: %v\nprogress:\n%s", err, progress.String())
	}
	t.Logf("progress:\n%s\ntable:\n%s", progress.String(), out.String())

	want := []string{"Upload 16 MiB through the API: parts + completion", "Upload: … + the job has hashed",
		"Upload: … + the job has preserved", "Upload: parts only", "Reference: SHA-256",
		"Search p50, 2000", "Search p99", "Published item searchable", "Withdrawn item gone", "Views recorded per second",
		"Transcode a 3 s 1080p clip", "HLS segments"}
	number := regexp.MustCompile(`^[0-9]+(\.[0-9]+)? (MB/s|ms|/s|s)`)
	rows := map[string][]string{}
	for line := range strings.Lines(out.String()) {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) != 7 {
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows[cells[0]] = cells
	}
	for _, prefix := range want {
		var found []string
		for name, cells := range rows {
			if strings.HasPrefix(name, prefix) {
				found = cells
			}
		}
		if found == nil {
			t.Errorf("no row %q in the table:\n%s", prefix, out.String())
			continue
		}
		for _, c := range found[1:3] {
			if !number.MatchString(c) {
				t.Errorf("row %q: %q is not a figure", prefix, c)
			}
		}
		if !strings.HasSuffix(found[3], "×") {
			t.Errorf("row %q: ratio %q", prefix, found[3])
		}
	}
}

// TestRunExhibitionsPrintsTable runs the exhibitions benchmark on a small scan and checks its
// table, not the speed.
func TestRunExhibitionsPrintsTable(t *testing.T) {
	if _, err := devservices.FindTools(""); err != nil {
		testenv.Unavailable(t, err)
	}
	gin.SetMode(gin.ReleaseMode)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // a bound on a hang only
	defer cancel()
	var out, progress bytes.Buffer
	o := bench.ExhibitionOptions{Width: 1300, Height: 1000, TileGets: 200, Clients: 8}
	if err := bench.RunExhibitions(ctx, o, &out, &progress); err != nil {
		t.Fatalf("RunExhibitions: %v\nprogress:\n%s", err, progress.String())
	}
	t.Logf("table:\n%s", out.String())
	for _, row := range []*regexp.Regexp{
		regexp.MustCompile(`\| Tile pyramid of a 1300 × 1000 scan \| [0-9.]+ s \| [0-9.]+ s \| [0-9.]+× \|`),
		regexp.MustCompile(`\| Random 512-px tiles, 8 clients \| [0-9]+ /s \(p99 [0-9.]+ ms\) \| [0-9]+ /s \(p99 [0-9.]+ ms\) \| [0-9.]+× \|`),
	} {
		if !row.MatchString(out.String()) {
			t.Errorf("no row like %s in the table:\n%s", row, out.String())
		}
	}
}
