package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// oauth2ProxyVersion is the oauth2-proxy the tests build.
const oauth2ProxyVersion = "v7.15.6"

var oauth2ProxyMu sync.Mutex

// needOAuth2Proxy returns the path of oauth2-proxy at oauth2ProxyVersion,
// built with `go install` into the user's cache the first time (about a
// minute), from the Go module proxy.
func needOAuth2Proxy(t *testing.T) string {
	t.Helper()
	oauth2ProxyMu.Lock()
	defer oauth2ProxyMu.Unlock()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "gatehouse-e2e", "oauth2-proxy-"+oauth2ProxyVersion)
	exe := filepath.Join(dir, "oauth2-proxy")
	if isExecutable(exe) {
		return exe
	}
	t.Logf("building oauth2-proxy %s into %s", oauth2ProxyVersion, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/oauth2-proxy/oauth2-proxy/v7@"+oauth2ProxyVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install oauth2-proxy: %v\n%s", err, out)
	}
	return exe
}

// tokenPayload reads the claims of a JWT without checking it (the test's
// app only shows them; oauth2-proxy checked the signature).
func tokenPayload(jwt string) map[string]any {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var claims map[string]any
	json.Unmarshal(b, &claims)
	return claims
}

// TestOAuth2Proxy runs deploy/oauth2-proxy/oauth2-proxy.cfg in front of an
// app, with the binary as its OpenID Connect provider, and drives it in
// Chromium: the browser, signed in to Gatehouse with a password alone,
// opens the app; oauth2-proxy asks for acr 2, so Gatehouse's step-up page
// asks for the second factor, then its consent page for the app (not
// trusted), and the app gets the right user, with an ID token at acr 2.
// The app's sign-in is then a login on the account page: signing it out
// there ends oauth2-proxy's session at its next refresh (oauth2-proxy signs
// in again, a new login), and "Remove access" does too, after which the
// next visit asks for consent again. Signing out of the app, with
// oauth2-proxy's backend logout, ends the app's login.
func TestOAuth2Proxy(t *testing.T) {
	exe := needOAuth2Proxy(t)
	addr := freeAddr(t)
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	issuer := "http://localhost:" + strings.Split(addr, ":")[1]
	gh := startArgs(t, db, addr, "serve", "--dev", "--addr", addr, "--db", db, "--issuer", issuer)
	gh.url = issuer
	ada := newBrowserUser(t, gh, "ada@example.com")
	// oauth2-proxy lets in only addresses the provider says are verified:
	// ada opens the link serve --dev printed for her sign-up.
	var verify string
	eventually(t, 10*time.Second, "the verification link on standard output", func() bool {
		for _, m := range printedLinks.FindAllStringSubmatch(gh.out.String(), -1) {
			if m[1] == "verify-email" {
				verify = m[2]
			}
		}
		return verify != ""
	})
	gh.want(gh.call(newClient(), "POST", "/v1/email/verify", map[string]string{"token": verify}), 200, "")

	// The app behind oauth2-proxy shows what oauth2-proxy told it.
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims := tokenPayload(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>app</title><p id="email">%s</p><p id="user">%s</p><p id="acr">%v</p><p id="path">%s</p>`,
			html.EscapeString(r.Header.Get("X-Forwarded-Email")), html.EscapeString(r.Header.Get("X-Forwarded-User")),
			html.EscapeString(fmt.Sprint(claims["acr"])), html.EscapeString(r.URL.RequestURI()))
	}))
	t.Cleanup(app.Close)

	listen := freeAddr(t)
	appOrigin := "http://" + listen
	out, errOut, code := cli(t, "", nil, "clients", "add", "--db", db, "--name", "Wiki", "--redirect-uri", appOrigin+"/oauth2/callback")
	id, secret := clientIDLine.FindStringSubmatch(out), clientSecretLine.FindStringSubmatch(out)
	if code != 0 || id == nil || secret == nil {
		t.Fatalf("clients add: %d %q %q", code, out, errOut)
	}
	cookieSecret := make([]byte, 32)
	rand.Read(cookieSecret)
	cfg := renderConfig(t, "deploy/oauth2-proxy/oauth2-proxy.cfg", t.TempDir(), map[string]string{
		"LISTEN": listen, "ISSUER": issuer, "APP": appOrigin, "UPSTREAM": app.URL + "/",
		"CLIENT_ID": id[1], "CLIENT_SECRET": secret[1], "COOKIE_SECRET": base64.URLEncoding.EncodeToString(cookieSecret),
	})
	// Plain HTTP on loopback: no Secure cookie; a refresh every 2 s rather
	// than every minute; two factors asked for; the ID token passed on.
	// Signing out of the app ends its Gatehouse login too (the README's
	// backend_logout_url), and may return to Gatehouse's account page.
	startProxy(t, "oauth2-proxy", nil, appOrigin+"/ping", exe, "--config", cfg,
		"--cookie-secure=false", "--cookie-refresh=2s", "--acr-values=2", "--pass-authorization-header",
		"--backend-logout-url="+issuer+"/oauth2/logout?id_token_hint={id_token}", "--whitelist-domain=localhost:"+strings.Split(addr, ":")[1])

	b := openTab(t, newBrowser(t), issuer, "oauth2-proxy")
	at := func(origin, path string) string {
		return fmt.Sprintf(`document.readyState === "complete" && location.origin === %q && location.pathname === %q`, origin, path)
	}
	// Signed in to Gatehouse with the password alone, then an
	// authenticator app set up (so the login is at aal 1).
	b.do("signing in to Gatehouse", chromedp.Navigate(issuer+"/auth/signin"))
	b.waitFor("the sign-in page", at(issuer, "/auth/signin"), stepTimeout)
	b.do("filling the sign-in form",
		chromedp.SetValue(chromedp.CSS("#email"), ada.email),
		chromedp.SetValue(chromedp.CSS("#password"), shopPassword),
		chromedp.Click(chromedp.CSS("button.primary")),
	)
	b.waitFor("the account page", at(issuer, "/auth/account"), stepTimeout)
	totpSecret := ada.enrolTOTP(t, gh)

	target := appOrigin + "/private/page?x=1"
	b.do("opening the app", chromedp.Navigate(target))
	b.waitFor("the step-up page", at(issuer, "/auth/step-up")+` && document.querySelector("#code") !== null`, stepTimeout)
	b.screenshot("oauth2-proxy-step-up.png")
	if text := b.mainText(); !strings.Contains(text, "Wiki") {
		t.Errorf("the step-up page does not name the app:\n%s", text)
	}
	b.do("giving the code", chromedp.SetValue(chromedp.CSS("#code"), totpCode(t, totpSecret, 1)), chromedp.Click(chromedp.CSS("form:has(#code) button")))
	b.waitFor("the consent page", at(issuer, "/auth/consent"), stepTimeout)
	b.screenshot("oauth2-proxy-consent.png")
	if text := b.mainText(); !strings.Contains(text, "Wiki wants to use your account") || !strings.Contains(text, "stay signed in when you are away") {
		t.Errorf("the consent page:\n%s", text)
	}
	b.do("allowing", chromedp.Click(chromedp.CSS(`button[value=allow]`)))
	b.waitFor("the app", at(appOrigin, "/private/page")+` && document.getElementById("email") !== null`, stepTimeout)
	b.screenshot("oauth2-proxy-app.png")
	for id, want := range map[string]string{"email": ada.email, "user": ada.id, "acr": "2", "path": "/private/page?x=1"} {
		if got := eval[string](b, fmt.Sprintf(`document.getElementById(%q).textContent`, id)); got != want {
			t.Errorf("the app was told %s %q, want %q", id, got, want)
		}
	}

	// The app's sign-in is a login of ada's: signing it out on the account
	// page ends oauth2-proxy's session at its next refresh, and it signs
	// in again (consent remembered): a new login of the app.
	// oauth2-proxy refreshes a session whose age, counted from a clock
	// truncated to the second, is over --cookie-refresh (2 s): up to 3 s
	// after the session began.
	const pastRefresh = 3500 * time.Millisecond
	const appLoginID = `Array.from(document.querySelectorAll("li.login")).filter(li => li.textContent.includes("App sign-in")).map(li => li.querySelector("input[name=id]").value).join(",")`
	openAccount := func() string {
		t.Helper()
		b.do("opening the account page", chromedp.Navigate(issuer+"/auth/account"))
		b.waitFor("the account page", at(issuer, "/auth/account")+` && document.querySelector("#apps") !== null`, stepTimeout)
		return eval[string](b, appLoginID)
	}
	first := openAccount()
	if first == "" || strings.Contains(first, ",") || !strings.Contains(b.mainText(), "Wiki") {
		t.Fatalf("the account page shows app logins %q, want one, of Wiki:\n%s", first, b.mainText())
	}
	b.screenshot("oauth2-proxy-account.png")
	b.do("signing the app's login out", chromedp.Click(chromedp.CSS(fmt.Sprintf(`li.login:has(input[value=%q]) form button`, first))))
	b.waitFor("the notice", at(issuer, "/auth/account")+` && document.querySelector(".notice") !== null`, stepTimeout)
	time.Sleep(pastRefresh)
	b.do("opening the app after its login was signed out", chromedp.Navigate(target))
	b.waitFor("the app again", at(appOrigin, "/private/page")+` && document.getElementById("email") !== null`, stepTimeout)
	if second := openAccount(); second == "" || second == first || strings.Contains(second, first) {
		t.Errorf("app logins after signing the first out: %q (the first was %q): oauth2-proxy's refresh was not refused", second, first)
	}
	b.do("removing Wiki's access", chromedp.Click(chromedp.CSS(`form[action="/auth/account/apps/revoke"] button`)))
	b.waitFor("the notice", at(issuer, "/auth/account")+` && document.querySelector(".notice") !== null`, stepTimeout)
	if text := b.mainText(); strings.Contains(text, "App sign-in") {
		t.Errorf("the app's login is still listed after its access was removed:\n%s", text)
	}

	// oauth2-proxy's cookie is still there, but at its next refresh
	// Gatehouse refuses the refresh token: oauth2-proxy signs in again,
	// and Gatehouse asks for consent again.
	time.Sleep(pastRefresh)
	b.do("opening the app again", chromedp.Navigate(target))
	b.waitFor("the consent page again", at(issuer, "/auth/consent"), stepTimeout)

	// Allowed again, then signed out of the app: oauth2-proxy's backend
	// logout (with the ID token) ends the app's Gatehouse login, and the
	// browser, back on the account page, is still signed in to Gatehouse.
	b.do("allowing again", chromedp.Click(chromedp.CSS(`button[value=allow]`)))
	b.waitFor("the app", at(appOrigin, "/private/page")+` && document.getElementById("email") !== null`, stepTimeout)
	if openAccount() == "" {
		t.Fatal("no app login after allowing again")
	}
	b.do("signing out of the app", chromedp.Navigate(appOrigin+"/oauth2/sign_out?rd="+url.QueryEscape(issuer+"/auth/account")))
	b.waitFor("the account page after signing out of the app", at(issuer, "/auth/account")+` && document.querySelector("#apps") !== null`, stepTimeout)
	if left := eval[string](b, appLoginID); left != "" {
		t.Errorf("app logins after signing out of the app: %q, want none", left)
	}
	if strings.Contains(gh.logs.String(), secret[1]) {
		t.Error("the client secret is in the server's log")
	}
}
