package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// The fuzz targets here drive the full handler stack (httpapi.NewServer
// over a real SQLite file, token mode on) with hostile input. They call
// ServeHTTP directly rather than going through a listener: that is much
// faster, and a panic then reaches the fuzzer instead of being swallowed
// by net/http.
//
// The stack is set up once per fuzz run (once per worker process when
// fuzzing), not per input, so inputs run against a store that earlier
// inputs changed: the properties checked hold whatever the state.
//
// Seed inputs may hold placeholders, replaced by live credentials made at
// setup, so that the corpus can carry real secrets although they are
// random on every run (see fuzzEnv.expand).

// fuzzEnv is the handler stack a fuzz target drives.
type fuzzEnv struct {
	h    http.Handler
	logs *fuzzLog

	targetID string // a user that admin PATCHes

	secret, access, refresh string // the live credentials of ada@example.com
	oldSecret, oldAccess    string // ada's, logged out at setup
	adaID                   string
	victim                  string // the session cookie value PUT /v1/me/password uses
	admin                   string // an access token of an administrator
}

// fuzzCookie is the session cookie's name in the default (secure) mode.
const fuzzCookie = "__Host-gatehouse"

// newFuzzEnv opens a store in a temporary directory, starts the service
// on a frozen clock (tokens and sessions never expire during a run, and
// throttles are set out of reach so that inputs cannot lock each other
// out), and signs in the accounts the targets need.
func newFuzzEnv(tb testing.TB) *fuzzEnv {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "fuzz.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	logs := &fuzzLog{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	const unlimited = 1 << 30
	svc, err := gatehouse.NewService(st, gatehouse.Config{
		Now: c.Now, Logger: log, Hasher: password.NewHasher(fastParams, 0, 0), Tokens: testTokens(),
		Limits: gatehouse.Limits{AccountFailures: unlimited, AddressFailures: unlimited, Registrations: unlimited, Refreshes: unlimited},
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	e := &fuzzEnv{h: httpapi.NewServer(svc, log, httpapi.Config{}), logs: logs}

	mustUser := func(email string, roles ...string) string {
		u, err := svc.CreateUser(ctx, email, pw, roles, gatehouse.Client{})
		if err != nil {
			tb.Fatal(err)
		}
		return u.ID
	}
	e.adaID = mustUser("ada@example.com", gatehouse.RoleCustomer)
	e.targetID = mustUser("target@example.com", gatehouse.RoleCustomer)
	mustUser("victim@example.com", gatehouse.RoleCustomer)
	// Login seeds sign in as bob: past MaxLoginsPerUser logins of ada's,
	// the one $REFRESH belongs to would be evicted.
	mustUser("bob@example.com", gatehouse.RoleCustomer)
	mustUser("root@example.com", gatehouse.RoleAdmin)

	login := func(email, mode string) map[string]any {
		rec := e.serve(http.MethodPost, "/v1/login", []byte(`{"email":"`+email+`","password":"`+pw+`","mode":"`+mode+`"}`))
		if rec.Code != http.StatusOK {
			tb.Fatalf("login %s %s: %d %s", email, mode, rec.Code, rec.Body)
		}
		if mode == "session" {
			for _, ck := range rec.Result().Cookies() {
				if ck.Name == fuzzCookie {
					return map[string]any{"secret": ck.Value}
				}
			}
			tb.Fatalf("login %s: no %s cookie", email, fuzzCookie)
		}
		var m map[string]any
		json.Unmarshal(rec.Body.Bytes(), &m)
		return m
	}
	logout := func(header, value string) {
		rec := e.serve(http.MethodPost, "/v1/logout", nil, header, value)
		if rec.Code != http.StatusNoContent {
			tb.Fatalf("logout: %d %s", rec.Code, rec.Body)
		}
	}
	e.oldSecret = login("ada@example.com", "session")["secret"].(string)
	logout("Cookie", fuzzCookie+"="+e.oldSecret)
	e.oldAccess = login("ada@example.com", "token")["access_token"].(string)
	logout("Authorization", "Bearer "+e.oldAccess)
	e.secret = login("ada@example.com", "session")["secret"].(string)
	tok := login("ada@example.com", "token")
	e.access, e.refresh = tok["access_token"].(string), tok["refresh_token"].(string)
	e.victim = login("victim@example.com", "session")["secret"].(string)
	e.admin = login("root@example.com", "token")["access_token"].(string)
	logs.Reset()
	return e
}

// expand replaces the placeholders of a seed with live values: $SECRET
// and $TOKEN (ada's cookie secret and access token), $OLDSECRET and
// $OLDTOKEN (logged out), $REFRESH (ada's refresh token) and $ADA (her id).
func (e *fuzzEnv) expand(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	return strings.NewReplacer(
		"$OLDSECRET", e.oldSecret, "$OLDTOKEN", e.oldAccess,
		"$SECRET", e.secret, "$TOKEN", e.access, "$REFRESH", e.refresh, "$ADA", e.adaID,
	).Replace(s)
}

// serve runs one request through the stack; headers are name, value pairs.
func (e *fuzzEnv) serve(method, path string, body []byte, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// contractStatus is the status of every error code of the contract.
var contractStatus = map[string]int{
	"invalid_request": 400, "invalid_email": 400, "weak_password": 400, "email_taken": 409,
	"signup_disabled": 403, "invalid_credentials": 401, "account_disabled": 403, "cross_origin": 403,
	"too_many_attempts": 429, "unauthenticated": 401, "invalid_token": 401, "refresh_token_reused": 401,
	"not_found": 404, "forbidden": 403, "method_not_allowed": 405, "unavailable": 503,
}

// checkProblem fails unless rec is problem details whose code is one of
// codes and whose status is the code's (or 413 for an oversized body).
func checkProblem(t *testing.T, rec *httptest.ResponseRecorder, codes ...string) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d with Content-Type %q, want application/problem+json; body %q", rec.Code, ct, rec.Body)
	}
	var p struct {
		Type, Title, Code string
		Status            int
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("status %d: problem body %q is not JSON: %v", rec.Code, rec.Body, err)
	}
	want, known := contractStatus[p.Code]
	if p.Code == "invalid_request" && rec.Code == http.StatusRequestEntityTooLarge {
		want = rec.Code
	}
	if !known || want != rec.Code || p.Status != rec.Code || p.Type != "about:blank" || p.Title == "" {
		t.Fatalf("status %d with problem %+v: not the contract's", rec.Code, p)
	}
	for _, c := range codes {
		if c == p.Code {
			return
		}
	}
	t.Fatalf("status %d code %q: this endpoint answers only %v", rec.Code, p.Code, codes)
}

// fuzzLog keeps the log of the current input, for the failure message.
type fuzzLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *fuzzLog) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *fuzzLog) Reset()                      { l.mu.Lock(); l.b.Reset(); l.mu.Unlock() }
func (l *fuzzLog) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// bodyRoute is one endpoint FuzzRequestBodies sends bodies to.
type bodyRoute struct {
	method, path string
	auth         func(e *fuzzEnv) (header, value string)
	ok           int      // the success status
	codes        []string // the error codes it may answer
}

var bodyRoutes = []bodyRoute{
	{method: "POST", path: "/v1/users", ok: 201,
		codes: []string{"invalid_request", "invalid_email", "weak_password", "email_taken", "too_many_attempts"}},
	{method: "POST", path: "/v1/login", ok: 200,
		codes: []string{"invalid_request", "invalid_credentials", "account_disabled", "too_many_attempts"}},
	{method: "POST", path: "/v1/token/refresh", ok: 200,
		codes: []string{"invalid_request", "invalid_token", "refresh_token_reused", "too_many_attempts"}},
	{method: "PUT", path: "/v1/me/password", ok: 204,
		auth:  func(e *fuzzEnv) (string, string) { return "Cookie", fuzzCookie + "=" + e.victim },
		codes: []string{"invalid_request", "weak_password", "invalid_credentials"}},
	{method: "PATCH", path: "/v1/admin/users/{target}", ok: 200,
		auth:  func(e *fuzzEnv) (string, string) { return "Authorization", "Bearer " + e.admin },
		codes: []string{"invalid_request", "not_found"}},
}

// checkBody sends body to r and checks the answer: never a 5xx; a
// success has the route's status and a JSON body (none for 204); anything
// else is problem details with one of the route's codes. It returns the
// status.
func (e *fuzzEnv) checkBody(t *testing.T, r bodyRoute, body []byte) (status int) {
	t.Helper()
	var headers []string
	if r.auth != nil {
		h, v := r.auth(e)
		headers = []string{h, v}
	}
	path := strings.Replace(r.path, "{target}", e.targetID, 1)
	e.logs.Reset()
	rec := e.serve(r.method, path, body, headers...)
	if rec.Code >= 500 {
		t.Fatalf("%s %s with body %q: %d %s\nlog:\n%s", r.method, r.path, body, rec.Code, rec.Body, e.logs)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s %s: Cache-Control %q, want no-store", r.method, r.path, cc)
	}
	if rec.Code/100 != 2 {
		checkProblem(t, rec, r.codes...)
		return rec.Code
	}
	if rec.Code != r.ok {
		t.Fatalf("%s %s with body %q: %d, want %d on success", r.method, r.path, body, rec.Code, r.ok)
	}
	if rec.Code == http.StatusNoContent {
		if rec.Body.Len() != 0 {
			t.Fatalf("%s %s: 204 with body %q", r.method, r.path, rec.Body)
		}
		return rec.Code
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" || !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("%s %s: %d with Content-Type %q and body %q, want JSON", r.method, r.path, rec.Code, ct, rec.Body)
	}
	return rec.Code
}

// FuzzRequestBodies sends arbitrary bytes as the body of every endpoint
// that reads one (route picks it, modulo the number of routes): POST
// /v1/users, POST /v1/login, POST /v1/token/refresh, PUT /v1/me/password
// with a valid cookie and PATCH /v1/admin/users/{id} as an admin. The
// server must never panic nor answer 5xx; a success has the endpoint's
// status and a JSON body; anything else is problem details with one of
// the endpoint's codes. $REFRESH in a body is a live refresh token.
// Bodies at the size limit are left to TestRequestBodiesAtTheLimits:
// as seeds they would slow the fuzzer down.
func FuzzRequestBodies(f *testing.F) {
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		e.checkBody(t, bodyRoutes[int(route)%len(bodyRoutes)], []byte(e.expand(string(body))))
	})
}

// TestRequestBodiesAtTheLimits checks FuzzRequestBodies' properties on
// bodies too large to make good seeds: one byte over MaxBodyBytes (413),
// and MaxBodyBytes of nesting or of padding.
func TestRequestBodiesAtTheLimits(t *testing.T) {
	e := newFuzzEnv(t)
	// padded returns the JSON object obj with a field added that makes it
	// exactly MaxBodyBytes long.
	padded := func(obj string) []byte {
		head := obj[:len(obj)-1] + `,"padding":"`
		return []byte(head + strings.Repeat("p", httpapi.MaxBodyBytes-len(head)-2) + `"}`)
	}
	for _, r := range bodyRoutes {
		t.Run(r.method+r.path, func(t *testing.T) {
			over := bytes.Repeat([]byte(" "), httpapi.MaxBodyBytes+1)
			copy(over, `{}`)
			if code := e.checkBody(t, r, over); code != http.StatusRequestEntityTooLarge {
				t.Errorf("a body of MaxBodyBytes+1: %d, want 413", code)
			}
			for _, deep := range [][]byte{bytes.Repeat([]byte("["), httpapi.MaxBodyBytes), bytes.Repeat([]byte(`{"a":`), httpapi.MaxBodyBytes/5)} {
				if code := e.checkBody(t, r, deep); code != http.StatusBadRequest {
					t.Errorf("%.10s... nested %d deep: %d, want 400", deep, len(deep), code)
				}
			}
			full := padded(`{"email":"pad@example.com","password":"` + pw + `","mode":"token","refresh_token":"x","current_password":"x","new_password":"y","disabled":false}`)
			if len(full) != httpapi.MaxBodyBytes {
				t.Fatalf("padded body of %d bytes, want %d", len(full), httpapi.MaxBodyBytes)
			}
			if code := e.checkBody(t, r, full); code == http.StatusRequestEntityTooLarge || code == http.StatusBadRequest {
				t.Errorf("a well-formed body of exactly MaxBodyBytes: %d, want it read", code)
			}
		})
	}
}

// validHeaderValue reports whether v could arrive as a header value: no
// control bytes but tab (what net/http's server enforces).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// checkCredentials sends the Cookie and Authorization header values (when
// not empty) to GET /v1/me and GET /v1/verify: never a 5xx; a refusal is
// 401 problem details (with the RFC 6750 challenge for a refused bearer
// token); 200 only when the Cookie header carries ada's live session
// secret or the Authorization header her live access token, and then it
// names her.
func (e *fuzzEnv) checkCredentials(t *testing.T, cookie, authorization string) {
	t.Helper()
	var headers []string
	if cookie != "" {
		headers = append(headers, "Cookie", cookie)
	}
	if authorization != "" {
		headers = append(headers, "Authorization", authorization)
	}
	carries := strings.Contains(cookie, e.secret) || strings.Contains(authorization, e.access)
	for _, path := range []string{"/v1/me", "/v1/verify"} {
		e.logs.Reset()
		rec := e.serve(http.MethodGet, path, nil, headers...)
		switch {
		case rec.Code >= 500:
			t.Fatalf("GET %s with Cookie %q, Authorization %q: %d %s\nlog:\n%s", path, cookie, authorization, rec.Code, rec.Body, e.logs)
		case rec.Code == http.StatusOK:
			if !carries {
				t.Fatalf("GET %s with Cookie %q, Authorization %q: 200 without ada's live credential", path, cookie, authorization)
			}
			if path == "/v1/verify" && rec.Header().Get("X-Gatehouse-User") != e.adaID {
				t.Fatalf("GET /v1/verify: 200 for user %q, want ada %q", rec.Header().Get("X-Gatehouse-User"), e.adaID)
			}
			if path == "/v1/me" && !strings.Contains(rec.Body.String(), `"id":"`+e.adaID+`"`) {
				t.Fatalf("GET /v1/me: 200 with %s, want ada %q", rec.Body, e.adaID)
			}
		case rec.Code == http.StatusUnauthorized:
			checkProblem(t, rec, "unauthenticated", "invalid_token")
			if strings.Contains(rec.Body.String(), `"invalid_token"`) && rec.Header().Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
				t.Fatalf("GET %s: invalid_token without the RFC 6750 challenge (WWW-Authenticate %q)", path, rec.Header().Get("WWW-Authenticate"))
			}
		default:
			t.Fatalf("GET %s with Cookie %q, Authorization %q: %d %s, want 200 or 401", path, cookie, authorization, rec.Code, rec.Body)
		}
	}
}

// FuzzCookieAndBearer sends arbitrary Cookie and Authorization header
// values to GET /v1/me and GET /v1/verify and checks them as
// checkCredentials says. Seeds carry the live and logged-out credentials
// as placeholders ($SECRET, $TOKEN, $OLDSECRET, $OLDTOKEN); the live values
// themselves are added too, for the fuzzer to mutate.
func FuzzCookieAndBearer(f *testing.F) {
	e := newFuzzEnv(f)
	f.Add(fuzzCookie+"="+e.secret, "")
	f.Add("", "Bearer "+e.access)
	f.Add(fuzzCookie+"="+e.oldSecret, "Bearer "+e.oldAccess)
	f.Fuzz(func(t *testing.T, cookie, authorization string) {
		cookie, authorization = e.expand(cookie), e.expand(authorization)
		if !validHeaderValue(cookie) || !validHeaderValue(authorization) {
			t.Skip("not a header value net/http would accept")
		}
		// Header values arrive trimmed of surrounding blanks.
		e.checkCredentials(t, strings.Trim(cookie, " \t"), strings.Trim(authorization, " \t"))
	})
}

// TestCredentialsAtTheLimits checks FuzzCookieAndBearer's properties on
// header values too large to make good seeds.
func TestCredentialsAtTheLimits(t *testing.T) {
	e := newFuzzEnv(t)
	long := strings.Repeat("a", 9000) // over token.MaxTokenBytes
	e.checkCredentials(t, "", "Bearer "+long)
	e.checkCredentials(t, "", "Bearer "+e.access+long)
	e.checkCredentials(t, fuzzCookie+"="+long, "")
	e.checkCredentials(t, strings.Repeat("c=d; ", 5000)+fuzzCookie+"="+e.secret, "")
	e.checkCredentials(t, fuzzCookie+"="+e.secret+long, "Basic "+long)
}
