package httpapi_test

import (
	"bytes"
	"context"
	"github.com/gatehouse/gatehouse/password"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlite"
)

func TestRegister(t *testing.T) {
	e := newEnv(t, options{})
	r := e.do(e.srv.Client(), "POST", "/v1/users", map[string]any{"email": " Ada@Example.com ", "password": pw, "roles": []string{"admin"}})
	if r.status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	u := r.json(t)
	if u["email"] != "ada@example.com" || u["disabled"] != false || u["id"] == "" || u["created_at"] == nil {
		t.Errorf("user = %s", r.body)
	}
	// A client cannot choose its own roles at sign-up.
	if roles := u["roles"].([]any); len(roles) != 1 || roles[0] != "customer" {
		t.Errorf("roles = %v, want [customer]", roles)
	}
	if strings.Contains(string(r.body), "argon2") || strings.Contains(string(r.body), pw) {
		t.Error("the response leaks the password or its hash")
	}
	wantProblem(t, e.do(e.srv.Client(), "POST", "/v1/users", map[string]any{"email": "ADA@example.com", "password": pw}), 409, "email_taken")
}

func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	c := e.client()
	e.login(c, "ada@example.com")
	huge := `{"email":"x@example.com","password":"` + strings.Repeat("a", 70<<10) + `"}`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"malformed", "POST", "/v1/users", `{"email":`, 400, "invalid_request"},
		{"not an object", "POST", "/v1/users", `[1,2]`, 400, "invalid_request"},
		{"empty", "POST", "/v1/users", ``, 400, "invalid_request"},
		{"null", "POST", "/v1/users", `null`, 400, "invalid_request"},
		{"trailing data", "POST", "/v1/users", `{"email":"x@example.com","password":"long enough pass"} {}`, 400, "invalid_request"},
		{"wrong type", "POST", "/v1/users", `{"email":42,"password":"long enough pass"}`, 400, "invalid_request"},
		{"missing password", "POST", "/v1/users", `{"email":"x@example.com"}`, 400, "invalid_request"},
		{"absurd email", "POST", "/v1/users", `{"email":"` + strings.Repeat("a", 300) + `@example.com","password":"long enough pass"}`, 400, "invalid_email"},
		{"not an email", "POST", "/v1/users", `{"email":"Ada <ada@example.com>","password":"long enough pass"}`, 400, "invalid_email"},
		{"control characters", "POST", "/v1/users", `{"email":"x\u0000@example.com","password":"long enough pass"}`, 400, "invalid_email"},
		{"short password", "POST", "/v1/users", `{"email":"x@example.com","password":"1234567"}`, 400, "weak_password"},
		{"common password", "POST", "/v1/users", `{"email":"x@example.com","password":"password123"}`, 400, "weak_password"},
		{"too long password", "POST", "/v1/users", `{"email":"x@example.com","password":"` + strings.Repeat("b", 1025) + `"}`, 400, "weak_password"},
		{"body over 64 KiB", "POST", "/v1/users", huge, 413, "invalid_request"},
		{"login wrong type", "POST", "/v1/login", `{"email":"ada@example.com","password":"x","mode":"session","remember":"yes"}`, 400, "invalid_request"},
		{"login missing mode", "POST", "/v1/login", `{"email":"ada@example.com","password":"x"}`, 400, "invalid_request"},
		{"login unknown mode", "POST", "/v1/login", `{"email":"ada@example.com","password":"` + pw + `","mode":"magic"}`, 400, "invalid_request"},
		{"login huge device", "POST", "/v1/login", `{"email":"ada@example.com","password":"` + pw + `","mode":"session","device":"` + strings.Repeat("d", 100) + `"}`, 400, "invalid_request"},
		{"password change malformed", "PUT", "/v1/me/password", `{"current_password":`, 400, "invalid_request"},
		{"unknown path", "GET", "/v1/nothing", ``, 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			wantProblem(t, e.do(c, tc.method, tc.path, body), tc.status, tc.code)
		})
	}
	users, _, err := e.svc.ListUsers(context.Background(), gatehouse.UserQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 {
		t.Errorf("bad input created users: have %d, want 1", len(users))
	}
	if r := e.do(c, "GET", "/v1/me", nil); r.status != 200 {
		t.Errorf("bad input disturbed the session: %d", r.status)
	}
	if strings.Contains(e.logs.String(), "level=ERROR") {
		t.Errorf("bad input logged an error:\n%s", e.logs)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t, options{})
	for _, tc := range []struct{ method, path, allow string }{
		{"GET", "/v1/login", "POST"},
		{"DELETE", "/v1/me", "GET, HEAD"},
		{"POST", "/v1/sessions", "DELETE, GET, HEAD"},
		{"PATCH", "/v1/sessions/abc", "DELETE"},
		{"PUT", "/healthz", "GET, HEAD"},
	} {
		r := e.do(e.srv.Client(), tc.method, tc.path, nil)
		wantProblem(t, r, 405, "method_not_allowed")
		if got := r.header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
}

func TestWrongEmailAndWrongPasswordLookAlike(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	wrongEmail := e.do(e.client(), "POST", "/v1/login", map[string]any{"email": "nobody@example.com", "password": pw, "mode": "session"})
	wrongPassword := e.do(e.client(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": "not the password", "mode": "session"})
	wantProblem(t, wrongEmail, 401, "invalid_credentials")
	if wrongEmail.status != wrongPassword.status || !bytes.Equal(wrongEmail.body, wrongPassword.body) {
		t.Errorf("wrong email answers %d %s, wrong password %d %s", wrongEmail.status, wrongEmail.body, wrongPassword.status, wrongPassword.body)
	}
	if len(wrongEmail.header.Values("Set-Cookie")) != 0 {
		t.Error("a failed login set a cookie")
	}
}

func TestUnauthenticated(t *testing.T) {
	e := newEnv(t, options{})
	for _, p := range []struct{ method, path string }{
		{"GET", "/v1/me"}, {"POST", "/v1/logout"}, {"GET", "/v1/sessions"}, {"DELETE", "/v1/sessions"},
		{"DELETE", "/v1/sessions/x"}, {"PUT", "/v1/me/password"}, {"GET", "/v1/verify"}, {"GET", "/v1/roles"},
	} {
		wantProblem(t, e.do(e.srv.Client(), p.method, p.path, nil), 401, "unauthenticated")
	}
	r := e.do(e.srv.Client(), "GET", "/v1/me", nil, "Authorization", "Bearer not-a-token")
	wantProblem(t, r, 401, "invalid_token")
	wantProblem(t, e.do(e.srv.Client(), "GET", "/v1/me", nil, "Authorization", "Basic YTpi"), 401, "unauthenticated")
	if got := r.header.Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
}

func TestHealthAndReady(t *testing.T) {
	e := newEnv(t, options{})
	if r := e.do(e.srv.Client(), "GET", "/healthz", nil); r.status != 200 || r.json(t)["status"] != "ok" {
		t.Errorf("healthz: %d %s", r.status, r.body)
	}
	if r := e.do(e.srv.Client(), "GET", "/readyz", nil); r.status != 200 {
		t.Errorf("readyz: %d %s", r.status, r.body)
	}
}

// When the store cannot answer, checks fail closed with 503.
func TestStoreFailureFailsClosed(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	c := e.client()
	e.login(c, "ada@example.com")
	e.store.Close()
	wantProblem(t, e.do(c, "GET", "/v1/me", nil), 503, "unavailable")
	wantProblem(t, e.do(c, "GET", "/v1/verify", nil), 503, "unavailable")
	wantProblem(t, e.do(e.srv.Client(), "GET", "/readyz", nil), 503, "unavailable")
	wantProblem(t, e.do(e.client(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": pw, "mode": "session"}), 503, "unavailable")
}

func TestReadOnlyStoreFailsClosed(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	ro, err := sqlite.OpenReadOnly(context.Background(), e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	roEnv := serveOn(t, ro, options{})
	wantProblem(t, roEnv.do(roEnv.client(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": pw, "mode": "session"}), 503, "unavailable")
	wantProblem(t, roEnv.do(roEnv.client(), "POST", "/v1/users", map[string]any{"email": "bob@example.com", "password": pw}), 503, "unavailable")
}

func TestAuditAndLogs(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	c := e.client()
	login := e.do(c, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": pw, "mode": "session"})
	secret := sessionCookie(t, login, "__Host-gatehouse").Value
	e.do(e.client(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": "wrong password!", "mode": "session"})
	other := e.client()
	otherID := e.login(other, "ada@example.com")["session"].(map[string]any)["id"].(string)
	e.do(c, "DELETE", "/v1/sessions/"+otherID, nil)
	e.do(c, "PUT", "/v1/me/password", map[string]string{"current_password": pw, "new_password": "a brand new passphrase"})
	e.do(c, "POST", "/v1/logout", nil)
	u, _ := e.svc.UserByEmail(context.Background(), "ada@example.com")
	e.svc.SetDisabled(context.Background(), u.ID, true, gatehouse.Client{IP: "cli"})

	events, _, err := e.svc.Audit(context.Background(), gatehouse.AuditQuery{UserID: u.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(events) - 1; i >= 0; i-- {
		got = append(got, events[i].Type)
	}
	want := []string{"user.created", "login.succeeded", "login.failed", "login.succeeded", "session.revoked", "password.changed", "logout", "user.disabled"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("audit = %v, want %v", got, want)
	}
	if events[len(events)-1].IP != "127.0.0.1" {
		t.Errorf("audit ip = %q, want 127.0.0.1", events[len(events)-1].IP)
	}

	logs := e.logs.String()
	if !strings.Contains(logs, "path=/v1/login") || !strings.Contains(logs, "status=401") {
		t.Errorf("no request lines in the log:\n%s", logs)
	}
	for _, typ := range want {
		if !strings.Contains(logs, "msg=audit type="+typ) {
			t.Errorf("the audit event %s is not in the log", typ)
		}
	}
	for _, s := range []string{pw, "a brand new passphrase", "wrong password!", secret, "argon2id"} {
		if strings.Contains(logs, s) {
			t.Errorf("the log contains a secret %q", s)
		}
	}
}

// A burst of logins beyond the hashing bound queues briefly, then gets 503
// with Retry-After instead of exhausting memory.
func TestHashingBoundAnswers503(t *testing.T) {
	slow := password.Params{Memory: 32 << 10, Time: 4, Threads: 1, SaltLen: 16, KeyLen: 32}
	e := newEnv(t, options{svc: gatehouse.Config{Hasher: password.NewHasher(slow, 1, 10*time.Millisecond)}})
	e.register("ada@example.com")
	const n = 6
	results := make(chan response, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- e.do(e.client(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": pw, "mode": "session"})
		}()
	}
	wg.Wait()
	close(results)
	var ok, busy int
	for r := range results {
		switch r.status {
		case 200:
			ok++
		case 503:
			busy++
			wantProblem(t, r, 503, "unavailable")
			if r.header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		default:
			t.Errorf("unexpected %d %s", r.status, r.body)
		}
	}
	if ok == 0 || busy == 0 {
		t.Errorf("%d succeeded and %d were refused as busy; want some of each", ok, busy)
	}
}

// Successful reads are logged at debug level, so that the check a proxy
// makes on every request writes no log line by default; refusals and
// changes are logged at info.
func TestRequestLogLevels(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	c := e.client()
	e.login(c, "ada@example.com")
	e.do(c, "GET", "/v1/verify", nil)
	e.do(e.client(), "GET", "/v1/verify", nil)

	logs := e.logs.String()
	for _, want := range []string{
		"level=DEBUG msg=request method=GET path=/v1/verify status=200",
		"level=INFO msg=request method=GET path=/v1/verify status=401",
		"level=INFO msg=request method=POST path=/v1/login status=200",
		"level=INFO msg=request method=POST path=/v1/users status=201",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log has no line %q:\n%s", want, logs)
		}
	}
}
