package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	stdlog "log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/sqlite"
)

// fastParams keep argon2id cheap in tests; the real parameters are
// exercised by the password package and the e2e tests.
var fastParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// testIssuer is the issuer of tokens in these tests.
const testIssuer = "https://gatehouse.test"

// testTokens turns token mode on with a fixed test secret.
func testTokens() *gatehouse.TokenConfig {
	return &gatehouse.TokenConfig{
		Issuer: testIssuer, Secret: []byte("a test secret of at least thirty-two bytes"),
		RefreshGrace: gatehouse.DefaultRefreshGrace,
	}
}

// clock is a settable clock for deadlines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// lockedBuffer collects log output from concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *lockedBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

type env struct {
	t     *testing.T
	srv   *httptest.Server
	store *sqlite.Store
	svc   *gatehouse.Service
	clock *clock
	logs  *lockedBuffer
	path  string
}

type options struct {
	svc  gatehouse.Config
	http httpapi.Config
}

// newEnv starts the full handler stack over TLS (so the __Host- cookie
// works as in production) on a real SQLite file.
func newEnv(t *testing.T, opt options) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if opt.svc.Tokens == nil {
		opt.svc.Tokens = testTokens()
	}
	e := serveOn(t, st, opt)
	e.store, e.path = st, path
	return e
}

// serveOn serves the API over an already open store.
func serveOn(t *testing.T, st gatehouse.Store, opt options) *env {
	t.Helper()
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := opt.svc
	cfg.Now = c.Now
	cfg.Logger = log
	if cfg.Hasher == nil {
		cfg.Hasher = password.NewHasher(fastParams, 0, 0)
	}
	svc, err := gatehouse.NewService(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(httpapi.NewServer(svc, log, opt.http))
	srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0) // TLS handshakes cut short at Close
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, svc: svc, clock: c, logs: logs}
}

// client returns a browser-like client with its own cookie jar.
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	c := *e.srv.Client()
	c.Jar = jar
	return &c
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// do sends a request; body may be a string (sent as is) or a value to
// encode as JSON. headers are name, value pairs.
func (e *env) do(c *http.Client, method, path string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// wantProblem checks a problem details response.
func wantProblem(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	m := r.json(t)
	if m["code"] != code || m["status"] != float64(status) || m["type"] != "about:blank" || m["title"] == "" {
		t.Errorf("problem = %v, want code %q status %d", m, code, status)
	}
}

const pw = "correct horse battery staple"

// register creates an account through the API.
func (e *env) register(email string) {
	e.t.Helper()
	r := e.do(e.srv.Client(), "POST", "/v1/users", map[string]string{"email": email, "password": pw})
	if r.status != http.StatusCreated {
		e.t.Fatalf("register %s: %d %s", email, r.status, r.body)
	}
}

// login signs c in with a session and returns the login response.
func (e *env) login(c *http.Client, email string, extra ...string) map[string]any {
	e.t.Helper()
	body := map[string]any{"email": email, "password": pw, "mode": "session"}
	r := e.do(c, "POST", "/v1/login", body, extra...)
	if r.status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", email, r.status, r.body)
	}
	return r.json(e.t)
}

// sessionCookie returns the Set-Cookie of a response for the session.
func sessionCookie(t *testing.T, r response, name string) *http.Cookie {
	t.Helper()
	for _, line := range r.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", name, r.header.Values("Set-Cookie"))
	return nil
}

// httpapiConfigTrustingLoopback trusts X-Forwarded-For from the test client.
func httpapiConfigTrustingLoopback() httpapi.Config {
	return httpapi.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
}
