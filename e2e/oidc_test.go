package e2e_test

import (
	"context"
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

// TestOIDCCodeFlow signs a person in to an app through the binary's
// OpenID Connect provider, with go-oidc and x/oauth2 as the app: the app
// is added with `gatehouse clients add`, the browser signs in through
// the sign-in form, the ID token verifies against the live JWKS, and the
// app's sign-in is a login of mode oidc that the user sees and ends.
func TestOIDCCodeFlow(t *testing.T) {
	s := start(t, "")
	redirect := "http://127.0.0.1:1/callback" // never called: the browser stops there
	out, errOut, code := cli(t, "", nil, "clients", "add", "--db", s.db, "--name", "Wiki",
		"--redirect-uri", redirect, "--trusted")
	id, secret := clientIDLine.FindStringSubmatch(out), clientSecretLine.FindStringSubmatch(out)
	if code != 0 || id == nil || secret == nil {
		t.Fatalf("clients add: %d %q %q", code, out, errOut)
	}
	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}), 201, "")

	ctx := context.Background()
	provider, err := gooidc.NewProvider(ctx, s.url) // the issuer is exactly --issuer's default
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := oauth2.Config{ClientID: id[1], ClientSecret: secret[1], Endpoint: provider.Endpoint(), RedirectURL: redirect,
		Scopes: []string{gooidc.ScopeOpenID, "email", gooidc.ScopeOfflineAccess}}
	state, nonce, verifier := "st-"+time.Now().Format("150405.000"), "nonce-1", oauth2.GenerateVerifier()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// follow follows redirects within Gatehouse, stopping at the sign-in
	// page or at the app.
	follow := func(u string) *http.Response {
		t.Helper()
		for range 10 {
			res, err := browser.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			loc := res.Header.Get("Location")
			if res.StatusCode < 300 || res.StatusCode > 399 || !strings.HasPrefix(loc, s.url) || strings.HasPrefix(loc, s.url+"/auth/") {
				return res
			}
			u = loc
		}
		t.Fatal("too many redirects")
		return nil
	}
	res := follow(conf.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	loc, _ := url.Parse(res.Header.Get("Location"))
	if loc == nil || loc.Path != "/auth/signin" || loc.Query().Get("rd") == "" {
		t.Fatalf("authorize: %d %q, want the sign-in page", res.StatusCode, res.Header.Get("Location"))
	}
	form := url.Values{"email": {"ada@example.com"}, "password": {password}, "rd": {loc.Query().Get("rd")}}
	req, _ := http.NewRequest("POST", s.url+"/auth/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.url)
	res, err = browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", res.StatusCode)
	}
	res = follow(res.Header.Get("Location"))
	back, _ := url.Parse(res.Header.Get("Location"))
	if back == nil || !strings.HasPrefix(back.String(), redirect+"?") || back.Query().Get("state") != state || back.Query().Get("iss") != s.url {
		t.Fatalf("back to the app: %d %q, want code, state and iss", res.StatusCode, res.Header.Get("Location"))
	}

	tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	idToken, err := provider.Verifier(&gooidc.Config{ClientID: id[1]}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var claims struct {
		Nonce, Email, Sid, Acr string
	}
	idToken.Claims(&claims)
	if claims.Nonce != nonce || claims.Email != "ada@example.com" || claims.Sid == "" || claims.Acr != "1" {
		t.Errorf("ID token claims = %+v", claims)
	}
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Email != "ada@example.com" || info.Subject != idToken.Subject {
		t.Fatalf("userinfo: %+v, %v", info, err)
	}

	// The app's login is in the user's logins, mode oidc, under its name;
	// ending it there ends the app's refresh.
	r := s.call(browser, "GET", "/v1/sessions", nil)
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
	s.want(s.call(browser, "DELETE", "/v1/sessions/"+claims.Sid, nil, "Origin", s.url), 204, "")
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil ||
		!strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("refresh after the login was ended: %v, want invalid_grant", err)
	}
}
