package pages_test

import (
	"context"
	"io"
	stdlog "log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/pages"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/sqlite"
)

// fastParams keep argon2id cheap in tests.
var fastParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const pw = "correct horse battery staple"

type env struct {
	t     testing.TB
	srv   *httptest.Server
	svc   *gatehouse.Service
	pages *pages.Handler
}

type options struct {
	svc   gatehouse.Config
	pages pages.Config
	log   *slog.Logger // nil: discarded
}

// newEnv serves the API and the pages as serve does (the pages under
// /auth/, the API beside them), over TLS so that the __Host- cookie works
// as in production, on a real SQLite file. The issuer is the server's URL.
func newEnv(t testing.TB, opt options) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := opt.svc
	cfg.Hasher = password.NewHasher(fastParams, 0, 0)
	cfg.NoSignup = opt.pages.NoSignup || cfg.NoSignup
	svc, err := gatehouse.NewService(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	root := http.NewServeMux() // routes are added once the URL is known
	srv := httptest.NewUnstartedServer(root)
	srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)

	log := opt.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pc := opt.pages
	pc.Issuer = srv.URL
	pg, err := pages.New(svc, log, pc)
	if err != nil {
		t.Fatal(err)
	}
	api := pc.API
	api.SignInURL = srv.URL + "/auth/signin"
	api.StepUpURL = srv.URL + "/auth/step-up"
	api.ForbiddenPage = pg.Forbidden
	root.Handle("/auth/", pg)
	root.Handle("/", httpapi.NewServer(svc, log, api))
	return &env{t: t, srv: srv, svc: svc, pages: pg}
}

// client is a browser: its own cookie jar, and redirects not followed,
// so that each 303 can be checked.
func (e *env) client() *http.Client {
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

// sameOrigin is what a browser sends with a form posted from the pages.
var sameOrigin = []string{"Sec-Fetch-Site", "same-origin"}

// get fetches a page; headers are name, value pairs.
func (e *env) get(c *http.Client, path string, headers ...string) response {
	e.t.Helper()
	return e.send(c, "GET", path, nil, headers...)
}

// post sends a form from the same origin, unless headers say otherwise.
func (e *env) post(c *http.Client, path string, form url.Values, headers ...string) response {
	e.t.Helper()
	return e.send(c, "POST", path, form, append(append([]string{}, sameOrigin...), headers...)...)
}

func (e *env) send(c *http.Client, method, path string, form url.Values, headers ...string) response {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
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
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// register creates an account through the Service.
func (e *env) register(email string) {
	e.t.Helper()
	if _, err := e.svc.CreateUser(context.Background(), email, pw, []string{gatehouse.RoleCustomer}, gatehouse.Client{IP: "cli"}); err != nil {
		e.t.Fatal(err)
	}
}

// signIn signs c in through the sign-in page and returns the answer.
func (e *env) signIn(c *http.Client, email, password string, extra ...string) response {
	e.t.Helper()
	f := url.Values{"email": {email}, "password": {password}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return e.post(c, "/auth/signin", f)
}

// want checks a status, with the body when it is wrong.
func want(t testing.TB, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d\n%s", r.status, status, r.body)
	}
}

// wantRedirect checks a 303 and its Location.
func wantRedirect(t testing.TB, r response, location string) {
	t.Helper()
	if r.status != http.StatusSeeOther || r.header.Get("Location") != location {
		t.Fatalf("got %d Location %q, want 303 %q\n%s", r.status, r.header.Get("Location"), location, r.body)
	}
}

// has checks that the body holds every one of subs.
func has(t testing.TB, r response, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.body, s) {
			t.Errorf("the page does not hold %q\n%s", s, r.body)
		}
	}
}
