package e2e_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shizuishan/culturecloud/internal/mail/mailtest"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// TestForgottenPasswordInBrowser: from the sign-in page a citizen asks for a link, opens the
// mailed link, sees the two new passwords compared before anything is sent, sets the new
// password, and the secret no longer shows in the address bar.
func TestForgottenPasswordInBrowser(t *testing.T) {
	relay := mailtest.Start(t, "")
	cfg := testenv.Config(t, testenv.Shared(t))
	cfg.Mail.Sender, cfg.Mail.SMTPAddr = "smtp", relay.Addr
	srv := testenv.StartServer(t, cfg)
	newAPIUser(t, srv.URL).session("/api/v1/auth/register", http.StatusCreated, map[string]string{"name": "zhao.min",
		"display_name": "赵敏", "email": "zhaomin@example.org", "password": "Desert-Lake-Swans-31"})

	ctx := browser(t)
	do(t, ctx, "ask for a reset link",
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("forgot-link")),
		chromedp.Click(chromedp.ID("forgot-link")),
		chromedp.WaitVisible(chromedp.ID("reset-name")),
		chromedp.SendKeys(chromedp.ID("reset-name"), "zhao.min"),
		chromedp.Click(chromedp.ID("reset-submit")),
		chromedp.WaitVisible(`#reset-form .status-ok`),
	)
	link := regexp.MustCompile(`http://\S+/password-reset/new#token=[A-Za-z0-9_-]+`)
	var url string
	testwait.Within(t, "the reset mail", 45*time.Second, func() bool {
		for _, m := range relay.Messages() {
			if m.To == "zhaomin@example.org" {
				url = link.FindString(m.Body)
				return url != ""
			}
		}
		return false
	})
	do(t, ctx, "open the link and type two different passwords",
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.ID("reset-new-password")),
		chromedp.SendKeys(chromedp.ID("reset-new-password"), "Yellow-River-Sheep-42"),
		chromedp.SendKeys(chromedp.ID("reset-repeat-password"), "Yellow-River-Sheep-24"),
		chromedp.Click(chromedp.ID("new-password-submit")),
		chromedp.WaitVisible(chromedp.ID("reset-repeat-password-error")),
	)
	if loc := get(t, ctx, "location", chromedp.Location()); strings.Contains(loc, "token") {
		t.Fatalf("the secret stays in the address bar: %s", loc)
	}
	if v := get(t, ctx, "aria-invalid", chromedp.Evaluate[string](`document.getElementById('reset-repeat-password').getAttribute('aria-invalid') || ''`)); v != "true" {
		t.Fatal("the differing field is not marked invalid")
	}
	do(t, ctx, "correct the repeat and set the password",
		chromedp.Evaluate[chromedp.Void](`document.getElementById('reset-repeat-password').value = ''`),
		chromedp.SendKeys(chromedp.ID("reset-repeat-password"), "Yellow-River-Sheep-42"),
		chromedp.Click(chromedp.ID("new-password-submit")),
		chromedp.WaitVisible(chromedp.ID("reset-done")),
	)
	apiLogin(t, srv.URL, "zhao.min", "Yellow-River-Sheep-42")
}
