package e2e_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// TestLoginStaysOnSite signs in with return paths that a browser would turn into another
// origin (a tab it strips, a backslash it reads as a slash). The page script must check the
// path itself, whatever the server put into the page: the hidden field is set here directly.
func TestLoginStaysOnSite(t *testing.T) {
	srv := testenv.StartServer(t, testenv.Config(t, testenv.Shared(t)))
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	// Another origin on loopback: the same host on a port where nothing listens.
	elsewhere := base.Hostname() + ":1"
	tests := []struct{ name, next, wantPath string }{
		{"tab", "/\t/" + elsewhere + "/page", "/"},
		{"backslash", `/\` + elsewhere + "/page", "/"},
		{"local path", "/courses?x=1", "/courses"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := browser(t)
			do(t, ctx, "sign in with next "+tc.next,
				chromedp.Navigate(srv.URL+"/login"),
				chromedp.WaitVisible(chromedp.ID("login-name")),
				chromedp.SetJavascriptAttribute(chromedp.ID("login-next"), "value", tc.next),
				chromedp.SendKeys(chromedp.ID("login-name"), testenv.AdminName),
				chromedp.SendKeys(chromedp.ID("login-password"), testenv.AdminPassword),
				chromedp.Click(chromedp.ID("login-submit")),
			)
			loc := locationAfterLeaving(t, ctx, srv.URL+"/login")
			to, err := url.Parse(loc)
			if err != nil {
				t.Fatalf("location %q: %v", loc, err)
			}
			if to.Host != base.Host || !strings.HasPrefix(to.Path, tc.wantPath) || (tc.wantPath == "/" && to.Path != "/") {
				t.Fatalf("after sign-in the browser is at %s; want %s%s", loc, srv.URL, tc.wantPath)
			}
		})
	}
}

// locationAfterLeaving polls the browser's location until it is no longer from; reads fail
// while a navigation is under way, so they are retried.
func locationAfterLeaving(t *testing.T, ctx context.Context, from string) string {
	t.Helper()
	var loc string
	testwait.UntilStateWithin(t, "the browser leaves "+from, 45*time.Second, func() (bool, string) {
		var err error
		loc, err = chromedp.Run(ctx, chromedp.Location())
		return err == nil && loc != from, fmt.Sprintf("at %q, read error %v", loc, err)
	})
	return loc
}
