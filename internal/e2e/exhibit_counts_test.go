package e2e_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/shizuishan/culturecloud/internal/app"
	"github.com/shizuishan/culturecloud/internal/demo"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// TestExhibitCountsFromTheBrowser: a visitor walks the demo exhibition in Chromium; the page
// counts the visit, a view of each exhibit shown, and the time spent on each exhibit left
// behind, and leaving the page reports the time on the last one.
func TestExhibitCountsFromTheBrowser(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	srv := testenv.StartServer(t, cfg)
	core, err := app.Connect(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	if _, err := demo.LoadLibrary(t.Context(), core.Docs, core.Library, core.Collections); err != nil {
		t.Fatal(err)
	}
	id, err := demo.LoadExhibitions(t.Context(), core.Docs, core.Library, core.Exhibitions)
	if err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	do(t, ctx, "open the exhibition", chromedp.Navigate(srv.URL+"/exhibitions/"+id), chromedp.WaitVisible(chromedp.ID("exhibit-0")))
	for i := 1; i <= 2; i++ {
		do(t, ctx, "next exhibit", chromedp.KeyEvent(kb.ArrowRight),
			chromedp.WaitVisible(chromedp.ID(fmt.Sprintf("exhibit-%d", i))))
	}

	type exhibitStats struct {
		Views int64
		Dwell map[string]int64
	}
	var st struct {
		Visits   struct{ Total int64 }
		Exhibits []exhibitStats
	}
	// The exhibition's curators read the counts (the admin may edit every exhibition).
	curator := apiLogin(t, srv.URL, testenv.AdminName, testenv.AdminPassword)
	read := func() { curator.want(http.StatusOK, "GET", "/api/v1/exhibitions/"+id+"/stats", nil, &st) }
	dwells := func(e exhibitStats) (n int64) {
		for _, v := range e.Dwell {
			n += v
		}
		return n
	}
	testwait.Until(t, "one visit, three exhibits viewed, time spent on the first two", func() bool {
		read()
		return st.Visits.Total == 1 && len(st.Exhibits) >= 3 && st.Exhibits[0].Views == 1 && st.Exhibits[1].Views == 1 &&
			st.Exhibits[2].Views == 1 && dwells(st.Exhibits[0]) == 1 && dwells(st.Exhibits[1]) == 1 && dwells(st.Exhibits[2]) == 0
	})
	// Leaving the page reports the time on the exhibit it was at.
	do(t, ctx, "leave", chromedp.Navigate("about:blank"))
	testwait.Until(t, "the time on the third exhibit is reported on leaving", func() bool {
		read()
		return dwells(st.Exhibits[2]) == 1
	})
}
