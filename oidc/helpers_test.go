package oidc_test

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	stdlog "log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/pages"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/sqlite"
)

// fastParams keep argon2id cheap in tests.
var fastParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const (
	pw       = "correct horse battery staple"
	callback = "https://app.example.com/callback"
	goodbye  = "https://app.example.com/goodbye"
)

// env is a Gatehouse served as serve serves it (the pages under /auth/,
// the provider on its paths, the JSON API beside them) over TLS, on a real
// SQLite file, with a clock the test can move.
type env struct {
	t      testing.TB
	srv    *httptest.Server
	svc    *gatehouse.Service
	skew   atomic.Int64 // added to the clock
	ctx    context.Context
	issuer string
}

// newEnv starts it; opts change the Service's configuration.
func newEnv(t testing.TB, opts ...func(*gatehouse.Config)) *env {
	t.Helper()
	e := &env{t: t}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	root := http.NewServeMux() // routes are added once the URL is known
	srv := httptest.NewUnstartedServer(root)
	srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	e.srv, e.issuer = srv, srv.URL

	cfg := gatehouse.Config{
		Hasher: password.NewHasher(fastParams, 0, 0),
		Now:    func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) },
		Tokens: &gatehouse.TokenConfig{Issuer: srv.URL, Secret: []byte("0123456789abcdef0123456789abcdef")},
		Secret: []byte("0123456789abcdef0123456789abcdef"), PublicURL: srv.URL,
	}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := gatehouse.NewService(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	log := slog.New(slog.DiscardHandler)
	var api httpapi.Config
	pg, err := pages.New(svc, log, pages.Config{API: api, Issuer: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	api.SignInURL = srv.URL + "/auth/signin"
	api.ForbiddenPage = pg.Forbidden
	provider, err := oidc.New(svc, oidc.Config{Issuer: srv.URL, API: api, ErrorPage: pg.RequestRefused}, log)
	if err != nil {
		t.Fatal(err)
	}
	root.Handle("/auth/", pg)
	root.Handle(oidc.DiscoveryPath, provider)
	root.Handle("/oauth2/", provider)
	root.Handle("/", httpapi.NewServer(svc, log, api))
	e.ctx = gooidc.ClientContext(context.Background(), srv.Client())
	return e
}

// app adds an app and returns it with its secret.
func (e *env) app(spec gatehouse.AppSpec) (gatehouse.App, string) {
	e.t.Helper()
	if spec.Name == "" {
		spec.Name = "Wiki"
	}
	if spec.RedirectURIs == nil {
		spec.RedirectURIs = []string{callback}
	}
	if spec.PostLogoutURIs == nil {
		spec.PostLogoutURIs = []string{goodbye}
	}
	a, secret, err := e.svc.AddApp(context.Background(), spec, gatehouse.Client{IP: "cli"})
	if err != nil {
		e.t.Fatal(err)
	}
	return a, secret
}

func (e *env) register(email string) gatehouse.User {
	e.t.Helper()
	u, err := e.svc.CreateUser(context.Background(), email, pw, []string{gatehouse.RoleCustomer}, gatehouse.Client{IP: "cli"})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// browser has its own cookie jar and follows no redirect by itself.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	c := *e.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) location() string { return r.header.Get("Location") }

func (e *env) do(c *http.Client, req *http.Request) response {
	e.t.Helper()
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (e *env) get(c *http.Client, u string) response {
	e.t.Helper()
	if strings.HasPrefix(u, "/") {
		u = e.srv.URL + u
	}
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(c, req)
}

// post sends a form; headers are name, value pairs.
func (e *env) post(c *http.Client, path string, form url.Values, headers ...string) response {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return e.do(c, req)
}

// signIn signs the browser in through the sign-in page, sending it to rd.
func (e *env) signIn(c *http.Client, email, rd string) response {
	e.t.Helper()
	r := e.post(c, "/auth/signin", url.Values{"email": {email}, "password": {pw}, "rd": {rd}})
	if r.status != http.StatusSeeOther {
		e.t.Fatalf("sign-in: status %d, want 303\n%s", r.status, r.body)
	}
	return r
}

// follow follows the redirects within Gatehouse from u, and returns the
// first answer that is not one: a page, or a redirect elsewhere (to the
// app) or to the sign-in page.
func (e *env) follow(c *http.Client, u string) response {
	e.t.Helper()
	for range 10 {
		r := e.get(c, u)
		loc := r.location()
		if r.status < 300 || r.status > 399 || !strings.HasPrefix(loc, e.srv.URL) ||
			strings.HasPrefix(loc, e.srv.URL+"/auth/") {
			return r
		}
		u = loc
	}
	e.t.Fatal("too many redirects")
	return response{}
}

// rp is a relying party: golang.org/x/oauth2 and go-oidc against the
// live discovery document.
type rp struct {
	conf     oauth2.Config
	provider *gooidc.Provider
	verifier *gooidc.IDTokenVerifier
}

func (e *env) rp(a gatehouse.App, secret string, scopes ...string) *rp {
	e.t.Helper()
	p, err := gooidc.NewProvider(e.ctx, e.issuer)
	if err != nil {
		e.t.Fatalf("discovery: %v", err)
	}
	if scopes == nil {
		scopes = []string{gooidc.ScopeOpenID, "email", "profile", "roles", gooidc.ScopeOfflineAccess}
	}
	return &rp{
		conf:     oauth2.Config{ClientID: a.ID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: a.RedirectURIs[0], Scopes: scopes},
		provider: p,
		verifier: p.Verifier(&gooidc.Config{ClientID: a.ID}),
	}
}

// authorization is one run of the browser through the authorization
// endpoint.
type authorization struct {
	state, nonce, verifier string
	opts                   []oauth2.AuthCodeOption
}

func newAuthorization(extra ...oauth2.AuthCodeOption) authorization {
	a := authorization{state: random(), nonce: random(), verifier: oauth2.GenerateVerifier()}
	a.opts = append([]oauth2.AuthCodeOption{gooidc.Nonce(a.nonce), oauth2.S256ChallengeOption(a.verifier)}, extra...)
	return a
}

func random() string {
	b := make([]byte, 16)
	crand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// signedInCode signs a fresh browser in as email through the
// authorization request and returns the browser and the code.
func (e *env) signedInCode(p *rp, email string, a authorization) (*http.Client, string) {
	e.t.Helper()
	c := e.browser()
	r := e.follow(c, p.conf.AuthCodeURL(a.state, a.opts...))
	if !strings.HasPrefix(r.location(), e.srv.URL+"/auth/signin?rd=") {
		e.t.Fatalf("authorize: got %d %q, want the sign-in page\n%s", r.status, r.location(), r.body)
	}
	rd, _ := url.Parse(r.location())
	r = e.signIn(c, email, rd.Query().Get("rd"))
	r = e.follow(c, r.location())
	return c, e.code(r, a.state)
}

// signedInTokens signs email in through p's authorization (a new one) and
// exchanges the code: the browser, the tokens, and the sid of the app's
// login, read from the verified ID token.
func (e *env) signedInTokens(p *rp, email string) (*http.Client, *oauth2.Token, string) {
	e.t.Helper()
	a := newAuthorization()
	browser, code := e.signedInCode(p, email, a)
	tok, err := p.conf.Exchange(e.ctx, code, oauth2.VerifierOption(a.verifier))
	if err != nil {
		e.t.Fatal(err)
	}
	id, err := p.verifier.Verify(e.ctx, tok.Extra("id_token").(string))
	if err != nil {
		e.t.Fatal(err)
	}
	var claims struct{ Sid string }
	if err := id.Claims(&claims); err != nil || claims.Sid == "" {
		e.t.Fatalf("the ID token has no sid: %v", err)
	}
	return browser, tok, claims.Sid
}

// code checks a redirect to the app with a code, state and iss, and
// returns the code.
func (e *env) code(r response, state string) string {
	e.t.Helper()
	u, err := url.Parse(r.location())
	if r.status != http.StatusFound && r.status != http.StatusSeeOther || err != nil || !strings.HasPrefix(r.location(), callback+"?") {
		e.t.Fatalf("got %d %q, want a redirect to the app\n%s", r.status, r.location(), r.body)
	}
	q := u.Query()
	if q.Get("state") != state || q.Get("iss") != e.issuer || q.Get("code") == "" {
		e.t.Fatalf("redirect query = %v, want code, state %q and iss %q", q, state, e.issuer)
	}
	return q.Get("code")
}

// oauthError checks a redirect to the app with an error, state and iss.
func (e *env) oauthError(r response, state, want string) {
	e.t.Helper()
	u, err := url.Parse(r.location())
	if err != nil || !strings.HasPrefix(r.location(), callback+"?") {
		e.t.Fatalf("got %d %q, want a redirect to the app with error=%s\n%s", r.status, r.location(), want, r.body)
	}
	q := u.Query()
	if q.Get("error") != want || q.Get("state") != state || q.Get("iss") != e.issuer {
		e.t.Fatalf("redirect query = %v, want error=%s, state %q, iss %q", q, want, state, e.issuer)
	}
}

// token posts to the token endpoint and returns the status and the
// decoded answer.
func (e *env) token(form url.Values, headers ...string) (int, map[string]any) {
	e.t.Helper()
	r := e.post(e.srv.Client(), oidc.TokenPath, form, headers...)
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		e.t.Fatalf("token endpoint: %d %q is not JSON", r.status, r.body)
	}
	return r.status, m
}

func basic(id, secret string) []string {
	return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))}
}

// wantError checks an OAuth error answer of the token endpoint.
func wantError(t testing.TB, status int, m map[string]any, wantStatus int, want string) {
	t.Helper()
	if status != wantStatus || m["error"] != want {
		t.Fatalf("got %d %v, want %d error=%s", status, m, wantStatus, want)
	}
}

func s256(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func gooidcNonce(n string) oauth2.AuthCodeOption { return gooidc.Nonce(n) }
