package e2e_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// oidcRedirect is the apps' redirect URI: never called, the browser
// stops there.
const oidcRedirect = "http://127.0.0.1:1/callback"

// oidcApp is an app added with `gatehouse clients add`, and the relying
// party (go-oidc, x/oauth2) it would be.
type oidcApp struct {
	id, secret string
	conf       oauth2.Config
	provider   *gooidc.Provider
}

// addOIDCApp adds an app; extra are more flags of clients add, such as
// --trusted.
func addOIDCApp(t *testing.T, s *server, name string, extra ...string) oidcApp {
	t.Helper()
	out, errOut, code := cli(t, "", nil, append([]string{"clients", "add", "--db", s.db, "--name", name,
		"--redirect-uri", oidcRedirect}, extra...)...)
	id, secret := clientIDLine.FindStringSubmatch(out), clientSecretLine.FindStringSubmatch(out)
	if code != 0 || id == nil {
		t.Fatalf("clients add: %d %q %q", code, out, errOut)
	}
	a := oidcApp{id: id[1]}
	if secret != nil {
		a.secret = secret[1]
	}
	p, err := gooidc.NewProvider(context.Background(), s.url) // the issuer is exactly --issuer's default
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	a.provider = p
	a.conf = oauth2.Config{ClientID: a.id, ClientSecret: a.secret, Endpoint: p.Endpoint(), RedirectURL: oidcRedirect,
		Scopes: []string{gooidc.ScopeOpenID, "email", gooidc.ScopeOfflineAccess}}
	return a
}

// oidcBrowser is a browser with its cookie jar that follows no redirect
// by itself.
type oidcBrowser struct {
	t *testing.T
	s *server
	c *http.Client
}

func newOIDCBrowser(t *testing.T, s *server) *oidcBrowser {
	jar, _ := cookiejar.New(nil)
	return &oidcBrowser{t: t, s: s, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// follow follows redirects within Gatehouse, stopping at a page, at the
// sign-in page or at the app; it returns the status and Location.
func (b *oidcBrowser) follow(u string) (int, *url.URL) {
	b.t.Helper()
	for range 10 {
		res, err := b.c.Get(u)
		if err != nil {
			b.t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		loc := res.Header.Get("Location")
		if res.StatusCode < 300 || res.StatusCode > 399 || !strings.HasPrefix(loc, b.s.url) || strings.HasPrefix(loc, b.s.url+"/auth/") {
			l, _ := url.Parse(loc) // an empty URL when there is none
			return res.StatusCode, l
		}
		u = loc
	}
	b.t.Fatal("too many redirects")
	return 0, nil
}

// signIn posts the sign-in form, going on to rd.
func (b *oidcBrowser) signIn(email, rd string) string {
	b.t.Helper()
	form := url.Values{"email": {email}, "password": {password}, "rd": {rd}}
	req, _ := http.NewRequest("POST", b.s.url+"/auth/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.s.url)
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign-in: %d", res.StatusCode)
	}
	return res.Header.Get("Location")
}

// authorize runs an authorization request, signing in on the way when
// asked to, and returns where the browser is sent back to the app.
func (b *oidcBrowser) authorize(authURL, email string) *url.URL {
	b.t.Helper()
	status, loc := b.follow(authURL)
	if loc != nil && loc.Path == "/auth/signin" && loc.Query().Get("rd") != "" {
		status, loc = b.follow(b.signIn(email, loc.Query().Get("rd")))
	}
	if loc == nil || !strings.HasPrefix(loc.String(), oidcRedirect+"?") || loc.Query().Get("iss") != b.s.url {
		b.t.Fatalf("authorize: %d %v, want a redirect to the app with iss", status, loc)
	}
	return loc
}

type flow struct{ state, nonce, verifier string }

func newFlow() flow {
	return flow{state: "st" + time.Now().Format("150405.000000"), nonce: "n" + time.Now().Format("150405.000000"), verifier: oauth2.GenerateVerifier()}
}

func (a oidcApp) authURL(f flow, opts ...oauth2.AuthCodeOption) string {
	return a.conf.AuthCodeURL(f.state, append([]oauth2.AuthCodeOption{gooidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier)}, opts...)...)
}

// code signs b in (if needed) and returns a code for the app.
func (b *oidcBrowser) code(a oidcApp, f flow) string {
	b.t.Helper()
	back := b.authorize(a.authURL(f), "ada@example.com")
	if back.Query().Get("state") != f.state || back.Query().Get("code") == "" {
		b.t.Fatalf("back to the app: %v, want code and state", back)
	}
	return back.Query().Get("code")
}

// tokenRequest posts a form to the token endpoint as the app (basic
// authentication) and returns the status and the decoded answer.
func tokenRequest(t *testing.T, s *server, id, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.url+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret))))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// TestOIDCCodeFlow signs a person in to an app through the binary's
// OpenID Connect provider, with go-oidc and x/oauth2 as the app: the app
// is added with `gatehouse clients add`, the browser signs in through
// the sign-in form, the ID token verifies against the live JWKS, and the
// app's sign-in is a login of mode oidc that the user sees and ends.
func TestOIDCCodeFlow(t *testing.T) {
	s := start(t, "")
	app := addOIDCApp(t, s, "Wiki", "--trusted")
	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}), 201, "")
	ctx := context.Background()
	b := newOIDCBrowser(t, s)
	f := newFlow()
	tok, err := app.conf.Exchange(ctx, b.code(app, f), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	idToken, err := app.provider.Verifier(&gooidc.Config{ClientID: app.id}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var claims struct {
		Nonce, Email, Sid, Acr string
	}
	idToken.Claims(&claims)
	if claims.Nonce != f.nonce || claims.Email != "ada@example.com" || claims.Sid == "" || claims.Acr != "1" {
		t.Errorf("ID token claims = %+v", claims)
	}
	info, err := app.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Email != "ada@example.com" || info.Subject != idToken.Subject {
		t.Fatalf("userinfo: %+v, %v", info, err)
	}

	// The app's login is in the user's logins, mode oidc, under its name;
	// ending it there ends the app's refresh.
	r := s.call(b.c, "GET", "/v1/sessions", nil)
	var found bool
	sessions, _ := r.body["sessions"].([]any)
	for _, x := range sessions {
		m, _ := x.(map[string]any)
		if m["id"] == claims.Sid {
			found = m["mode"] == "oidc" && m["device"] == "Wiki"
		}
	}
	if !found {
		raw, _ := json.Marshal(r.body)
		t.Fatalf("GET /v1/sessions = %s, want the app's login (mode oidc, device Wiki)", raw)
	}
	s.want(s.call(b.c, "DELETE", "/v1/sessions/"+claims.Sid, nil, "Origin", s.url), 204, "")
	if _, err := app.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil ||
		!strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("refresh after the login was ended: %v, want invalid_grant", err)
	}
}

// TestAppsWithAccess: an app that is not trusted asks consent on its
// page; the person then finds it at GET /v1/me/apps and takes the access
// back with DELETE /v1/me/apps/{id}, which ends the app's refresh token.
func TestAppsWithAccess(t *testing.T) {
	s := start(t, "")
	app := addOIDCApp(t, s, "Forum")
	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}), 201, "")
	b := newOIDCBrowser(t, s)
	f := newFlow()
	status, loc := b.follow(app.authURL(f))
	if loc == nil || loc.Path != "/auth/signin" {
		t.Fatalf("authorize: %d %v, want the sign-in page", status, loc)
	}
	status, loc = b.follow(b.signIn("ada@example.com", loc.Query().Get("rd")))
	if loc == nil || loc.Path != "/auth/consent" {
		t.Fatalf("after signing in: %d %v, want the consent page", status, loc)
	}
	form := url.Values{"id": {loc.Query().Get("id")}, "decision": {"allow"}}
	req, _ := http.NewRequest("POST", s.url+"/auth/consent", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.url)
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	_, back := b.follow(s.url + res.Header.Get("Location")) // a path on Gatehouse
	if back == nil || back.Query().Get("code") == "" {
		t.Fatalf("after consenting: %v, want a code", back)
	}
	ctx := context.Background()
	tok, err := app.conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}

	r := s.call(b.c, "GET", "/v1/me/apps", nil)
	apps, _ := r.body["apps"].([]any)
	if r.status != http.StatusOK || len(apps) != 1 || apps[0].(map[string]any)["client_id"] != app.id {
		t.Fatalf("GET /v1/me/apps = %d %s, want Forum", r.status, r.raw)
	}
	s.want(s.call(b.c, "DELETE", "/v1/me/apps/"+app.id, nil, "Origin", "https://evil.example"), 403, "cross_origin")
	s.want(s.call(b.c, "DELETE", "/v1/me/apps/no-such-app", nil, "Origin", s.url), 404, "not_found")
	tok, err = app.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh before the access was removed: %v", err)
	}
	s.want(s.call(b.c, "DELETE", "/v1/me/apps/"+app.id, nil, "Origin", s.url), 204, "")
	if r := s.call(b.c, "GET", "/v1/me/apps", nil); strings.TrimSpace(string(r.raw)) != `{"apps":[]}` {
		t.Errorf("GET /v1/me/apps after removal = %s", r.raw)
	}
	if _, err := app.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil ||
		!strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("refresh after the access was removed: %v, want invalid_grant", err)
	}
}

// TestOIDCExpiredCode waits out an authorization code's 60 s against the
// binary: past them the code is refused, and it was never exchanged. It
// runs in parallel, so that the wait overlaps the other parallel tests
// rather than adding to the sequential ones.
func TestOIDCExpiredCode(t *testing.T) {
	t.Parallel()
	s := start(t, "")
	app := addOIDCApp(t, s, "Wiki", "--trusted")
	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}), 201, "")
	f := newFlow()
	code := newOIDCBrowser(t, s).code(app, f)
	time.Sleep(61 * time.Second) // the contract: "lives 60 s"
	status, m := tokenRequest(t, s, app.id, app.secret, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {oidcRedirect}, "code_verifier": {f.verifier}})
	if status != http.StatusBadRequest || m["error"] != "invalid_grant" {
		t.Errorf("an expired code: %d %v, want 400 invalid_grant", status, m)
	}
	r := s.call(newClient(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "token"})
	var n int
	for _, x := range s.call(newClient(), "GET", "/v1/sessions", nil, "Authorization", "Bearer "+r.body["access_token"].(string)).body["sessions"].([]any) {
		if x.(map[string]any)["mode"] == "oidc" {
			n++
		}
	}
	if n != 0 {
		t.Errorf("%d app logins after an expired code, want none", n)
	}
}

// TestOIDCRefusals is issue 17's negative list against the binary (the
// expired code is TestOIDCExpiredCode).
func TestOIDCRefusals(t *testing.T) {
	s := start(t, "")
	app := addOIDCApp(t, s, "Wiki", "--trusted")
	other := addOIDCApp(t, s, "Other", "--trusted")
	public := addOIDCApp(t, s, "SPA", "--public", "--trusted")
	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}), 201, "")
	b := newOIDCBrowser(t, s)
	b.code(app, newFlow()) // signed in from here on

	// pageOnly: refused on a page, never redirected to the app.
	pageOnly := func(name string, change func(q url.Values)) {
		u, _ := url.Parse(app.authURL(newFlow()))
		q := u.Query()
		change(q)
		u.RawQuery = q.Encode()
		if status, loc := b.follow(u.String()); status != http.StatusBadRequest || loc.String() != "" {
			t.Errorf("%s: %d %v, want 400 and no redirect", name, status, loc)
		}
	}
	pageOnly("unknown client", func(q url.Values) { q.Set("client_id", "no-such-client") })
	pageOnly("redirect_uri with a trailing slash", func(q url.Values) { q.Set("redirect_uri", oidcRedirect+"/") })
	pageOnly("redirect_uri in another case", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:1/Callback") })
	pageOnly("redirect_uri with an extra query", func(q url.Values) { q.Set("redirect_uri", oidcRedirect+"?x=1") })
	pageOnly("redirect_uri on another port", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:2/callback") })

	// toApp: refused with an OAuth error sent to the app.
	toApp := func(name, want string, u string, browser *oidcBrowser) {
		_, loc := browser.follow(u)
		if loc == nil || !strings.HasPrefix(loc.String(), oidcRedirect+"?") || loc.Query().Get("error") != want || loc.Query().Get("iss") != s.url {
			t.Errorf("%s: %v, want error=%s with iss", name, loc, want)
		}
	}
	scoped := app.conf
	scoped.Scopes = []string{"openid", "admin"}
	toApp("scope not offered", "invalid_scope", scoped.AuthCodeURL("s"), b)
	f := newFlow()
	toApp("plain PKCE of a public client", "invalid_request", public.conf.AuthCodeURL(f.state,
		oauth2.SetAuthURLParam("code_challenge", f.verifier), oauth2.SetAuthURLParam("code_challenge_method", "plain")), b)
	toApp("public client without PKCE", "invalid_request", public.conf.AuthCodeURL(f.state), b)
	toApp("prompt=none without a login", "login_required", app.authURL(newFlow(), oauth2.SetAuthURLParam("prompt", "none")), newOIDCBrowser(t, s))

	exchange := func(a oidcApp, code, verifier string) (int, map[string]any) {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {oidcRedirect}}
		if verifier != "" {
			form.Set("code_verifier", verifier)
		}
		return tokenRequest(t, s, a.id, a.secret, form)
	}
	want := func(name string, status int, m map[string]any, wantStatus int, wantErr string) {
		t.Helper()
		if got, _ := m["error"].(string); status != wantStatus || got != wantErr {
			t.Errorf("%s: %d %v, want %d %s", name, status, m, wantStatus, wantErr)
		}
	}
	f = newFlow()
	code := b.code(app, f)
	status, m := tokenRequest(t, s, app.id, "wrong secret", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {oidcRedirect}, "code_verifier": {f.verifier}})
	want("wrong secret", status, m, 401, "invalid_client")
	status, m = exchange(app, code, "")
	want("missing verifier", status, m, 400, "invalid_request")
	status, m = exchange(app, code, oauth2.GenerateVerifier())
	want("wrong verifier", status, m, 400, "invalid_grant")
	status, m = exchange(other, code, f.verifier)
	want("code of another client", status, m, 400, "invalid_grant")
	status, first := exchange(app, code, f.verifier)
	want("the code, at last", status, first, 200, "")
	status, m = exchange(app, code, f.verifier)
	want("code reused", status, m, 400, "invalid_grant")
	refresh := func(a oidcApp, rt string) (int, map[string]any) {
		return tokenRequest(t, s, a.id, a.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	}
	rt, _ := first["refresh_token"].(string)
	status, m = refresh(app, rt)
	want("refresh after the code's reuse (its login revoked)", status, m, 400, "invalid_grant")

	f = newFlow()
	_, tok := exchange(app, b.code(app, f), f.verifier)
	rt, _ = tok["refresh_token"].(string)
	status, m = refresh(other, rt)
	want("refresh token of another client", status, m, 400, "invalid_grant")
	status, m = tokenRequest(t, s, app.id, app.secret, url.Values{"grant_type": {"password"}, "username": {"ada@example.com"}, "password": {password}})
	want("password grant", status, m, 400, "unsupported_grant_type")

	// A disabled user's code is refused.
	f = newFlow()
	code = b.code(app, f)
	if _, stderr, code := cli(t, "", nil, "user", "disable", "--db", s.db, "ada@example.com"); code != 0 {
		t.Fatalf("user disable: %s", stderr)
	}
	status, m = exchange(app, code, f.verifier)
	want("disabled user", status, m, 400, "invalid_grant")

	// Of all this refusing, the log kept no secret: not the apps' secrets,
	// a code, a refresh or access token, nor the password.
	secrets := map[string]string{"the app's secret": app.secret, "the other app's secret": other.secret,
		"a code": code, "the password": password, "a PKCE verifier": f.verifier}
	for _, answer := range []map[string]any{first, tok} {
		for _, k := range []string{"refresh_token", "access_token", "id_token"} {
			v, _ := answer[k].(string)
			secrets[k] = v
		}
	}
	logs := s.logs.String()
	for what, v := range secrets {
		if v == "" || strings.Contains(logs, v) {
			t.Errorf("the server's log holds %s (or the test has none to look for)", what)
		}
	}
}
