package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shizuishan/culturecloud/internal/testenv"
)

// TestLibrarianWorkbench: files chosen on "new item" make a draft named and typed after the
// first; the console's filters live in the URL; a bulk "submit for review" answers per item:
// the complete draft moves, the draft without a theme is refused and says why.
func TestLibrarianWorkbench(t *testing.T) {
	srv := testenv.StartServer(t, testenv.Config(t, testenv.Shared(t)))
	const name, password = "wang.dwk", "Dawukou-Workbench-7"
	createLibrarian(t, srv.URL, name, password)
	ctx := browser(t)
	loginInChinese(t, ctx, srv.URL, name, password)

	do(t, ctx, "choose files on the new-item page",
		chromedp.Navigate(srv.URL+"/console/items/new"),
		chromedp.WaitVisible(chromedp.ID("new-files-input")),
		chromedp.SetUploadFiles(chromedp.ID("new-files-input"), testFiles(t)))
	// The draft opens by itself once both files are processed (a poll that the opening cuts
	// short is asked again).
	for deadline := time.Now().Add(90 * time.Second); ; {
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`!!document.getElementById('console-files') &&
			document.querySelectorAll('#console-files li[data-path]').length === 2`,
			chromedp.WithPollingTimeout(5*time.Second), chromedp.WithPollingInterval(200*time.Millisecond)))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			state := get(t, ctx, "uploads", chromedp.Evaluate[string](`location.pathname + ' ' + (document.getElementById('upload-list') || {}).textContent`))
			t.Fatalf("the draft did not open with both files: %v (%s)", err, state)
		}
	}
	loc := get(t, ctx, "location", chromedp.Location())
	dropped := loc[strings.LastIndex(loc, "/")+1:]
	if title := get(t, ctx, "title", chromedp.Evaluate[string](`document.getElementById('item-title').value`)); title != "meikuang" {
		t.Errorf("draft titled %q, want meikuang (the first file's name)", title)
	}
	if typ := get(t, ctx, "type", chromedp.Evaluate[string](`document.getElementById('item-type').value`)); typ != "StillImage" {
		t.Errorf("draft typed %q, want StillImage (the first file is a picture)", typ)
	}

	complete := newItemInConsole(t, ctx, srv.URL, "石炭井工人俱乐部")

	// Filter by status through the form: the filter goes into the URL.
	for deadline := time.Now().Add(45 * time.Second); ; {
		do(t, ctx, "filter the drafts",
			chromedp.Navigate(srv.URL+"/console"),
			chromedp.WaitVisible(chromedp.ID("wb-filters")),
			chromedp.SetValue(chromedp.ID("wb-status"), "draft"),
			chromedp.Click(chromedp.ID("wb-filter")),
			chromedp.WaitVisible(chromedp.ID("wb-filters")))
		// The filtered page, not the one the click left: the form is visible on both.
		if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](
			`location.search.includes('status=draft') && !!document.getElementById('wb-pick-`+dropped+`') && !!document.getElementById('wb-pick-`+complete+`')`,
			chromedp.WithPollingTimeout(5*time.Second))); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the workbench did not list both drafts within 45s")
		}
	}
	if q := get(t, ctx, "query", chromedp.Evaluate[string](`location.search`)); !strings.Contains(q, "status=draft") {
		t.Fatalf("the filter is not in the URL: %q", q)
	}

	do(t, ctx, "select all and submit them for review",
		chromedp.Click(chromedp.ID("wb-all")),
		chromedp.SetValue(chromedp.ID("wb-action"), "in_review"),
		chromedp.Click(chromedp.ID("wb-apply")),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#wb-results li').length === 2`, chromedp.WithPollingTimeout(30*time.Second)))
	outcome := func(id string) string {
		return get(t, ctx, "outcome of "+id, chromedp.Evaluate[string](
			`(function(){var li=document.querySelector('#wb-results li[data-id="`+id+`"]');return li?li.getAttribute('data-outcome')+': '+li.textContent:'';})()`))
	}
	if got := outcome(complete); !strings.HasPrefix(got, "moved: ") {
		t.Errorf("complete draft: %q", got)
	}
	if got := outcome(dropped); !strings.HasPrefix(got, "refused: ") || !strings.Contains(got, "必填") {
		t.Errorf("draft without a theme: %q, want refused as the theme is required", got)
	}

	do(t, ctx, "back to the unfiltered console", chromedp.NavigateBack(), chromedp.WaitVisible(chromedp.ID("wb-filters")))
	if status := get(t, ctx, "status filter", chromedp.Evaluate[string](`document.getElementById('wb-status').value`)); status != "" {
		t.Errorf("after going back the status filter is %q, want none", status)
	}
}
