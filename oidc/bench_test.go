package oidc_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
)

// newCodes makes authorization codes for app without a browser: the
// Service's steps that the authorize and continue endpoints take, so that
// a benchmark of the token endpoint measures the exchange alone.
func newCodes(b *testing.B, e *env, app gatehouse.App, p gatehouse.Principal) func() (code, verifier string) {
	ctx := context.Background()
	return func() (string, string) {
		verifier := random() + random() + random()
		raw := `{"scope":"openid email profile offline_access","response_type":"code","client_id":"` + app.ID +
			`","redirect_uri":"` + callback + `","nonce":"n","code_challenge":"` + s256(verifier) + `","code_challenge_method":"S256"}`
		r, err := e.svc.StartAuthRequest(ctx, gatehouse.NewAuthRequest{
			AppID: app.ID, RedirectURI: callback, Scopes: []string{"openid", "email", "profile", "offline_access"},
			CodeChallengeMethod: "S256", Request: []byte(raw),
		})
		if err != nil {
			b.Fatal(err)
		}
		if _, need, err := e.svc.ContinueAuthRequest(ctx, r.ID, &p, gatehouse.Prompt{}, gatehouse.Client{}); err != nil || need != gatehouse.InteractionNone {
			b.Fatal(need, err)
		}
		c := make([]byte, 32)
		rand.Read(c)
		code := base64.RawURLEncoding.EncodeToString(c)
		if err := e.svc.IssueAuthCode(ctx, r.ID, code); err != nil {
			b.Fatal(err)
		}
		return code, verifier
	}
}

// BenchmarkTokenCodeGrant is POST /oauth2/token with an authorization code
// through the provider's handler (no network): client authentication,
// the code's checks, the login written with its refresh token in one
// transaction on SQLite, and an access token and an ID token signed.
// BenchmarkEd25519Sign beside it is the floor of one signature.
func BenchmarkTokenCodeGrant(b *testing.B) {
	e := newEnv(b)
	e.register("ada@example.com")
	app, secret := e.app(gatehouse.AppSpec{Trusted: true})
	res, err := e.svc.Login(context.Background(), gatehouse.LoginRequest{Email: "ada@example.com", Password: pw, Mode: gatehouse.ModeSession})
	if err != nil {
		b.Fatal(err)
	}
	p, err := e.svc.AuthenticateSession(context.Background(), res.Secret)
	if err != nil {
		b.Fatal(err)
	}
	h := e.srv.Config.Handler
	next := newCodes(b, e, app, p)
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(app.ID+":"+secret))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		code, verifier := next()
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}, "code_verifier": {verifier}}.Encode()
		req := httptest.NewRequest("POST", e.issuer+oidc.TokenPath, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		b.StartTimer()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("token: %d %s", w.Code, w.Body)
		}
	}
}

func BenchmarkEd25519Sign(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 600) // about a signed token's header and claims
	b.ReportAllocs()
	for b.Loop() {
		ed25519.Sign(priv, msg)
	}
}

// BenchmarkDiscovery and BenchmarkJWKS go through the full handler stack
// (the root mux of serve), answered from memory.
func BenchmarkDiscovery(b *testing.B) {
	benchGet(b, oidc.DiscoveryPath)
}

func BenchmarkJWKS(b *testing.B) {
	benchGet(b, oidc.JWKSPath)
}

func benchGet(b *testing.B, path string) {
	e := newEnv(b)
	h := e.srv.Config.Handler
	req := httptest.NewRequest("GET", e.issuer+path, nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d", path, w.Code)
		}
	}
}
