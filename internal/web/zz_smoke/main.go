package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/web"
)

func main() {
	r, err := web.New()
	if err != nil {
		log.Fatal(err)
	}
	us := []units.Unit{{ID: "szs", NameZH: "石嘴山市", NameEN: "Shizuishan City", Kind: "city"}, {ID: "dwk", Parent: "szs", NameZH: "大武口区", NameEN: "Dawukou", Kind: "district"}}
	accounts := []map[string]any{{"name": "admin", "display_name": "管理员", "role": "admin", "unit": "szs", "unit_name": "石嘴山市"}}
	var lastCSRF, lastLang string
	mux := http.NewServeMux()
	mux.Handle("/static/", http.StripPrefix("/static/", http.FileServerFS(web.Static())))
	page := func(p string, v *web.Viewer) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'nonce-abc'; style-src 'self'")
			lang := i18n.ZH
			if req.URL.Query().Get("lang") == "en" {
				lang = i18n.EN
			}
			if err := r.Render(w, web.PageData{Lang: lang, Page: p, Path: req.URL.Path, Viewer: v, CSRF: "tok123", Nonce: "abc", Units: us, Next: "/account"}); err != nil {
				log.Print(err)
			}
		}
	}
	admin := &web.Viewer{Name: "admin", DisplayName: "管理员", Role: "admin", Unit: "szs"}
	mux.HandleFunc("/login", page("login", nil))
	mux.HandleFunc("/account", page("account", admin))
	mux.HandleFunc("/admin/users", page("admin_users", admin))
	mux.HandleFunc("/admin/units", page("admin_units", admin))
	mux.HandleFunc("POST /api/v1/auth/login", func(w http.ResponseWriter, req *http.Request) {
		lastCSRF, lastLang = req.Header.Get("X-CSRF-Token"), req.Header.Get("Accept-Language")
		var body map[string]any
		json.NewDecoder(req.Body).Decode(&body)
		if body["name"] == nil || body["name"] == "" {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(422)
			fmt.Fprint(w, `{"type":"/problems/validation","title":"输入有误","status":422,"detail":"请按提示修改","errors":[{"field":"name","code":"required","message":"必填"}]}`)
			return
		}
		w.WriteHeader(204)
	})
	mux.HandleFunc("GET /api/v1/accounts", func(w http.ResponseWriter, req *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"accounts": accounts, "total": len(accounts)})
	})
	mux.HandleFunc("POST /api/v1/accounts", func(w http.ResponseWriter, req *http.Request) {
		var body map[string]any
		json.NewDecoder(req.Body).Decode(&body)
		log.Printf("create account body: %v", body)
		body["unit_name"] = body["unit"]
		delete(body, "password")
		accounts = append(accounts, body)
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(body)
	})
	tokens := []map[string]any{}
	mux.HandleFunc("GET /api/v1/me/tokens", func(w http.ResponseWriter, req *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"tokens": tokens})
	})
	mux.HandleFunc("POST /api/v1/me/tokens", func(w http.ResponseWriter, req *http.Request) {
		var body map[string]any
		json.NewDecoder(req.Body).Decode(&body)
		log.Printf("create token body: %#v", body)
		tk := map[string]any{"id": "t1", "label": body["label"], "created_at": time.Now().Format(time.RFC3339), "expires_at": time.Now().Add(720 * time.Hour).Format(time.RFC3339)}
		tokens = append(tokens, tk)
		w.WriteHeader(201)
		out := map[string]any{"token": "cct_secret"}
		for k, v := range tk {
			out[k] = v
		}
		json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("DELETE /api/v1/me/tokens/{id}", func(w http.ResponseWriter, req *http.Request) {
		tokens = nil
		w.WriteHeader(204)
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go http.Serve(ln, mux)
	base := "http://" + ln.Addr().String()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath("/usr/bin/chromium"), chromedp.NoSandbox)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel2 := chromedp.NewContext(actx)
	defer cancel2()
	ctx, cancel3 := context.WithTimeout(ctx, 60*time.Second)
	defer cancel3()

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		if err := chromedp.Do(ctx, steps...); err != nil {
			log.Fatalf("%s: %v", what, err)
		}
	}
	ev := func(js string) string {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			log.Fatalf("eval %s: %v", js, err)
		}
		return v
	}
	sleep := func() { time.Sleep(400 * time.Millisecond) }
	do("nav", chromedp.Navigate(base+"/login"))
	fmt.Println("nav ok", ev(`document.title`))
	do("wait", chromedp.WaitVisible("#login-submit"))
	fmt.Println("wait ok")
	do("click", chromedp.Click("#login-submit"))
	fmt.Println("click ok")
	do("waiterr", chromedp.WaitVisible("#login-name-error"))
	fmt.Println("now:", ev(`location.href + ' ' + document.documentElement.className + ' ' + document.body.innerText.slice(0,300)`))
	fmt.Printf("login: aria-invalid=%s describedby=%s status=%q role=%s focus=%s csrf=%q lang=%q\n", ev(`document.getElementById('login-name').getAttribute('aria-invalid')`),
		ev(`document.getElementById('login-name').getAttribute('aria-describedby')`), ev(`document.querySelector('#login-form .form-status').innerText`),
		ev(`document.querySelector('#login-form .form-status [role]').getAttribute('role')`), ev(`document.activeElement.id`), lastCSRF, lastLang)
	do("login ok", chromedp.SendKeys("#login-name", "bob"), chromedp.SendKeys("#login-password", "pw"), chromedp.Click("#login-submit"), chromedp.WaitVisible("#tokens-table"))
	fmt.Println("after login:", ev(`location.href`))
	do("elderly", chromedp.Click("#elderly-toggle"))
	fmt.Println("pressed:", ev(`JSON.stringify(document.getElementById('elderly-toggle').textContent)+' '+document.getElementById('elderly-toggle').getAttribute('aria-pressed')+' '+document.getElementById('elderly-toggle').innerText`))
	do("reload", chromedp.Reload(), chromedp.WaitVisible("#tokens-table"))
	fmt.Println("elderly after reload:", ev(`document.documentElement.className+' '+getComputedStyle(document.body).fontSize+' '+getComputedStyle(document.body).lineHeight+' '+document.getElementById('lang-en').getBoundingClientRect().height+' '+document.getElementById('token-submit').getBoundingClientRect().height+' '+document.getElementById('token-label').getBoundingClientRect().height+' pressed='+document.getElementById('elderly-toggle').getAttribute('aria-pressed')`))
	do("token", chromedp.SendKeys("#token-label", "script"), chromedp.Click("#token-submit"), chromedp.WaitVisible("#new-token"))
	sleep()
	fmt.Printf("token: %q focus=%s table=%q status=%q\n", ev(`document.getElementById('new-token').value`), ev(`document.activeElement.id`), ev(`document.querySelector('#tokens-table tbody').innerText`), ev(`document.querySelector('#token-form .form-status').innerText`))
	do("revoke", chromedp.Click(".revoke-token"))
	sleep()
	fmt.Printf("revoked: table=%q status=%q\n", ev(`document.querySelector('#tokens-table tbody').innerText`), ev(`document.getElementById('tokens-status').innerText`))
	do("users", chromedp.Navigate(base+"/admin/users?lang=en"), chromedp.WaitVisible("#create-account-form"))
	sleep()
	do("create", chromedp.SendKeys("#account-name", "zhang.san"), chromedp.SendKeys("#account-display-name", "张三"), chromedp.SendKeys("#account-password", "averylongpassword"), chromedp.SetValue("#account-unit", "dwk"), chromedp.Click("#create-account-submit"))
	sleep()
	fmt.Printf("accounts: table=%q status=%q name-after=%q\n", ev(`document.getElementById('accounts-table').innerText`), ev(`document.querySelector('#create-account-form .form-status').innerText`), ev(`document.getElementById('account-name').value`))
	do("units", chromedp.Navigate(base+"/admin/units"), chromedp.WaitVisible("#unit-tree"))
	fmt.Println("units:", ev(`document.getElementById('unit-tree').innerText`))
}
