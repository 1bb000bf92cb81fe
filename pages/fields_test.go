package pages_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/pages"
)

// input returns the <input> with id in the page.
func input(t *testing.T, r response, id string) string {
	t.Helper()
	tag := regexp.MustCompile(`<input id="` + id + `"[^>]*>`).FindString(r.body)
	if tag == "" {
		t.Fatalf("no input %q in\n%s", id, r.body)
	}
	return tag
}

// A refused form marks the field the error is about and puts the focus
// there, without script; the other fields are not marked.
func TestErrorMarksTheField(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	const marked = `autofocus aria-invalid="true" aria-describedby="form-error`
	check := func(t *testing.T, r response, invalid string, others ...string) {
		t.Helper()
		has(t, r, `id="form-error"`)
		if tag := input(t, r, invalid); !strings.Contains(tag, marked) {
			t.Errorf("the field in error is not marked: %s", tag)
		}
		for _, o := range others {
			if tag := input(t, r, o); strings.Contains(tag, "aria-invalid") || strings.Contains(tag, "autofocus") {
				t.Errorf("another field is marked: %s", tag)
			}
		}
	}
	c := e.client()
	t.Run("signin", func(t *testing.T) {
		check(t, e.signIn(c, "ada@example.com", "not the password at all"), "password", "email")
		check(t, e.signIn(c, "", "something"), "email", "password")
		check(t, e.signIn(c, "ada@example.com", ""), "password", "email")
		r := e.get(c, "/auth/signin")
		if tag := input(t, r, "email"); !strings.Contains(tag, "autofocus") || strings.Contains(tag, "aria-") {
			t.Errorf("a fresh sign-in form: %s", tag)
		}
	})
	t.Run("signup", func(t *testing.T) {
		check(t, e.post(c, "/auth/signup", url.Values{"email": {"ada@example.com"}, "password": {pw}}), "email", "password")
		check(t, e.post(c, "/auth/signup", url.Values{"email": {"not an email"}, "password": {pw}}), "email", "password")
		r := e.post(c, "/auth/signup", url.Values{"email": {"bob@example.com"}, "password": {"short"}})
		check(t, r, "password", "email")
		has(t, r, `aria-describedby="form-error password-hint"`)
	})
	t.Run("account", func(t *testing.T) {
		wantRedirect(t, e.signIn(c, "ada@example.com", pw), "/auth/account")
		r := e.post(c, "/auth/account/password", url.Values{"current_password": {"wrong password here"}, "new_password": {"a long enough new password"}})
		check(t, r, "current_password", "new_password")
		r = e.post(c, "/auth/account/password", url.Values{"current_password": {pw}, "new_password": {"short"}})
		check(t, r, "new_password", "current_password")
		has(t, r, `aria-describedby="form-error new-password-hint"`)
	})
}

// Page requests go through the same request log and metrics hook as the
// JSON API's, with the page's route; the log holds neither the cookie, the
// form nor the query.
func TestPagesLoggedAndCounted(t *testing.T) {
	type seen struct {
		route  string
		status int
	}
	var mu sync.Mutex
	var got []seen
	var logs bytes.Buffer
	var logMu sync.Mutex
	e := newEnv(t, options{pages: pages.Config{API: httpapi.Config{OnRequest: func(route string, status int, _ time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, seen{route, status})
	}}}, log: slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	e.register("ada@example.com")
	c := e.client()
	e.get(c, "/auth/signin?rd=%2Fauth%2Faccount%3Fsecret%3Dq")
	want(t, e.signIn(c, "ada@example.com", "not the password at all"), http.StatusUnauthorized)
	wantRedirect(t, e.signIn(c, "ada@example.com", pw), "/auth/account")
	e.get(c, "/auth/account")
	e.get(c, "/auth/nowhere")
	mu.Lock()
	defer mu.Unlock()
	for _, w := range []seen{{"GET /auth/signin", 200}, {"POST /auth/signin", 401}, {"POST /auth/signin", 303}, {"GET /auth/account", 200}, {"/auth/", 404}} {
		found := false
		for _, s := range got {
			found = found || s == w
		}
		if !found {
			t.Errorf("no request %v counted; got %v", w, got)
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	text := logs.String()
	if !strings.Contains(text, "path=/auth/account status=200") || !strings.Contains(text, "method=POST path=/auth/signin status=401") {
		t.Errorf("page requests not in the log:\n%s", text)
	}
	for _, secret := range []string{"secret=q", "not the password", pw, "gatehouse="} {
		if strings.Contains(text, secret) {
			t.Errorf("the log holds %q:\n%s", secret, text)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
