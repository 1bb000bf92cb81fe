package pages_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/pages"
)

func TestSigninPageHeadersAndForm(t *testing.T) {
	e := newEnv(t, options{pages: pages.Config{RedirectDomains: []string{"app.example.test", ".apps.example.test"}}})
	r := e.get(e.client(), "/auth/signin")
	want(t, r, 200)
	wantCSP := "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' " +
		"https://*.apps.example.test " + e.srv.URL + " https://app.example.test; frame-ancestors 'none'; base-uri 'none'"
	for name, v := range map[string]string{
		"Content-Security-Policy": wantCSP, "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
		"Cache-Control": "no-store", "Content-Type": "text/html; charset=utf-8",
	} {
		if got := r.header.Get(name); got != v {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
	has(t, r, `autocomplete="username"`, `autocomplete="current-password"`, `name="remember"`, `href="/auth/static/style.css"`, `<html lang="en">`)
	checkLabels(t, r)
	if strings.Contains(r.body, "<script") || strings.Contains(r.body, "style=") || strings.Contains(r.body, "<style") {
		t.Error("the page has inline script or style")
	}

	css := e.get(e.client(), "/auth/static/style.css")
	want(t, css, 200)
	if ct := css.header.Get("Content-Type"); ct != "text/css; charset=utf-8" {
		t.Errorf("style Content-Type = %q", ct)
	}
}

// checkLabels checks that every visible control of the page has a label.
func checkLabels(t testing.TB, r response) {
	t.Helper()
	controls := regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`).FindAllString(r.body, -1)
	for _, c := range controls {
		if strings.Contains(c, `type="hidden"`) {
			continue
		}
		id := regexp.MustCompile(`\bid="([^"]+)"`).FindStringSubmatch(c)
		if id == nil || !strings.Contains(r.body, `<label for="`+id[1]+`">`) {
			t.Errorf("control without a label: %s", c)
		}
	}
}

func TestSigninWrongPassword(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	c := e.client()
	r := e.signIn(c, "ada@example.com", "not the password at all", "remember", "1", "rd", "/auth/account?x=1")
	want(t, r, http.StatusUnauthorized)
	has(t, r, "That email and password do not match.", `value="ada@example.com"`, `name="rd" value="/auth/account?x=1"`, `checked`)
	if strings.Contains(r.body, "not the password at all") {
		t.Error("the re-rendered form holds the password")
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Set-Cookie") != "" {
		t.Errorf("headers %v", r.header)
	}
	want(t, e.signIn(c, "", ""), http.StatusBadRequest)
	want(t, e.signIn(c, "nobody@example.com", pw), http.StatusUnauthorized)
}

func TestSigninThrottled(t *testing.T) {
	e := newEnv(t, options{svc: gatehouse.Config{Limits: gatehouse.Limits{AccountFailures: 2}}})
	e.register("ada@example.com")
	c := e.client()
	want(t, e.signIn(c, "ada@example.com", "wrong password here"), http.StatusUnauthorized)
	e.signIn(c, "ada@example.com", "wrong password here") // the limit is reached
	r := e.signIn(c, "ada@example.com", pw)
	want(t, r, http.StatusTooManyRequests)
	has(t, r, "Too many attempts", `value="ada@example.com"`)
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

func TestSigninSuccessAndReturn(t *testing.T) {
	e := newEnv(t, options{pages: pages.Config{RedirectDomains: []string{"app.example.test"}}})
	e.register("ada@example.com")

	c := e.client()
	r := e.signIn(c, "ada@example.com", pw)
	wantRedirect(t, r, "/auth/account")
	ck := r.header.Get("Set-Cookie")
	if !strings.HasPrefix(ck, "__Host-gatehouse=") || !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "Secure") ||
		!strings.Contains(ck, "SameSite=Lax") || !strings.Contains(ck, "Path=/") || strings.Contains(ck, "Max-Age") {
		t.Errorf("Set-Cookie = %q, not the JSON API's browser-session cookie", ck)
	}
	if r := e.get(c, "/v1/me"); r.status != 200 {
		t.Errorf("the JSON API does not accept the pages' cookie: %d", r.status)
	}

	r = e.signIn(e.client(), "ada@example.com", pw, "rd", "https://app.example.test/orders?id=7", "remember", "1")
	wantRedirect(t, r, "https://app.example.test/orders?id=7")
	if ck := r.header.Get("Set-Cookie"); !strings.Contains(ck, "Max-Age=") {
		t.Errorf("remember me: Set-Cookie = %q, want a Max-Age", ck)
	}
	wantRedirect(t, e.signIn(e.client(), "ada@example.com", pw, "rd", "/auth/account?from=x"), "/auth/account?from=x")
	wantRedirect(t, e.signIn(e.client(), "ada@example.com", pw, "rd", e.srv.URL+"/auth/account"), e.srv.URL+"/auth/account")
}

func TestHostileReturnURLs(t *testing.T) {
	e := newEnv(t, options{pages: pages.Config{RedirectDomains: []string{"app.example.test"}}})
	e.register("ada@example.com")
	for _, rd := range []string{
		"//evil.example", "https://evil.example@app.example.test/", "/\\evil.example", "%2F%2Fevil.example",
		"https://evil.example/", "javascript:alert(1)", "data:text/html,hi", "http://app.example.test/",
		"https://app.example.test.evil.example/", "https://app.example.test\t.evil.example/", "JAVASCRIPT:alert(1)",
		"https://app.example.test:8443/",
	} {
		t.Run(rd, func(t *testing.T) {
			r := e.get(e.client(), "/auth/signin?rd="+url.QueryEscape(rd))
			want(t, r, 200)
			has(t, r, `name="rd" value=""`)
			wantRedirect(t, e.signIn(e.client(), "ada@example.com", pw, "rd", rd), "/auth/account")
		})
	}
}

func TestSignup(t *testing.T) {
	e := newEnv(t, options{})
	c := e.client()
	r := e.get(c, "/auth/signup?rd=/auth/account")
	want(t, r, 200)
	has(t, r, `autocomplete="username"`, `autocomplete="new-password"`)
	checkLabels(t, r)

	r = e.post(c, "/auth/signup", url.Values{"email": {"ada@example.com"}, "password": {"short"}})
	want(t, r, http.StatusBadRequest)
	has(t, r, "too weak", "at least 8 characters", `value="ada@example.com"`)
	want(t, e.post(c, "/auth/signup", url.Values{"email": {"not an email"}, "password": {pw}}), http.StatusBadRequest)

	r = e.post(c, "/auth/signup", url.Values{"email": {"ada@example.com"}, "password": {pw}, "rd": {"/auth/account?new=1"}})
	wantRedirect(t, r, "/auth/account?new=1")
	has(t, e.get(c, "/auth/account"), "ada@example.com")

	r = e.post(e.client(), "/auth/signup", url.Values{"email": {"ada@example.com"}, "password": {pw}})
	want(t, r, http.StatusConflict)
	has(t, r, "already exists")
}

func TestSignupDisabled(t *testing.T) {
	e := newEnv(t, options{pages: pages.Config{NoSignup: true}})
	c := e.client()
	want(t, e.get(c, "/auth/signup"), http.StatusNotFound)
	want(t, e.post(c, "/auth/signup", url.Values{"email": {"ada@example.com"}, "password": {pw}}), http.StatusNotFound)
	if r := e.get(c, "/auth/signin"); strings.Contains(r.body, "/auth/signup") {
		t.Error("the sign-in page links to sign-up under --no-signup")
	}

	// Should the pages offer sign-up while the Service refuses it, the
	// Service's answer is shown: 403 signup_disabled.
	e = newEnv(t, options{svc: gatehouse.Config{NoSignup: true}})
	r := e.post(e.client(), "/auth/signup", url.Values{"email": {"ada@example.com"}, "password": {pw}})
	want(t, r, http.StatusForbidden)
	has(t, r, "New accounts cannot be created here.", `value="ada@example.com"`)
}

func TestCrossSitePostsChangeNothing(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	cross := []string{"Sec-Fetch-Site", "cross-site"}

	c := e.client()
	r := e.post(c, "/auth/signin", url.Values{"email": {"ada@example.com"}, "password": {pw}}, cross...)
	want(t, r, http.StatusForbidden)
	has(t, r, "sent from another site")
	if r.header.Get("Set-Cookie") != "" {
		t.Error("a cross-site sign-in set a cookie")
	}
	want(t, e.post(e.client(), "/auth/signup", url.Values{"email": {"bob@example.com"}, "password": {pw}}, "Sec-Fetch-Site", "", "Origin", "https://evil.example"), http.StatusForbidden)
	if _, err := e.svc.Login(context.Background(), gatehouse.LoginRequest{Email: "bob@example.com", Password: pw, Mode: gatehouse.ModeSession}); gatehouse.ErrorCode(err) != gatehouse.CodeInvalidCredentials {
		t.Errorf("a cross-site sign-up created the account: %v", err)
	}

	wantRedirect(t, e.signIn(c, "ada@example.com", pw), "/auth/account")
	other := e.client()
	wantRedirect(t, e.signIn(other, "ada@example.com", pw), "/auth/account")

	r = e.post(c, "/auth/account/password", url.Values{"current_password": {pw}, "new_password": {"a brand new passphrase"}}, cross...)
	want(t, r, http.StatusForbidden)
	has(t, r, "sent from another site", "ada@example.com")
	want(t, e.post(c, "/auth/account/logins/signout-others", url.Values{}, cross...), http.StatusForbidden)
	want(t, e.post(c, "/auth/signout", url.Values{}, cross...), http.StatusForbidden)
	want(t, e.post(c, "/auth/signout", url.Values{}, "Sec-Fetch-Site", "same-site"), http.StatusForbidden)

	// Nothing changed: both logins live, the old password works.
	want(t, e.get(c, "/v1/me"), 200)
	want(t, e.get(other, "/v1/me"), 200)
	wantRedirect(t, e.signIn(e.client(), "ada@example.com", pw), "/auth/account")
}

func TestAccountNeedsALogin(t *testing.T) {
	e := newEnv(t, options{})
	c := e.client()
	wantRedirect(t, e.get(c, "/auth/account"), "/auth/signin?rd=%2Fauth%2Faccount")
	wantRedirect(t, e.get(c, "/auth/account?notice=x"), "/auth/signin?rd=%2Fauth%2Faccount%3Fnotice%3Dx")
	wantRedirect(t, e.post(c, "/auth/account/password", url.Values{}), "/auth/signin")
	wantRedirect(t, e.get(c, "/auth/"), "/auth/account")

	// The rd the redirect names brings the person back after signing in.
	e.register("ada@example.com")
	r := e.get(c, "/auth/signin?rd=%2Fauth%2Faccount")
	has(t, r, `name="rd" value="/auth/account"`)
	wantRedirect(t, e.signIn(c, "ada@example.com", pw, "rd", "/auth/account"), "/auth/account")
}

func TestAccountLoginsAndSignouts(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	phone, laptop := e.client(), e.client()
	e.signIn(phone, "ada@example.com", pw)
	r := e.post(laptop, "/auth/signin", url.Values{"email": {"ada@example.com"}, "password": {pw}},
		"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36")
	wantRedirect(t, r, "/auth/account")

	r = e.get(laptop, "/auth/account", "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36")
	want(t, r, 200)
	has(t, r, "ada@example.com", "Chrome on Linux", "This device", "127.0.0.1", "Sign out everywhere else", `autocomplete="new-password"`, `aria-current="page"`)
	if n := strings.Count(r.body, `<li class="login`); n != 2 {
		t.Errorf("%d logins listed, want 2", n)
	}
	if n := strings.Count(r.body, "This device"); n != 1 {
		t.Errorf(`"This device" %d times, want once`, n)
	}
	checkLabels(t, r)
	if r.header.Get("Cache-Control") != "no-store" {
		t.Error("the account page may be stored")
	}

	// Sign out the phone from the laptop.
	logins, err := e.svc.Sessions(context.Background(), principalOf(t, e, laptop))
	if err != nil {
		t.Fatal(err)
	}
	var phoneID string
	for _, l := range logins {
		if l.Device != "Chrome on Linux" {
			phoneID = l.ID
		}
	}
	wantRedirect(t, e.post(laptop, "/auth/account/logins/signout", url.Values{"id": {phoneID}}), "/auth/account?notice=signed_out_one")
	has(t, e.get(laptop, "/auth/account?notice=signed_out_one"), "That login was signed out.", "This is your only login.")
	want(t, e.get(phone, "/v1/me"), 401)
	r = e.post(laptop, "/auth/account/logins/signout", url.Values{"id": {phoneID}})
	want(t, r, http.StatusNotFound)
	has(t, r, "no longer exists")

	// Sign out everywhere else.
	tablet := e.client()
	e.signIn(tablet, "ada@example.com", pw)
	wantRedirect(t, e.post(laptop, "/auth/account/logins/signout-others", url.Values{}), "/auth/account?notice=signed_out_others")
	want(t, e.get(tablet, "/v1/me"), 401)
	want(t, e.get(laptop, "/v1/me"), 200)

	// Signing out this login from the list ends it and clears the cookie.
	own := principalOf(t, e, laptop).Login.ID
	r = e.post(laptop, "/auth/account/logins/signout", url.Values{"id": {own}})
	wantRedirect(t, r, "/auth/signin")
	if !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("the cookie is not cleared: %q", r.header.Get("Set-Cookie"))
	}
	wantRedirect(t, e.get(laptop, "/auth/account"), "/auth/signin?rd=%2Fauth%2Faccount")
}

// principalOf returns who c is signed in as, through the JSON API's cookie.
func principalOf(t *testing.T, e *env, c *http.Client) gatehouse.Principal {
	t.Helper()
	u, _ := url.Parse(e.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "__Host-gatehouse" {
			p, err := e.svc.AuthenticateSession(context.Background(), ck.Value)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	t.Fatal("not signed in")
	return gatehouse.Principal{}
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	c, other := e.client(), e.client()
	e.signIn(c, "ada@example.com", pw)
	e.signIn(other, "ada@example.com", pw)

	r := e.post(c, "/auth/account/password", url.Values{"current_password": {"wrong password"}, "new_password": {"a brand new passphrase"}})
	want(t, r, http.StatusUnauthorized)
	has(t, r, "do not match")
	if strings.Contains(r.body, "a brand new passphrase") {
		t.Error("the page holds the new password")
	}
	want(t, e.post(c, "/auth/account/password", url.Values{"current_password": {pw}, "new_password": {"short"}}), http.StatusBadRequest)
	want(t, e.post(c, "/auth/account/password", url.Values{"current_password": {pw}}), http.StatusBadRequest)

	wantRedirect(t, e.post(c, "/auth/account/password", url.Values{"current_password": {pw}, "new_password": {"a brand new passphrase"}}), "/auth/account?notice=password_changed")
	has(t, e.get(c, "/auth/account?notice=password_changed"), "Your password was changed.")
	want(t, e.get(other, "/v1/me"), 401)
	want(t, e.signIn(e.client(), "ada@example.com", pw), http.StatusUnauthorized)
	wantRedirect(t, e.signIn(e.client(), "ada@example.com", "a brand new passphrase"), "/auth/account")
}

func TestSignout(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	c := e.client()
	e.signIn(c, "ada@example.com", pw)
	u, _ := url.Parse(e.srv.URL)
	secret := c.Jar.Cookies(u)[0].Value
	r := e.post(c, "/auth/signout", url.Values{})
	wantRedirect(t, r, "/auth/signin")
	if !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("the cookie is not cleared: %q", r.header.Get("Set-Cookie"))
	}
	if _, err := e.svc.AuthenticateSession(context.Background(), secret); gatehouse.ErrorCode(err) != gatehouse.CodeUnauthenticated {
		t.Errorf("the login still works after signing out: %v", err)
	}
	wantRedirect(t, e.post(e.client(), "/auth/signout", url.Values{}), "/auth/signin")
	r = e.get(c, "/auth/signout")
	want(t, r, http.StatusMethodNotAllowed)
	if r.header.Get("Allow") != "POST" {
		t.Errorf("Allow = %q", r.header.Get("Allow"))
	}
}

func TestSigninAsSomeoneElseEndsThePreviousLogin(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	e.register("bob@example.com")
	c := e.client()
	e.signIn(c, "ada@example.com", pw)
	ada := principalOf(t, e, c)
	has(t, e.get(c, "/auth/signin"), "You are signed in as ada@example.com")
	wantRedirect(t, e.signIn(c, "bob@example.com", pw), "/auth/account")
	if principalOf(t, e, c).User.Email != "bob@example.com" {
		t.Error("not signed in as bob")
	}
	if l, _ := e.svc.Sessions(context.Background(), ada); len(l) != 0 {
		t.Errorf("ada's login in this browser still lives: %v", l)
	}
}

func TestNotFoundAndFrench(t *testing.T) {
	e := newEnv(t, options{})
	r := e.get(e.client(), "/auth/nothing-here")
	want(t, r, http.StatusNotFound)
	has(t, r, "There is no page here.")
	if r.header.Get("Content-Security-Policy") == "" {
		t.Error("the 404 page has no CSP")
	}
	want(t, e.get(e.client(), "/v1/nothing"), http.StatusNotFound) // the API's, beside

	r = e.get(e.client(), "/auth/signin", "Accept-Language", "fr-CA,fr;q=0.9,en;q=0.8")
	has(t, r, `<html lang="fr">`, "Connexion à Gatehouse", "Mot de passe", "Rester connecté")
	r = e.get(e.client(), "/auth/signin", "Accept-Language", "de-DE,en;q=0.5,fr;q=0.4")
	has(t, r, `<html lang="en">`)
}

func TestBrandName(t *testing.T) {
	e := newEnv(t, options{pages: pages.Config{BrandName: "Acme Login"}})
	has(t, e.get(e.client(), "/auth/signin"), "Sign in to Acme Login", "<title>Sign in · Acme Login</title>")
}

func TestVerifyRedirectForBrowsers(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	const html = "text/html,application/xhtml+xml,*/*;q=0.8"
	fwd := []string{"Accept", html, "X-Forwarded-Proto", "https", "X-Forwarded-Host", "app.example.test", "X-Forwarded-Uri", "/reports?q=1"}

	c := e.client()
	r := e.get(c, "/v1/verify?redirect=true", fwd...)
	wantLoc := e.srv.URL + "/auth/signin?rd=" + url.QueryEscape("https://app.example.test/reports?q=1")
	if r.status != http.StatusFound || r.header.Get("Location") != wantLoc {
		t.Fatalf("got %d Location %q, want 302 %q", r.status, r.header.Get("Location"), wantLoc)
	}
	if r := e.get(c, "/v1/verify?redirect=true", "Accept", "application/json"); r.status != 401 {
		t.Errorf("an API client got %d, want 401", r.status)
	}

	e.signIn(c, "ada@example.com", pw)
	r = e.get(c, "/v1/verify?redirect=true&permission=users:admin", fwd...)
	want(t, r, http.StatusForbidden)
	has(t, r, "You are signed in as ada@example.com", "users:admin", "Sign in as someone else",
		`href="`+wantLoc+`"`,
		`href="`+e.srv.URL+`/auth/static/style.css"`)
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if csp := r.header.Get("Content-Security-Policy"); csp != "default-src 'none'; style-src "+e.srv.URL+"; img-src "+e.srv.URL+
		" data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'" {
		t.Errorf("CSP = %q, want the issuer's styles and images, and no form", csp)
	}
	if strings.Contains(r.body, `action="/auth/signout"`) {
		t.Error("the forbidden page, served on the app's origin, has a sign-out form that would be refused")
	}
	if r := e.get(c, "/v1/verify?redirect=true&permission=cart:write", fwd...); r.status != 200 {
		t.Errorf("allowed: %d", r.status)
	}
}
