package oidc_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/token"
)

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	r := e.get(e.browser(), oidc.DiscoveryPath)
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("discovery: %d %q", r.status, r.header.Get("Content-Type"))
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(r.body), &d); err != nil {
		t.Fatal(err)
	}
	wantStr := map[string]string{
		"issuer":                 e.issuer,
		"authorization_endpoint": e.issuer + "/oauth2/authorize",
		"token_endpoint":         e.issuer + "/oauth2/token",
		"userinfo_endpoint":      e.issuer + "/oauth2/userinfo",
		"revocation_endpoint":    e.issuer + "/oauth2/revoke",
		"end_session_endpoint":   e.issuer + "/oauth2/logout",
		"jwks_uri":               e.issuer + "/.well-known/jwks.json",
	}
	for k, v := range wantStr {
		if d[k] != v {
			t.Errorf("%s = %v, want %q", k, d[k], v)
		}
	}
	wantList := map[string][]string{
		"response_types_supported":                   {"code"},
		"grant_types_supported":                      {"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":           {"S256"},
		"scopes_supported":                           {"openid", "email", "profile", "roles", "offline_access"},
		"token_endpoint_auth_methods_supported":      {"client_secret_basic", "client_secret_post", "none"},
		"id_token_signing_alg_values_supported":      {"EdDSA"},
		"response_modes_supported":                   {"query"},
		"acr_values_supported":                       {"1", "2"},
		"revocation_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "none"},
	}
	for k, want := range wantList {
		var got []string
		for _, v := range d[k].([]any) {
			got = append(got, v.(string))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if d["authorization_response_iss_parameter_supported"] != true {
		t.Errorf("authorization_response_iss_parameter_supported = %v, want true (RFC 9207)", d["authorization_response_iss_parameter_supported"])
	}
	for _, k := range []string{"introspection_endpoint", "device_authorization_endpoint"} {
		if _, ok := d[k]; ok {
			t.Errorf("%s is advertised, but not served", k)
		}
	}
	// go-oidc accepts it (its issuer check is exact).
	if _, err := gooidc.NewProvider(e.ctx, e.issuer); err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	if r := e.get(e.browser(), "/oauth2/introspect"); r.status != http.StatusNotFound {
		t.Errorf("GET /oauth2/introspect = %d, want 404", r.status)
	}
}

// TestCodeFlow signs a person in to a confidential app with PKCE through
// the real sign-in form, and follows the app's login through its life.
func TestCodeFlow(t *testing.T) {
	e := newEnv(t)
	u := e.register("ada@example.com")
	app, secret := e.app(gatehouse.AppSpec{Name: "Wiki", Trusted: true})
	p := e.rp(app, secret)
	a := newAuthorization()
	before := time.Now().Add(-time.Second)
	browser, code := e.signedInCode(p, "ada@example.com", a)

	tok, err := p.conf.Exchange(e.ctx, code, oauth2.VerifierOption(a.verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := p.verifier.Verify(e.ctx, raw)
	if err != nil {
		t.Fatalf("verifying the ID token against the live JWKS: %v", err)
	}
	var claims struct {
		Nonce, Acr, Sid, Email, Name string
		PreferredUsername            string `json:"preferred_username"`
		Amr                          []string
		AuthTime                     int64 `json:"auth_time"`
		EmailVerified                *bool `json:"email_verified"`
		Roles                        []string
	}
	if err := id.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if id.Subject != u.ID || claims.Nonce != a.nonce || claims.Acr != "1" || !slices.Equal(claims.Amr, []string{"pwd"}) || claims.Sid == "" {
		t.Errorf("ID token sub %q nonce %q acr %q amr %q sid %q; want %q, %q, 1, [pwd], a login", id.Subject, claims.Nonce, claims.Acr, claims.Amr, claims.Sid, u.ID, a.nonce)
	}
	if at := time.Unix(claims.AuthTime, 0); at.Before(before.Truncate(time.Second)) || at.After(time.Now()) {
		t.Errorf("auth_time = %v, want the sign-in's time", at)
	}
	if claims.Email != "ada@example.com" || claims.EmailVerified == nil || claims.PreferredUsername != "ada@example.com" || claims.Name != "ada" ||
		!slices.Equal(claims.Roles, []string{gatehouse.RoleCustomer}) {
		t.Errorf("ID token claims = %+v", claims)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token with offline_access")
	}

	// The app's sign-in is a login of mode oidc, under the app's name.
	logins, err := e.svc.UserSessions(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var l gatehouse.Login
	for _, x := range logins {
		if x.ID == claims.Sid {
			l = x
		}
	}
	if l.Mode != gatehouse.ModeOIDC || l.AppID != app.ID || l.Device != "Wiki" || l.AAL != gatehouse.AAL1 {
		t.Errorf("the app's login = %+v, want mode oidc, app %s, device Wiki", l, app.ID)
	}

	// Userinfo answers the access token, by GET and by POST.
	info, err := p.provider.UserInfo(e.ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Subject != u.ID || info.Email != "ada@example.com" {
		t.Fatalf("UserInfo = %+v, %v", info, err)
	}
	r := e.post(e.srv.Client(), oidc.UserinfoPath, url.Values{}, "Authorization", "Bearer "+tok.AccessToken)
	if r.status != http.StatusOK || !strings.Contains(r.body, u.ID) {
		t.Errorf("POST userinfo = %d %s", r.status, r.body)
	}
	// The app's access token is not good at /v1/ (its audience is the app).
	req, _ := http.NewRequest("GET", e.srv.URL+"/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if r := e.do(e.srv.Client(), req); r.status != http.StatusUnauthorized {
		t.Errorf("GET /v1/me with the app's access token = %d, want 401", r.status)
	}
	if _, err := e.svc.AuthenticateToken(t.Context(), tok.AccessToken); gatehouse.ErrorCode(err) != gatehouse.CodeInvalidToken {
		t.Errorf("AuthenticateToken(app's token) = %v, want invalid_token", err)
	}
	// Nor is its refresh token at /v1/token/refresh.
	if _, err := e.svc.Refresh(t.Context(), tok.RefreshToken, gatehouse.Client{}); gatehouse.ErrorCode(err) != gatehouse.CodeInvalidToken {
		t.Errorf("Refresh(app's refresh token) = %v, want invalid_token", err)
	}

	// Refresh rotates, keeps sid, auth_time and acr.
	status, m := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, basic(app.ID, secret)...)
	if status != http.StatusOK || m["refresh_token"] == tok.RefreshToken || m["refresh_token"] == nil {
		t.Fatalf("refresh: %d %v", status, m)
	}
	id2, err := p.verifier.Verify(e.ctx, m["id_token"].(string))
	if err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}
	var c2 struct {
		Sid, Acr string
		AuthTime int64 `json:"auth_time"`
	}
	id2.Claims(&c2)
	if c2.Sid != claims.Sid || c2.AuthTime != claims.AuthTime || c2.Acr != "1" {
		t.Errorf("refreshed ID token sid %q auth_time %d acr %q, want %q %d 1", c2.Sid, c2.AuthTime, c2.Acr, claims.Sid, claims.AuthTime)
	}
	// The retired refresh token presented again, past the grace, is
	// theft: the login is revoked, and its refresh tokens with it.
	e.skew.Add(int64(gatehouse.DefaultRefreshGrace + time.Second))
	status, m2 := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, basic(app.ID, secret)...)
	wantError(t, status, m2, http.StatusBadRequest, "invalid_grant")
	status, m3 := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}}, basic(app.ID, secret)...)
	wantError(t, status, m3, http.StatusBadRequest, "invalid_grant")
	if _, err := p.provider.UserInfo(e.ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("userinfo answers the access token of a revoked login")
	}
	// The browser's own session is untouched.
	if r := e.get(browser, "/auth/account"); r.status != http.StatusOK {
		t.Errorf("the browser's session after the app's login was revoked: %d", r.status)
	}
}

// TestSigningAlgorithms runs the flow with each --jwt-alg: the ID token is
// signed with the deployment's algorithm and key and verifies against the
// live JWKS, and the library's own verifiers (the access token at
// userinfo, the id_token_hint at logout) accept it.
func TestSigningAlgorithms(t *testing.T) {
	for _, alg := range []string{token.EdDSA, token.ES256, token.RS256} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, func(c *gatehouse.Config) { c.Tokens.Alg = alg })
			u := e.register("ada@example.com")
			app, secret := e.app(gatehouse.AppSpec{Trusted: true})
			p := e.rp(app, secret)
			browser, tok, _ := e.signedInTokens(p, "ada@example.com")
			raw := tok.Extra("id_token").(string)
			id, err := p.verifier.Verify(e.ctx, raw)
			if err != nil || id.Subject != u.ID {
				t.Fatalf("verifying the ID token: %v", err)
			}
			var header struct{ Alg, Kid string }
			h, _ := base64.RawURLEncoding.DecodeString(raw[:strings.Index(raw, ".")])
			json.Unmarshal(h, &header)
			if header.Alg != alg || header.Kid != e.svc.SigningKeys()[0].ID {
				t.Errorf("ID token header %+v, want alg %s and the active key", header, alg)
			}
			if info, err := p.provider.UserInfo(e.ctx, oauth2.StaticTokenSource(tok)); err != nil || info.Subject != u.ID {
				t.Errorf("UserInfo = %+v, %v", info, err)
			}
			r := e.get(browser, oidc.LogoutPath+"?"+url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {goodbye}}.Encode())
			if r.status != http.StatusFound || r.location() != goodbye {
				t.Errorf("logout with the id_token_hint: %d %q, want 302 to %s", r.status, r.location(), goodbye)
			}
		})
	}
}

// TestRevocation is RFC 7009: revoking a refresh token ends the app's
// login, onto the revocation feed, and its refresh and userinfo after.
func TestRevocation(t *testing.T) {
	e := newEnv(t)
	u := e.register("ada@example.com")
	app, secret := e.app(gatehouse.AppSpec{Trusted: true})
	p := e.rp(app, secret)
	_, tok, sid := e.signedInTokens(p, "ada@example.com")
	feed, _ := e.svc.Revocations(t.Context(), 0, 100)

	// Another app cannot revoke it.
	other, otherSecret := e.app(gatehouse.AppSpec{Name: "Other", Trusted: true})
	r := e.post(e.srv.Client(), oidc.RevokePath, url.Values{"token": {tok.RefreshToken}}, basic(other.ID, otherSecret)...)
	if r.status != http.StatusOK {
		t.Fatalf("revoke by another app: %d %s", r.status, r.body)
	}
	if _, err := p.provider.UserInfo(e.ctx, oauth2.StaticTokenSource(tok)); err != nil {
		t.Fatalf("another app's revocation ended the login: %v", err)
	}
	r = e.post(e.srv.Client(), oidc.RevokePath, url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}, basic(app.ID, secret)...)
	if r.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	status, m := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, basic(app.ID, secret)...)
	wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
	if _, err := p.provider.UserInfo(e.ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("userinfo answers the access token of a revoked login")
	}
	after, _ := e.svc.Revocations(t.Context(), 0, 100)
	if len(after) != len(feed)+1 || after[len(after)-1].LoginID != sid || after[len(after)-1].UserID != u.ID {
		t.Errorf("revocation feed = %+v, want the app's login %s added", after, sid)
	}
	// Revoking again, or an unknown token, is 200 all the same.
	for _, tk := range []string{tok.RefreshToken, "no-such-token"} {
		if r := e.post(e.srv.Client(), oidc.RevokePath, url.Values{"token": {tk}}, basic(app.ID, secret)...); r.status != http.StatusOK {
			t.Errorf("revoke %q again: %d %s", tk, r.status, r.body)
		}
	}

	// Revoking an access token ends its login too.
	_, tok, _ = e.signedInTokens(p, "ada@example.com")
	r = e.post(e.srv.Client(), oidc.RevokePath, url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}}, basic(app.ID, secret)...)
	if r.status != http.StatusOK {
		t.Fatalf("revoke access token: %d %s", r.status, r.body)
	}
	status, m = e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, basic(app.ID, secret)...)
	wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
}

// TestRevokeFromSessions: the user ends the app's login from their logins.
func TestRevokeFromSessions(t *testing.T) {
	e := newEnv(t)
	u := e.register("ada@example.com")
	app, secret := e.app(gatehouse.AppSpec{Trusted: true})
	p := e.rp(app, secret)
	_, tok, sid := e.signedInTokens(p, "ada@example.com")
	if err := e.svc.RevokeSession(t.Context(), gatehouse.Principal{User: u}, sid, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	status, m := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, basic(app.ID, secret)...)
	wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
	if _, err := p.provider.UserInfo(e.ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("userinfo answers the access token of a revoked login")
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	e.register("ada@example.com")
	app, secret := e.app(gatehouse.AppSpec{Trusted: true})
	p := e.rp(app, secret)
	browser, tok, _ := e.signedInTokens(p, "ada@example.com")
	idToken := tok.Extra("id_token").(string)

	// An unregistered post_logout_redirect_uri is refused, not followed.
	r := e.get(browser, oidc.LogoutPath+"?"+url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://evil.example.com/"}}.Encode())
	page(t, r, reasonRedirect)
	// A hint that is not an ID token of this server's is refused on a
	// page, and nothing ends.
	for _, hint := range []string{"garbage", "a.b.c", idToken[:len(idToken)-4] + "AAAA"} {
		page(t, e.get(browser, oidc.LogoutPath+"?"+url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {goodbye}}.Encode()), reasonHint)
	}
	if r := e.get(browser, "/auth/account"); r.status != http.StatusOK {
		t.Fatalf("a refused logout ended the session: %d", r.status)
	}
	// Without id_token_hint or client_id, the URI is not honoured either,
	// and nothing ends.
	r = e.get(browser, oidc.LogoutPath+"?"+url.Values{"post_logout_redirect_uri": {goodbye}}.Encode())
	if r.location() != e.issuer+"/auth/signin" {
		t.Fatalf("logout without a hint: %d %q, want the sign-in page", r.status, r.location())
	}
	if r := e.get(browser, "/auth/account"); r.status != http.StatusOK {
		t.Fatalf("a logout without a hint ended the session: %d", r.status)
	}

	// The app signs out after its ID token expired: the hint still names
	// the login (RP-Initiated Logout 1.0, section 2).
	e.skew.Add(int64(time.Hour))
	r = e.get(browser, oidc.LogoutPath+"?"+url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {goodbye}, "state": {"bye"}}.Encode())
	if r.status != http.StatusFound || r.location() != goodbye+"?state=bye" {
		t.Fatalf("logout: %d %q, want 302 to %s?state=bye", r.status, r.location(), goodbye)
	}
	status, m := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, basic(app.ID, secret)...)
	wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
	if r := e.get(browser, "/auth/account"); r.status != http.StatusSeeOther {
		t.Errorf("the browser's Gatehouse session after logout: %d, want 303 to sign in", r.status)
	}
}

// TestPublicClient: no secret, PKCE S256 required.
func TestPublicClient(t *testing.T) {
	e := newEnv(t)
	u := e.register("ada@example.com")
	app, _ := e.app(gatehouse.AppSpec{Name: "SPA", Public: true, Trusted: true})
	p := e.rp(app, "", gooidc.ScopeOpenID)
	a := newAuthorization()
	_, code := e.signedInCode(p, "ada@example.com", a)
	tok, err := p.conf.Exchange(e.ctx, code, oauth2.VerifierOption(a.verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	id, err := p.verifier.Verify(e.ctx, tok.Extra("id_token").(string))
	if err != nil || id.Subject != u.ID {
		t.Fatalf("ID token: %v, %v", id, err)
	}
	if tok.RefreshToken != "" {
		t.Error("a refresh token without offline_access")
	}
	// Without offline_access the login lives as long as the access token.
	var claims struct{ Sid string }
	id.Claims(&claims)
	logins, _ := e.svc.UserSessions(t.Context(), u.ID)
	for _, l := range logins {
		if l.ID == claims.Sid && l.ExpiresAt.After(time.Now().Add(gatehouse.DefaultAccessTTL+time.Minute)) {
			t.Errorf("the login lives until %v, want the access token's lifetime", l.ExpiresAt)
		}
	}
}

// TestPrompts: prompt, max_age, acr_values and consent.
func TestPrompts(t *testing.T) {
	e := newEnv(t)
	u := e.register("ada@example.com")
	trusted, secret := e.app(gatehouse.AppSpec{Trusted: true})
	p := e.rp(trusted, secret)
	a := newAuthorization()
	browser, _ := e.signedInCode(p, "ada@example.com", a)

	// A signed-in browser goes straight through.
	a = newAuthorization()
	e.code(e.follow(browser, p.conf.AuthCodeURL(a.state, a.opts...)), a.state)
	a = newAuthorization(oauth2.SetAuthURLParam("prompt", "none"))
	e.code(e.follow(browser, p.conf.AuthCodeURL(a.state, a.opts...)), a.state)

	// prompt=login and max_age=0 send it to sign in again; once it has,
	// the request goes on.
	for _, opt := range []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0")} {
		a = newAuthorization(opt)
		r := e.follow(browser, p.conf.AuthCodeURL(a.state, a.opts...))
		if !strings.HasPrefix(r.location(), e.issuer+"/auth/signin?rd=") {
			t.Fatalf("prompt=login: %d %q, want the sign-in page", r.status, r.location())
		}
		rd, _ := url.Parse(r.location())
		r = e.follow(browser, e.signIn(browser, "ada@example.com", rd.Query().Get("rd")).location())
		e.code(r, a.state)
	}

	// acr_values=2 of a login at aal1: step up, or interaction_required.
	a = newAuthorization(oauth2.SetAuthURLParam("acr_values", "2"))
	r := e.follow(browser, p.conf.AuthCodeURL(a.state, a.opts...))
	if !strings.HasPrefix(r.location(), e.issuer+"/auth/step-up?rd="+url.QueryEscape(e.issuer+oidc.ContinuePath+"?id=")) {
		t.Errorf("acr_values=2: %d %q, want the step-up page", r.status, r.location())
	}
	a = newAuthorization(oauth2.SetAuthURLParam("acr_values", "2"), oauth2.SetAuthURLParam("prompt", "none"))
	e.oauthError(e.follow(browser, p.conf.AuthCodeURL(a.state, a.opts...)), a.state, "interaction_required")

	// An app that is not trusted asks consent, once per scope set.
	untrusted, secret2 := e.app(gatehouse.AppSpec{Name: "Forum"})
	p2 := e.rp(untrusted, secret2)
	a = newAuthorization(oauth2.SetAuthURLParam("prompt", "none"))
	e.oauthError(e.follow(browser, p2.conf.AuthCodeURL(a.state, a.opts...)), a.state, "consent_required")
	a = newAuthorization()
	r = e.follow(browser, p2.conf.AuthCodeURL(a.state, a.opts...))
	if !strings.HasPrefix(r.location(), e.issuer+"/auth/consent?id=") {
		t.Fatalf("untrusted app: %d %q, want the consent page", r.status, r.location())
	}
	consent, _ := url.Parse(r.location())
	reqID := consent.Query().Get("id")
	ar, err := e.svc.AuthRequest(t.Context(), reqID)
	if err != nil || ar.AppID != untrusted.ID {
		t.Fatalf("AuthRequest(%q) = %+v, %v", reqID, ar, err)
	}
	// Declined: access_denied.
	e.oauthError(e.follow(browser, e.issuer+oidc.ContinuePath+"?id="+reqID+"&deny=1"), a.state, "access_denied")
	// Granted (as the consent page does): the code.
	a = newAuthorization()
	r = e.follow(browser, p2.conf.AuthCodeURL(a.state, a.opts...))
	consent, _ = url.Parse(r.location())
	reqID = consent.Query().Get("id")
	ar, _ = e.svc.AuthRequest(t.Context(), reqID)
	pr := gatehouse.Principal{User: u}
	if err := e.svc.GrantConsent(t.Context(), pr, untrusted.ID, ar.Scopes, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	e.code(e.follow(browser, e.issuer+oidc.ContinuePath+"?id="+reqID), a.state)
	// Remembered: no page the next time; prompt=consent asks again.
	a = newAuthorization()
	e.code(e.follow(browser, p2.conf.AuthCodeURL(a.state, a.opts...)), a.state)
	a = newAuthorization(oauth2.SetAuthURLParam("prompt", "consent"))
	r = e.follow(browser, p2.conf.AuthCodeURL(a.state, a.opts...))
	if !strings.HasPrefix(r.location(), e.issuer+"/auth/consent?id=") {
		t.Errorf("prompt=consent: %d %q, want the consent page", r.status, r.location())
	}

	// An unknown request is a page, not a redirect.
	if r := e.get(browser, oidc.ContinuePath+"?id=nope"); r.status != http.StatusBadRequest || r.location() != "" {
		t.Errorf("continue of an unknown request: %d %q", r.status, r.location())
	}
}

// TestIDTokenHint: with prompt=none, an id_token_hint of the signed-in
// user gets a code, another user's login_required.
func TestIDTokenHint(t *testing.T) {
	e := newEnv(t)
	e.register("ada@example.com")
	e.register("eve@example.com")
	app, secret := e.app(gatehouse.AppSpec{Trusted: true})
	p := e.rp(app, secret)
	hint := func(email string) (*http.Client, string) {
		a := newAuthorization()
		b, code := e.signedInCode(p, email, a)
		tok, err := p.conf.Exchange(e.ctx, code, oauth2.VerifierOption(a.verifier))
		if err != nil {
			t.Fatal(err)
		}
		return b, tok.Extra("id_token").(string)
	}
	ada, adaHint := hint("ada@example.com")
	_, eveHint := hint("eve@example.com")
	a := newAuthorization(oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", adaHint))
	e.code(e.follow(ada, p.conf.AuthCodeURL(a.state, a.opts...)), a.state)
	a = newAuthorization(oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", eveHint))
	e.oauthError(e.follow(ada, p.conf.AuthCodeURL(a.state, a.opts...)), a.state, "login_required")
	a = newAuthorization(oauth2.SetAuthURLParam("id_token_hint", "not a token"))
	e.oauthError(e.follow(ada, p.conf.AuthCodeURL(a.state, a.opts...)), a.state, "login_required")
}

// TestAppsWithAccessAPI: GET /v1/me/apps lists the apps a user consented
// to, and DELETE /v1/me/apps/{id} takes the access back, as the account
// page does: the app's refresh token stops working and its next sign-in
// asks again.
func TestAppsWithAccessAPI(t *testing.T) {
	e := newEnv(t)
	u := e.register("ada@example.com")
	e.register("bob@example.com")
	app, secret := e.app(gatehouse.AppSpec{Name: "Forum"})
	p := e.rp(app, secret, gooidc.ScopeOpenID, "email", gooidc.ScopeOfflineAccess)
	if err := e.svc.GrantConsent(t.Context(), gatehouse.Principal{User: u}, app.ID, p.conf.Scopes, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	browser, tok, _ := e.signedInTokens(p, "ada@example.com")

	call := func(c *http.Client, method, path string, headers ...string) response {
		t.Helper()
		req, _ := http.NewRequest(method, e.srv.URL+path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		return e.do(c, req)
	}
	var list struct {
		Apps []struct {
			ClientID  string `json:"client_id"`
			Name      string
			Scopes    []string
			GrantedAt time.Time `json:"granted_at"`
		}
	}
	r := call(browser, "GET", "/v1/me/apps")
	if err := json.Unmarshal([]byte(r.body), &list); r.status != http.StatusOK || err != nil || len(list.Apps) != 1 {
		t.Fatalf("GET /v1/me/apps = %d %s", r.status, r.body)
	}
	if a := list.Apps[0]; a.ClientID != app.ID || a.Name != "Forum" || !slices.Equal(a.Scopes, []string{"email", "offline_access", "openid"}) || a.GrantedAt.IsZero() {
		t.Errorf("the app listed = %+v, want Forum with its three scopes", a)
	}

	// Refused, changing nothing: from another site, without a login, an
	// app the user gave no access, another user's consent.
	for _, tc := range []struct {
		name    string
		c       *http.Client
		path    string
		headers []string
		status  int
	}{
		{"cross-site", browser, "/v1/me/apps/" + app.ID, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"no login", e.browser(), "/v1/me/apps/" + app.ID, nil, http.StatusUnauthorized},
		{"unknown app", browser, "/v1/me/apps/no-such-app", nil, http.StatusNotFound},
	} {
		if r := call(tc.c, "DELETE", tc.path, tc.headers...); r.status != tc.status {
			t.Errorf("%s: DELETE = %d %s, want %d", tc.name, r.status, r.body, tc.status)
		}
	}
	bob := e.browser()
	e.signIn(bob, "bob@example.com", "/auth/account")
	if r := call(bob, "DELETE", "/v1/me/apps/"+app.ID); r.status != http.StatusNotFound {
		t.Errorf("bob removing ada's consent: %d, want 404", r.status)
	}
	if r := call(bob, "GET", "/v1/me/apps"); r.status != http.StatusOK || strings.TrimSpace(r.body) != `{"apps":[]}` {
		t.Errorf("bob's apps = %d %s, want none", r.status, r.body)
	}
	if ok, _ := e.svc.Consented(t.Context(), u.ID, app.ID, p.conf.Scopes); !ok {
		t.Fatal("a refused removal forgot the consent")
	}

	if r := call(browser, "DELETE", "/v1/me/apps/"+app.ID); r.status != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s, want 204", r.status, r.body)
	}
	if r := call(browser, "GET", "/v1/me/apps"); strings.TrimSpace(r.body) != `{"apps":[]}` {
		t.Errorf("after removal: %s", r.body)
	}
	status, m := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, basic(app.ID, secret)...)
	wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
	events, _, err := e.svc.Audit(t.Context(), gatehouse.AuditQuery{UserID: u.ID, Type: gatehouse.EventConsentRevoked, Limit: 10})
	if err != nil || len(events) != 1 || events[0].Detail != "client="+app.ID {
		t.Errorf("consent.revoked events = %+v, %v; want one, of the app", events, err)
	}
	if r := call(browser, "DELETE", "/v1/me/apps/"+app.ID); r.status != http.StatusNotFound {
		t.Errorf("a second removal: %d, want 404", r.status)
	}
}
