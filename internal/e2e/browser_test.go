package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shizuishan/culturecloud/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// artifactsDir is test-artifacts/ at the repository root (git-ignored).
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
	out := filepath.Join(dir, "test-artifacts")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

func browser(t *testing.T) context.Context {
	t.Helper()
	return newBrowser(t)
}

// newBrowser starts Debian's Chromium, headless, with a profile of its own, and the flags
// this machine's closed network needs.
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Unavailable(t, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// do runs browser steps and fails the test with the page it was on.
func do(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("%s: %v (page %s)", step, err, loc)
	}
}

// get runs one browser action that reads a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("read %s: %v", what, err)
	}
	return v
}

func login(t *testing.T, ctx context.Context, base, name, password string) {
	t.Helper()
	do(t, ctx, "log in as "+name,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("login-name")),
		chromedp.SendKeys(chromedp.ID("login-name"), name),
		chromedp.SendKeys(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("logout-button")),
	)
}

// TestAdminCreatesLibrarianWhoUsesElderlyModeInEnglish is the browser walk-through:
// an admin creates a librarian in 大武口区, logs out; the librarian logs in, turns on elderly
// mode, switches to English, and a screenshot is saved.
func TestAdminCreatesLibrarianWhoUsesElderlyModeInEnglish(t *testing.T) {
	srv := testenv.StartServer(t, testenv.Config(t, testenv.Shared(t)))
	ctx := browser(t)

	do(t, ctx, "open the site in Chinese", chromedp.Navigate(srv.URL+"/?lang=zh-CN"))
	if lang := get(t, ctx, "html lang", chromedp.AttributeValue(chromedp.CSS("html"), "lang")); lang.Value != "zh-CN" {
		t.Fatalf("html lang %q, want zh-CN", lang.Value)
	}

	login(t, ctx, srv.URL, testenv.AdminName, testenv.AdminPassword)

	const name, password = "gao.dwk", "Dawukou-Reading-7"
	do(t, ctx, "create a librarian in 大武口区",
		chromedp.Navigate(srv.URL+"/admin/users"),
		chromedp.WaitVisible(chromedp.ID("create-account-form")),
		chromedp.SendKeys(chromedp.ID("account-name"), name),
		chromedp.SendKeys(chromedp.ID("account-display-name"), "高馆员"),
		chromedp.SendKeys(chromedp.ID("account-password"), password),
		chromedp.SetValue(chromedp.ID("account-role"), "librarian"),
		chromedp.SetValue(chromedp.ID("account-unit"), "dwk-library"),
		chromedp.Click(chromedp.ID("create-account-submit")),
		chromedp.WaitVisible(chromedp.CSS("#create-account-form .form-status .status-ok")),
	)
	shotZH := get(t, ctx, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(artifactsDir(t), "admin-users-zh.png"), shotZH, 0o644); err != nil {
		t.Fatal(err)
	}
	// The librarian exists, in 大武口区图书馆 (a unit of 大武口区).
	checkAccountUnit(t, srv.URL, name, password, "dwk-library")

	do(t, ctx, "log out",
		chromedp.Click(chromedp.ID("logout-button")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/login"]`)),
	)

	login(t, ctx, srv.URL, name, password)

	// The page's script must have run (it is deferred) before the click can do anything.
	do(t, ctx, "turn on elderly mode",
		chromedp.Poll[chromedp.Void](`document.readyState === 'complete'`, chromedp.WithPollingTimeout(45*time.Second)),
		chromedp.Click(chromedp.ID("elderly-toggle")),
		chromedp.Poll[chromedp.Void](`document.getElementById('elderly-toggle').getAttribute('aria-pressed') === 'true'`,
			chromedp.WithPollingTimeout(10*time.Second)),
	)
	// The new page exists (html lang="en") before its head script has set the class:
	// wait for the whole page, as a reader would see it.
	do(t, ctx, "switch to English",
		chromedp.Click(chromedp.ID("lang-en")),
		chromedp.WaitReady(chromedp.CSS(`html[lang="en"]`)),
		chromedp.Poll[chromedp.Void](`document.readyState === 'complete'`, chromedp.WithPollingTimeout(45*time.Second)),
	)
	if class := get(t, ctx, "html class", chromedp.AttributeValue(chromedp.CSS("html"), "class")); !strings.Contains(class.Value, "elderly") {
		t.Fatalf("elderly mode did not persist across the page change: html class %q", class.Value)
	}
	if px := get(t, ctx, "body font size", chromedp.Evaluate[float64](`parseFloat(getComputedStyle(document.body).fontSize)`)); px < 18 {
		t.Fatalf("elderly body text is %.1fpx, want at least 18px", px)
	}
	if label := get(t, ctx, "logout label", chromedp.Text(chromedp.ID("logout-button"))); strings.TrimSpace(label) != "Sign out" {
		t.Fatalf("page is not in English: logout button says %q", label)
	}

	png := get(t, ctx, "screenshot", chromedp.FullScreenshot(100))
	shot := filepath.Join(artifactsDir(t), "librarian-elderly-english.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)
}

func checkAccountUnit(t *testing.T, base, name, password, unit string) {
	t.Helper()
	resp, err := testenv.Client().Post(base+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"name":"`+name+`","password":"`+password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct {
		Account struct {
			Role, Unit string
		} `json:"account"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&s) != nil {
		t.Fatalf("new librarian cannot log in: %d", resp.StatusCode)
	}
	if s.Account.Role != "librarian" || s.Account.Unit != unit {
		t.Fatalf("new account is %+v, want a librarian of %s", s.Account, unit)
	}
}
