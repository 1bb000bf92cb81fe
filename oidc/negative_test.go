package oidc_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse"
)

// fixture is a Gatehouse with a user, a confidential and a public app
// (both trusted) and a signed-in browser.
type fixture struct {
	*env
	user         gatehouse.User
	app, public  gatehouse.App
	secret       string
	rp, publicRP *rp
	browser      *http.Client
	other        gatehouse.App
	otherSecret  string
}

func newFixture(t *testing.T) *fixture {
	e := newEnv(t)
	f := &fixture{env: e, user: e.register("ada@example.com")}
	f.app, f.secret = e.app(gatehouse.AppSpec{Name: "Wiki", Trusted: true})
	f.public, _ = e.app(gatehouse.AppSpec{Name: "SPA", Public: true, Trusted: true})
	f.other, f.otherSecret = e.app(gatehouse.AppSpec{Name: "Other", Trusted: true})
	f.rp, f.publicRP = e.rp(f.app, f.secret), e.rp(f.public, "")
	a := newAuthorization()
	f.browser, _ = e.signedInCode(f.rp, "ada@example.com", a)
	return f
}

// authorize runs the signed-in browser through an authorization request
// of the query q.
func (f *fixture) authorize(q url.Values) response {
	f.t.Helper()
	return f.follow(f.browser, f.issuer+"/oauth2/authorize?"+q.Encode())
}

// query is a valid authorization request of the confidential app.
func (f *fixture) query(a authorization) url.Values {
	u, _ := url.Parse(f.rp.conf.AuthCodeURL(a.state, a.opts...))
	return u.Query()
}

// code gets a code for the confidential app through the signed-in browser.
func (f *fixture) newCode(a authorization) string {
	f.t.Helper()
	return f.code(f.authorize(f.query(a)), a.state)
}

func (f *fixture) exchange(code, verifier string, headers ...string) (int, map[string]any) {
	f.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	if headers == nil {
		headers = basic(f.app.ID, f.secret)
	}
	return f.token(form, headers...)
}

func (f *fixture) refresh(rt string, headers ...string) (int, map[string]any) {
	f.t.Helper()
	return f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, headers...)
}

// The reasons the refusal page gives, in the pages' English words.
const (
	reasonClient    = "The app is not known here"
	reasonRedirect  = "The app asked to send you back to an address it has not registered here."
	reasonRequest   = "This sign-in request is unknown or has expired."
	reasonMalformed = "The app’s sign-in link is malformed"
	reasonHint      = "The app’s sign-out link carries a token that this server did not issue"
)

// page checks an answer shown to the browser, not sent to the app: the
// pages' refusal page, with the reason.
func page(t *testing.T, r response, reason string) {
	t.Helper()
	if r.status != http.StatusBadRequest || r.location() != "" {
		t.Fatalf("got %d Location %q, want 400 and no redirect\n%s", r.status, r.location(), r.body)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, "<h1>This sign-in cannot go on</h1>") ||
		!strings.Contains(r.body, "The reason: "+html.EscapeString(reason)) || r.header.Get("Content-Security-Policy") == "" {
		t.Fatalf("the refusal is not the pages' page: %q\n%s", r.header.Get("Content-Type"), r.body)
	}
}

// TestRefusals is the negative list of issue 17: each bad request gets
// the error the specifications name, and changes nothing else.
func TestRefusals(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, f *fixture)
	}{
		{"unknown client at authorize", func(t *testing.T, f *fixture) {
			q := f.query(newAuthorization())
			q.Set("client_id", "no-such-client")
			page(t, f.authorize(q), reasonClient)
		}},
		{"redirect_uri with a trailing slash", func(t *testing.T, f *fixture) {
			q := f.query(newAuthorization())
			q.Set("redirect_uri", callback+"/")
			page(t, f.authorize(q), reasonRedirect)
		}},
		{"redirect_uri in another case", func(t *testing.T, f *fixture) {
			q := f.query(newAuthorization())
			q.Set("redirect_uri", "https://app.example.com/Callback")
			page(t, f.authorize(q), reasonRedirect)
		}},
		{"redirect_uri with an extra query", func(t *testing.T, f *fixture) {
			q := f.query(newAuthorization())
			q.Set("redirect_uri", callback+"?next=/admin")
			page(t, f.authorize(q), reasonRedirect)
		}},
		{"redirect_uri on another port", func(t *testing.T, f *fixture) {
			q := f.query(newAuthorization())
			q.Set("redirect_uri", "https://app.example.com:8443/callback")
			page(t, f.authorize(q), reasonRedirect)
		}},
		{"max_age negative", func(t *testing.T, f *fixture) {
			q := f.query(newAuthorization())
			q.Set("max_age", "-5")
			page(t, f.authorize(q), reasonMalformed)
		}},
		{"redirect_uri missing", func(t *testing.T, f *fixture) {
			q := f.query(newAuthorization())
			q.Del("redirect_uri")
			page(t, f.authorize(q), reasonRedirect)
		}},
		{"scope not offered", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			q := f.query(a)
			q.Set("scope", "openid admin")
			f.oauthError(f.authorize(q), a.state, "invalid_scope")
		}},
		{"scope without openid", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			q := f.query(a)
			q.Set("scope", "email")
			f.oauthError(f.authorize(q), a.state, "invalid_scope")
		}},
		{"implicit flow", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			q := f.query(a)
			q.Set("response_type", "id_token token")
			r := f.authorize(q)
			if !strings.Contains(r.location(), "error=unauthorized_client") {
				t.Fatalf("got %d %q, want unauthorized_client", r.status, r.location())
			}
		}},
		{"response_mode other than query", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			q := f.query(a)
			q.Set("response_mode", "form_post")
			r := f.authorize(q)
			if r.status == http.StatusOK || r.location() == "" || !strings.Contains(r.location(), "error=invalid_request") {
				t.Fatalf("got %d %q, want invalid_request", r.status, r.location())
			}
		}},
		{"public client with plain PKCE", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			u, _ := url.Parse(f.publicRP.conf.AuthCodeURL(a.state, gooidcNonce(a.nonce)))
			q := u.Query()
			q.Set("code_challenge", a.verifier)
			q.Set("code_challenge_method", "plain")
			f.oauthError(f.authorize(q), a.state, "invalid_request")
		}},
		{"public client without PKCE", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			u, _ := url.Parse(f.publicRP.conf.AuthCodeURL(a.state, gooidcNonce(a.nonce)))
			f.oauthError(f.authorize(u.Query()), a.state, "invalid_request")
		}},
		{"prompt=none without a login", func(t *testing.T, f *fixture) {
			a := newAuthorization(oauth2.SetAuthURLParam("prompt", "none"))
			f.oauthError(f.follow(f.env.browser(), f.rp.conf.AuthCodeURL(a.state, a.opts...)), a.state, "login_required")
		}},
		{"unknown client at the token endpoint", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			code := f.newCode(a)
			status, m := f.exchange(code, a.verifier, basic("no-such-client", f.secret)...)
			wantError(t, status, m, http.StatusUnauthorized, "invalid_client")
			status, m = f.exchange(code, a.verifier) // the code still works
			if status != http.StatusOK {
				t.Errorf("the code after a refused exchange: %d %v", status, m)
			}
		}},
		{"wrong secret", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			code := f.newCode(a)
			status, m := f.exchange(code, a.verifier, basic(f.app.ID, "wrong secret")...)
			wantError(t, status, m, http.StatusUnauthorized, "invalid_client")
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback},
				"code_verifier": {a.verifier}, "client_id": {f.app.ID}, "client_secret": {"wrong secret"}}
			status, m = f.token(form)
			wantError(t, status, m, http.StatusUnauthorized, "invalid_client")
			// client_secret_post with the right secret works.
			form.Set("client_secret", f.secret)
			if status, m := f.token(form); status != http.StatusOK {
				t.Errorf("client_secret_post: %d %v", status, m)
			}
		}},
		{"confidential client without its secret", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			code := f.newCode(a)
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback},
				"code_verifier": {a.verifier}, "client_id": {f.app.ID}}
			status, m := f.token(form)
			wantError(t, status, m, http.StatusUnauthorized, "invalid_client")
		}},
		{"missing PKCE verifier (downgrade)", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			status, m := f.exchange(f.newCode(a), "")
			wantError(t, status, m, http.StatusBadRequest, "invalid_request")
		}},
		{"wrong PKCE verifier", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			status, m := f.exchange(f.newCode(a), oauth2.GenerateVerifier())
			wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
		}},
		{"verifier without a challenge", func(t *testing.T, f *fixture) {
			a := authorization{state: random(), nonce: random(), verifier: oauth2.GenerateVerifier()}
			a.opts = []oauth2.AuthCodeOption{gooidcNonce(a.nonce)}
			status, m := f.exchange(f.newCode(a), a.verifier)
			wantError(t, status, m, http.StatusBadRequest, "invalid_request")
		}},
		{"code reused", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			code := f.newCode(a)
			r := f.post(f.srv.Client(), "/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {callback}, "code_verifier": {a.verifier}}, basic(f.app.ID, f.secret)...)
			var first map[string]any
			if err := json.Unmarshal([]byte(r.body), &first); r.status != http.StatusOK || err != nil {
				t.Fatalf("first exchange: %d %s", r.status, r.body)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("token answer Cache-Control = %q, want no-store", r.header.Get("Cache-Control"))
			}
			status, m := f.exchange(code, a.verifier)
			wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
			// What the first use issued is revoked.
			status, m = f.refresh(first["refresh_token"].(string), basic(f.app.ID, f.secret)...)
			wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
			req, _ := http.NewRequest("GET", f.issuer+"/oauth2/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+first["access_token"].(string))
			if r := f.do(f.srv.Client(), req); r.status == http.StatusOK {
				t.Error("userinfo answers an access token of a reused code")
			}
			events, _, err := f.svc.Audit(t.Context(), gatehouse.AuditQuery{Type: gatehouse.EventCodeReused, Limit: 10})
			if err != nil || len(events) != 1 || events[0].UserID != f.user.ID {
				t.Errorf("audit oidc.code_reused = %+v, %v; want one event of the user", events, err)
			}
		}},
		{"code expired", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			code := f.newCode(a)
			f.skew.Add(int64(gatehouse.AuthCodeTTL + time.Second))
			status, m := f.exchange(code, a.verifier)
			wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
		}},
		{"code of another client", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			code := f.newCode(a)
			status, m := f.exchange(code, a.verifier, basic(f.other.ID, f.otherSecret)...)
			wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
			if status, m := f.exchange(code, a.verifier); status != http.StatusOK {
				t.Errorf("the code for its own client after another's try: %d %v", status, m)
			}
		}},
		{"redirect_uri differs at the token endpoint", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			form := url.Values{"grant_type": {"authorization_code"}, "code": {f.newCode(a)}, "redirect_uri": {callback + "/"}, "code_verifier": {a.verifier}}
			status, m := f.token(form, basic(f.app.ID, f.secret)...)
			wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
		}},
		{"unknown code", func(t *testing.T, f *fixture) {
			status, m := f.exchange("not-a-code", "")
			wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
		}},
		{"refresh token of another client", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			status, tok := f.exchange(f.newCode(a), a.verifier)
			if status != http.StatusOK {
				t.Fatal(tok)
			}
			rt := tok["refresh_token"].(string)
			status, m := f.refresh(rt, basic(f.other.ID, f.otherSecret)...)
			wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
			if status, m := f.refresh(rt, basic(f.app.ID, f.secret)...); status != http.StatusOK {
				t.Errorf("the refresh token for its own client after another's try: %d %v", status, m)
			}
		}},
		{"refresh token of a token login", func(t *testing.T, f *fixture) {
			res, err := f.svc.Login(t.Context(), gatehouse.LoginRequest{Email: "ada@example.com", Password: pw, Mode: gatehouse.ModeToken})
			if err != nil {
				t.Fatal(err)
			}
			status, m := f.refresh(res.Tokens.RefreshToken, basic(f.app.ID, f.secret)...)
			wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
		}},
		{"refresh with a wider scope", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			_, tok := f.exchange(f.newCode(a), a.verifier)
			status, m := f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "scope": {"openid admin"}},
				basic(f.app.ID, f.secret)...)
			wantError(t, status, m, http.StatusBadRequest, "invalid_scope")
		}},
		{"unsupported grant", func(t *testing.T, f *fixture) {
			for _, g := range []string{"password", "client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer", "implicit"} {
				status, m := f.token(url.Values{"grant_type": {g}, "username": {"ada@example.com"}, "password": {pw}}, basic(f.app.ID, f.secret)...)
				wantError(t, status, m, http.StatusBadRequest, "unsupported_grant_type")
			}
		}},
		{"disabled user", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			code := f.newCode(a)
			if _, err := f.svc.SetDisabled(t.Context(), f.user.ID, true, gatehouse.Client{}); err != nil {
				t.Fatal(err)
			}
			status, m := f.exchange(code, a.verifier)
			wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
			// Its browser session ended too: prompt=none finds no login.
			a = newAuthorization(oauth2.SetAuthURLParam("prompt", "none"))
			f.oauthError(f.authorize(f.query(a)), a.state, "login_required")
		}},
		{"revoked consent", func(t *testing.T, f *fixture) {
			app, secret := f.env.app(gatehouse.AppSpec{Name: "Forum"})
			p := f.env.rp(app, secret)
			if err := f.svc.GrantConsent(t.Context(), gatehouse.Principal{User: f.user}, app.ID, p.conf.Scopes, gatehouse.Client{}); err != nil {
				t.Fatal(err)
			}
			a := newAuthorization()
			code := f.code(f.follow(f.browser, p.conf.AuthCodeURL(a.state, a.opts...)), a.state)
			tok, err := p.conf.Exchange(f.ctx, code, oauth2.VerifierOption(a.verifier))
			if err != nil {
				t.Fatal(err)
			}
			if err := f.svc.RevokeConsent(t.Context(), gatehouse.Principal{User: f.user}, app.ID, gatehouse.Client{}); err != nil {
				t.Fatal(err)
			}
			status, m := f.refresh(tok.RefreshToken, basic(app.ID, secret)...)
			wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
			a = newAuthorization(oauth2.SetAuthURLParam("prompt", "none"))
			f.oauthError(f.follow(f.browser, p.conf.AuthCodeURL(a.state, a.opts...)), a.state, "consent_required")
		}},
		{"removed app", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			_, tok := f.exchange(f.newCode(a), a.verifier)
			if err := f.svc.RemoveApp(t.Context(), f.app.ID, gatehouse.Client{}); err != nil {
				t.Fatal(err)
			}
			status, m := f.refresh(tok["refresh_token"].(string), basic(f.app.ID, f.secret)...)
			wantError(t, status, m, http.StatusUnauthorized, "invalid_client")
			req, _ := http.NewRequest("GET", f.issuer+"/oauth2/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
			if r := f.do(f.srv.Client(), req); r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("userinfo with an access token of a removed app: %d %q, want 401 with WWW-Authenticate", r.status, r.header.Get("WWW-Authenticate"))
			}
		}},
		{"the code only to the browser that completed the request", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			r := f.get(f.browser, f.rp.conf.AuthCodeURL(a.state, a.opts...))
			r = f.get(f.browser, r.location()) // continue: completes the request
			if !strings.Contains(r.location(), "/oauth2/authorize/callback?id=") {
				t.Fatalf("continue: %d %q, want the callback", r.status, r.location())
			}
			// Another browser (signed in as someone else, or not at all)
			// that learnt the id gets no code.
			f.register("eve@example.com")
			eve := f.env.browser()
			f.signIn(eve, "eve@example.com", "/auth/account")
			for _, c := range []*http.Client{f.env.browser(), eve} {
				page(t, f.get(c, r.location()), reasonRequest)
			}
			f.code(f.get(f.browser, r.location()), a.state)
			// A reload of the callback issues no second code.
			f.oauthError(f.get(f.browser, r.location()), a.state, "invalid_request")
		}},
		{"too many authorization requests from one address", func(t *testing.T, f *fixture) {
			var last response
			var a authorization
			for range 121 {
				a = newAuthorization()
				last = f.get(f.browser, f.rp.conf.AuthCodeURL(a.state, a.opts...))
			}
			f.oauthError(last, a.state, "temporarily_unavailable")
		}},
		{"parameters over 8 KiB", func(t *testing.T, f *fixture) {
			a := newAuthorization()
			q := f.query(a)
			q.Set("nonce", strings.Repeat("n", 9<<10))
			f.oauthError(f.authorize(q), a.state, "invalid_request")
		}},
		{"userinfo without or with a bad token", func(t *testing.T, f *fixture) {
			for _, h := range []string{"", "Bearer nope", "Bearer " + strings.Repeat("a.", 3)} {
				req, _ := http.NewRequest("GET", f.issuer+"/oauth2/userinfo", nil)
				if h != "" {
					req.Header.Set("Authorization", h)
				}
				if r := f.do(f.srv.Client(), req); r.status != http.StatusUnauthorized {
					t.Errorf("userinfo with %q: %d, want 401", h, r.status)
				}
			}
			// Nor a /v1/ access token (audience gatehouse).
			res, err := f.svc.Login(t.Context(), gatehouse.LoginRequest{Email: "ada@example.com", Password: pw, Mode: gatehouse.ModeToken})
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("GET", f.issuer+"/oauth2/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+res.Tokens.AccessToken)
			if r := f.do(f.srv.Client(), req); r.status == http.StatusOK {
				t.Errorf("userinfo answers a /v1/ access token: %s", r.body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newFixture(t)) })
	}
}
