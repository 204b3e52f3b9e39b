package e2e_test

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/shizuishan/culturecloud/internal/testenv"
)

// shown reports whether the element with the id takes up space on the page.
func shown(t *testing.T, ctx context.Context, id string) bool {
	t.Helper()
	return get(t, ctx, id+" shown", chromedp.Evaluate[bool](`(function () {
		var e = document.getElementById('`+id+`');
		return !!e && e.getClientRects().length > 0;
	})()`))
}

func expanded(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	return get(t, ctx, id+" aria-expanded", chromedp.AttributeValue(chromedp.ID(id), "aria-expanded")).Value
}

// TestPhoneHeaderAndFilterDrawer: on a 375 px wide phone the header collapses to a menu
// button that opens by click and by keyboard and closes with Escape; the search filters
// sit behind a 筛选 button above the results. Wide screens, and phones without script,
// show everything as before.
func TestPhoneHeaderAndFilterDrawer(t *testing.T) {
	srv := testenv.StartServer(t, testenv.Config(t, testenv.Shared(t)))
	ctx := newBrowser(t, chromedp.WindowSize(375, 800))
	do(t, ctx, "open the search on a phone",
		chromedp.EmulateViewport(375, 800),
		chromedp.Navigate(srv.URL+"/memory?lang=zh-CN"),
		chromedp.WaitVisible(chromedp.ID("memory-q")),
	)
	if !shown(t, ctx, "menu-toggle") || shown(t, ctx, "site-menu") || shown(t, ctx, "site-tools") {
		t.Fatal("on a phone the header does not collapse to the menu button")
	}
	if expanded(t, ctx, "menu-toggle") != "false" {
		t.Error("the closed menu's button is not aria-expanded=false")
	}
	do(t, ctx, "open the menu", chromedp.Click(chromedp.ID("menu-toggle")))
	if !shown(t, ctx, "site-menu") || !shown(t, ctx, "site-tools") || expanded(t, ctx, "menu-toggle") != "true" {
		t.Fatal("the menu button does not open the menu")
	}
	do(t, ctx, "close it with Escape from a link in it",
		chromedp.Focus(chromedp.CSS(`#site-menu a[href="/courses"]`)),
		chromedp.KeyEvent("\x1b"),
	)
	if shown(t, ctx, "site-menu") || expanded(t, ctx, "menu-toggle") != "false" {
		t.Fatal("Escape does not close the menu")
	}
	if focused := get(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.id`)); focused != "menu-toggle" {
		t.Errorf("after Escape the focus is on %q, want the menu button", focused)
	}
	do(t, ctx, "open the menu by keyboard", chromedp.Focus(chromedp.ID("menu-toggle")), chromedp.KeyEvent("\r"))
	if !shown(t, ctx, "site-menu") {
		t.Fatal("Enter on the menu button does not open the menu")
	}
	screenshot(t, ctx, "phone-menu-zh.png")

	// The filters: a button above the results, the facets hidden until it is pressed.
	if !shown(t, ctx, "filters-toggle") || shown(t, ctx, "facet-drawer") {
		t.Fatal("on a phone the filters are not behind the 筛选 button")
	}
	if text := get(t, ctx, "filters button", chromedp.Text(chromedp.ID("filters-toggle"))); text == "" || text[:len("筛选")] != "筛选" {
		t.Errorf("the filters button says %q", text)
	}
	above := get(t, ctx, "button above the results", chromedp.Evaluate[bool](`document.getElementById('filters-toggle').getBoundingClientRect().bottom <= document.getElementById('results-title').getBoundingClientRect().top`))
	if !above {
		t.Error("the filters button is not above the results")
	}
	do(t, ctx, "open the filters", chromedp.Click(chromedp.ID("filters-toggle")))
	if !shown(t, ctx, "facet-drawer") || expanded(t, ctx, "filters-toggle") != "true" {
		t.Fatal("the 筛选 button does not open the filters")
	}
	screenshot(t, ctx, "phone-filters-zh.png")

	// A wide screen shows the header and the filters, without the buttons.
	do(t, ctx, "widen the window", chromedp.EmulateViewport(1280, 900), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("memory-q")))
	if shown(t, ctx, "menu-toggle") || !shown(t, ctx, "site-menu") || shown(t, ctx, "filters-toggle") || !shown(t, ctx, "facet-drawer") {
		t.Error("on a wide screen the header or the filters are collapsed")
	}

	// A phone without script shows the whole menu and the filters.
	do(t, ctx, "back to a phone", chromedp.EmulateViewport(375, 800))
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("turn off script: %v", err)
	}
	do(t, ctx, "reload without script", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("memory-q")))
	if shown(t, ctx, "menu-toggle") || !shown(t, ctx, "site-menu") || !shown(t, ctx, "facet-drawer") {
		t.Error("without script the phone menu or the filters are hidden")
	}
}
