package guard_test

import (
	"context"
	"encoding/json"
	"io"
	stdlog "log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/guard"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/sqlite"
)

// testPassword is every test user's password.
const testPassword = "correct horse battery staple"

// serviceEmail is the service account every server has.
const serviceEmail = "shop-service@example.com"

// fastParams keep argon2id cheap in tests, as in httpapi's tests.
var fastParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// server is a real Gatehouse in this process: the service over a SQLite
// file, the HTTP API, and the background work of `gatehouse serve`
// (svc.Run, which follows the feed and the keys), behind a gate that
// counts requests and can cut the server off.
type server struct {
	URL  string
	svc  *gatehouse.Service
	http *httptest.Server
	gate *gate
	stop func()
}

// startGatehouse starts a server with a service account. edit, when not
// nil, changes the service's configuration first.
func startGatehouse(edit func(*gatehouse.Config)) (*server, error) {
	dir, err := os.MkdirTemp("", "guard-test")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var cleanup []func()
	stop := sync.OnceFunc(func() {
		cancel()
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
		os.RemoveAll(dir)
	})
	st, err := sqlite.Open(ctx, filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		stop()
		return nil, err
	}
	cleanup = append(cleanup, func() { st.Close() })
	hs := httptest.NewUnstartedServer(nil)
	hs.Config.ErrorLog = stdlog.New(io.Discard, "", 0)
	url := "http://" + hs.Listener.Addr().String()
	cfg := gatehouse.Config{
		Hasher: password.NewHasher(fastParams, 0, 0),
		Tokens: &gatehouse.TokenConfig{Issuer: url, Secret: []byte("a test secret of at least thirty-two bytes")},
	}
	if edit != nil {
		edit(&cfg)
	}
	svc, err := gatehouse.NewService(st, cfg)
	if err == nil {
		err = svc.Start(ctx)
	}
	if err == nil {
		_, err = svc.CreateUser(ctx, serviceEmail, testPassword, []string{"service"}, gatehouse.Client{})
	}
	if err != nil {
		hs.Close()
		stop()
		return nil, err
	}
	g := &gate{h: httpapi.NewServer(svc, nil, httpapi.Config{}), cut: make(chan struct{})}
	hs.Config.Handler = g
	hs.Start()
	cleanup = append(cleanup, func() { hs.CloseClientConnections(); hs.Close() })
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	cleanup = append(cleanup, func() { <-done })
	return &server{URL: url, svc: svc, http: hs, gate: g, stop: stop}, nil
}

// Close stops the server and removes its database.
func (s *server) Close() { s.stop() }

// newServer starts a server for one test.
func newServer(t testing.TB, edit func(*gatehouse.Config)) *server {
	t.Helper()
	s, err := startGatehouse(edit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// addUser creates a user with the roles and returns its id.
func (s *server) addUser(t testing.TB, email string, roles ...string) string {
	t.Helper()
	u, err := s.svc.CreateUser(context.Background(), email, testPassword, roles, gatehouse.Client{})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// login signs a user in and returns the cookie secret (session mode) or
// the access token (token mode).
func (s *server) login(t testing.TB, email string, mode gatehouse.Mode) string {
	t.Helper()
	res, err := s.svc.Login(context.Background(), gatehouse.LoginRequest{Email: email, Password: testPassword, Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	if mode == gatehouse.ModeSession {
		return res.Secret
	}
	return res.Tokens.AccessToken
}

// down cuts the server off, as if it had gone away: open requests end and
// new ones have their connection closed. up brings it back.
func (s *server) down() { s.gate.set(true) }
func (s *server) up()   { s.gate.set(false) }

// gate counts requests per path and cuts them off while down.
type gate struct {
	h     http.Handler
	count sync.Map // path → *atomic.Int64

	mu   sync.Mutex
	down bool
	cut  chan struct{} // closed when the server goes down
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n, _ := g.count.LoadOrStore(r.URL.Path, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	g.mu.Lock()
	down, cut := g.down, g.cut
	g.mu.Unlock()
	if down {
		panic(http.ErrAbortHandler) // closes the connection without an answer
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-cut:
			cancel()
		case <-ctx.Done():
		}
	}()
	g.h.ServeHTTP(w, r.WithContext(ctx))
}

func (g *gate) set(down bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if down && !g.down {
		close(g.cut)
		g.cut = make(chan struct{})
	}
	g.down = down
}

// requests returns how many requests reached path.
func (s *server) requests(path string) int64 {
	n, ok := s.gate.count.Load(path)
	if !ok {
		return 0
	}
	return n.(*atomic.Int64).Load()
}

// newGuard returns a Guard on s, closed when the test ends.
func newGuard(t testing.TB, s *server, opts ...guard.Option) *guard.Guard {
	t.Helper()
	g, err := guard.New(context.Background(), s.URL, opts...)
	if err != nil {
		t.Fatalf("guard.New: %v", err)
	}
	t.Cleanup(g.Close)
	return g
}

// withService is the option for the server's service account.
func withService() guard.Option { return guard.WithServiceAccount(serviceEmail, testPassword) }

// app is an application protected by g: /me for any signed-in user,
// /cart for cart:write, /admin for users:admin. Each answers with the
// user as JSON.
func app(g *guard.Guard) http.Handler {
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := guard.UserFrom(r.Context())
		if !ok {
			http.Error(w, "no user in the context", http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(u)
	})
	mux := http.NewServeMux()
	mux.Handle("/me", g.Authenticate(whoami))
	mux.Handle("/cart", g.Require("cart:write")(whoami))
	mux.Handle("/admin", g.Require("users:admin")(whoami))
	mux.Handle("/strong", g.RequireAAL(2)(whoami))
	return mux
}

// result is an answer of the app.
type result struct {
	status int
	header http.Header
	user   guard.User
	code   string // the problem's code
}

// credential is how a request signs in.
type credential struct{ cookie, bearer string }

func cookie(secret string) credential { return credential{cookie: secret} }
func bearer(tok string) credential    { return credential{bearer: tok} }

// call sends a request with the credential to h and reads the answer.
func call(t testing.TB, h http.Handler, method, path string, c credential, headers ...string) result {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	if c.cookie != "" {
		r.AddCookie(&http.Cookie{Name: "__Host-gatehouse", Value: c.cookie})
	}
	if c.bearer != "" {
		r.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := result{status: w.Code, header: w.Header()}
	if w.Code == http.StatusOK {
		if err := json.Unmarshal(w.Body.Bytes(), &res.user); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, w.Body, err)
		}
		return res
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s %s: %d with Content-Type %q, want application/problem+json", method, path, w.Code, ct)
	}
	var p struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
		Code   string `json:"code"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Type != "about:blank" || p.Status != w.Code || p.Title == "" || p.Detail == "" {
		t.Fatalf("%s %s: %d with body %q, want problem details (%v)", method, path, w.Code, w.Body, err)
	}
	res.code = p.Code
	return res
}

// eventually calls the app until the answer has the status, or fails
// after within. It returns how long that took.
func eventually(t *testing.T, within time.Duration, h http.Handler, path string, c credential, status int) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		res := call(t, h, "GET", path, c)
		if res.status == status {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("GET %s: still %d (%s) after %v, want %d", path, res.status, res.code, within, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantRefused checks a refusal's status, code and RFC 6750 challenge.
func wantRefused(t *testing.T, res result, status int, code string) {
	t.Helper()
	if res.status != status || res.code != code {
		t.Errorf("answer %d %q, want %d %q", res.status, res.code, status, code)
	}
	challenge := res.header.Get("WWW-Authenticate")
	if want := code == "invalid_token"; want != (challenge == `Bearer error="invalid_token"`) {
		t.Errorf("WWW-Authenticate = %q with code %q", challenge, code)
	}
}

// clock is a settable clock, for a server (gatehouse.Config.Now) and the
// Guards on it (guard.WithClock) to share, so that tests move time
// forward instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// newClock returns a clock set years away from the real time, so that
// anything that reads the real time where it should read the clock is
// caught: the Guard would take every token for expired or not yet valid.
// It is at a whole second: a token issued at once has that very time as
// its iat.
func newClock() *clock { return &clock{t: time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// newTimedServer starts a server on the clock; edit, when not nil,
// changes the rest of its configuration.
func newTimedServer(t testing.TB, clk *clock, edit func(*gatehouse.Config)) *server {
	t.Helper()
	return newServer(t, func(c *gatehouse.Config) {
		c.Now = clk.Now
		if edit != nil {
			edit(c)
		}
	})
}

// waitFor waits until cond holds, for something another goroutine or the
// network does, or fails after within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
