package pages_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/smtp"
	"github.com/gatehouse/gatehouse/smtp/smtptest"
)

// mailEnv is an env with email on, sending to a real SMTP server.
type mailEnv struct {
	*env
	smtp *smtptest.Server
}

func newMailEnv(t *testing.T) *mailEnv {
	t.Helper()
	srv := smtptest.Start(t, smtptest.Options{})
	r, err := smtp.NewRenderer("Gatehouse", "")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := smtp.New(smtp.Config{URL: "smtp://" + srv.Addr, From: "no-reply@example.test", RootCAs: srv.Roots}, r)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, options{svc: gatehouse.Config{
		PublicURL: "https://auth.example.test",
		Email:     &gatehouse.EmailConfig{Mailer: sender, Secret: []byte("0123456789abcdef0123456789abcdef")},
	}})
	return &mailEnv{env: e, smtp: srv}
}

var linkToken = regexp.MustCompile(`(/auth/[a-z-]+)\?token=([A-Za-z0-9_-]{43})`)

// nextLink delivers the outbox and returns the path and token of the link
// in the nth message (from 1).
func (e *mailEnv) nextLink(n int) (string, string) {
	e.t.Helper()
	if _, err := e.svc.DeliverMail(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	m := e.smtp.Wait(e.t, n, 5*time.Second)[n-1]
	got := linkToken.FindStringSubmatch(m.Text)
	if got == nil {
		e.t.Fatalf("no link in message %d: %q", n, m.Text)
	}
	return got[1], got[2]
}

func TestRecoveryPages(t *testing.T) {
	e := newMailEnv(t)
	e.register("ada@example.com")
	old := e.client()
	wantRedirect(t, e.signIn(old, "ada@example.com", pw), "/auth/account")

	has(t, e.get(e.client(), "/auth/signin"), `href="/auth/recover"`)
	form := e.get(e.client(), "/auth/recover")
	want(t, form, http.StatusOK)
	has(t, form, `name="email"`, `autocomplete="username"`)

	// The same answer for an account and for no account.
	unknown := e.post(e.client(), "/auth/recover", url.Values{"email": {"nobody@example.com"}})
	known := e.post(e.client(), "/auth/recover", url.Values{"email": {"ada@example.com"}})
	want(t, known, http.StatusAccepted)
	want(t, unknown, http.StatusAccepted)
	if strings.ReplaceAll(unknown.body, "nobody@example.com", "X") != strings.ReplaceAll(known.body, "ada@example.com", "X") {
		t.Errorf("the pages differ for an account and for none:\n%s\n%s", known.body, unknown.body)
	}
	path, tok := e.nextLink(1)
	if path != gatehouse.ResetPath {
		t.Fatalf("link to %s", path)
	}

	// Opening the link, as a mail scanner does, twice and by HEAD, spends nothing.
	for _, method := range []string{"GET", "HEAD", "GET"} {
		r := e.send(e.client(), method, path+"?token="+tok, nil)
		want(t, r, http.StatusOK)
		if method == "GET" {
			has(t, r, `name="token" value="`+tok+`"`, `autocomplete="new-password"`, "ada@example.com")
		}
	}
	if h := e.get(e.client(), path+"?token="+tok).header; h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("the link's page may leak its token: Referrer-Policy %q, Cache-Control %q", h.Get("Referrer-Policy"), h.Get("Cache-Control"))
	}

	// A cross-site POST changes nothing; a weak password keeps the link.
	want(t, e.post(e.client(), "/auth/reset", url.Values{"token": {tok}, "new_password": {"a fine new passphrase"}}, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	weak := e.post(e.client(), "/auth/reset", url.Values{"token": {tok}, "new_password": {"short"}})
	want(t, weak, http.StatusBadRequest)
	has(t, weak, `aria-invalid="true"`, `name="token" value="`+tok+`"`)

	wantRedirect(t, e.post(e.client(), "/auth/reset", url.Values{"token": {tok}, "new_password": {"a fine new passphrase"}}), "/auth/signin?notice=password_reset")
	has(t, e.get(e.client(), "/auth/signin?notice=password_reset"), "Sign in with the new password")

	// Spent: the link's page says so; the old login is gone; the new password works.
	spent := e.get(e.client(), path+"?token="+tok)
	want(t, spent, http.StatusBadRequest)
	has(t, spent, "no longer works", `href="/auth/recover"`)
	wantRedirect(t, e.get(old, "/auth/account"), "/auth/signin?rd=%2Fauth%2Faccount")
	wantRedirect(t, e.signIn(e.client(), "ada@example.com", "a fine new passphrase"), "/auth/account")
}

func TestLinkPagesRefuseBadTokens(t *testing.T) {
	e := newMailEnv(t)
	for _, path := range []string{"/auth/reset", "/auth/verify-email"} {
		for _, q := range []string{"", "?token=", "?token=short", "?token=" + strings.Repeat("A", 43), "?token=" + strings.Repeat("A", 5000)} {
			r := e.get(e.client(), path+q)
			want(t, r, http.StatusBadRequest)
			has(t, r, "no longer works")
			if strings.Contains(r.body, `name="token"`) {
				t.Errorf("%s%s shows a form", path, q)
			}
		}
	}
	r := e.post(e.client(), "/auth/reset", url.Values{"token": {strings.Repeat("A", 43)}, "new_password": {"a fine new passphrase"}})
	want(t, r, http.StatusBadRequest)
	has(t, r, "no longer works")
}

func TestRecoveryPageWithoutEmail(t *testing.T) {
	e := newEnv(t, options{})
	r := e.get(e.client(), "/auth/recover")
	want(t, r, http.StatusForbidden)
	has(t, r, "Email is not set up here")
	if strings.Contains(e.get(e.client(), "/auth/signin").body, "/auth/recover") {
		t.Error("the sign-in page offers recovery without email")
	}
	want(t, e.post(e.client(), "/auth/recover", url.Values{"email": {"ada@example.com"}}), http.StatusForbidden)
}

func TestVerifyAndChangeEmailPages(t *testing.T) {
	e := newMailEnv(t)
	c := e.client()
	wantRedirect(t, e.post(c, "/auth/signup", url.Values{"email": {"ada@example.com"}, "password": {pw}}), "/auth/account")
	has(t, e.get(c, "/auth/account"), "Not verified", `action="/auth/account/email/verification"`)

	path, tok := e.nextLink(1)
	if path != gatehouse.VerifyPath {
		t.Fatalf("link to %s", path)
	}
	page := e.get(e.client(), path+"?token="+tok)
	want(t, page, http.StatusOK)
	has(t, page, "ada@example.com", `name="token" value="`+tok+`"`)
	wantRedirect(t, e.post(c, "/auth/verify-email", url.Values{"token": {tok}}), "/auth/account?notice=email_verified")
	account := e.get(c, "/auth/account?notice=email_verified")
	has(t, account, "Verified", "Your email address is confirmed.")
	if strings.Contains(account.body, `action="/auth/account/email/verification"`) {
		t.Error("the account page offers to confirm a confirmed address")
	}

	// Change of address: the password first, then the link.
	wrong := e.post(c, "/auth/account/email", url.Values{"new_email": {"countess@example.com"}, "email_password": {"not the password"}})
	want(t, wrong, http.StatusUnauthorized)
	has(t, wrong, `<details open>`, `id="email_password" name="email_password" type="password" autocomplete="current-password" required autofocus aria-invalid="true"`)
	wantRedirect(t, e.post(c, "/auth/account/email", url.Values{"new_email": {"countess@example.com"}, "email_password": {pw}}), "/auth/account?notice=email_change_sent")
	if _, err := e.svc.DeliverMail(context.Background()); err != nil {
		t.Fatal(err)
	}
	var change string
	for _, m := range e.smtp.Wait(t, 3, 5*time.Second)[1:] {
		if m.To[0] == "countess@example.com" {
			change = linkToken.FindStringSubmatch(m.Text)[2]
		}
	}
	has(t, e.get(c, "/auth/account"), "ada@example.com")
	wantRedirect(t, e.post(e.client(), "/auth/verify-email", url.Values{"token": {change}}), "/auth/signin?notice=email_verified")
	has(t, e.get(c, "/auth/account"), "countess@example.com")
}

func TestAdminSendsAResetLink(t *testing.T) {
	e := newMailEnv(t)
	root := e.create("root@example.com", gatehouse.RoleAdmin)
	ada := e.create("ada@example.com", gatehouse.RoleCustomer)
	admin, customer := e.client(), e.client()
	wantRedirect(t, e.signIn(admin, "root@example.com", pw), "/auth/account")
	wantRedirect(t, e.signIn(customer, "ada@example.com", pw), "/auth/account")

	has(t, e.get(admin, "/auth/admin/users/"+ada.ID), `action="/auth/admin/users/`+ada.ID+`/recovery"`)
	want(t, e.post(customer, "/auth/admin/users/"+ada.ID+"/recovery", url.Values{}), http.StatusForbidden)
	want(t, e.post(admin, "/auth/admin/users/"+ada.ID+"/recovery", url.Values{}, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	if n, _, _ := e.svc.Outbox(context.Background()); n != 0 {
		t.Fatalf("%d messages queued by refused requests", n)
	}
	wantRedirect(t, e.post(admin, "/auth/admin/users/"+ada.ID+"/recovery", url.Values{}), "/auth/admin/users/"+ada.ID+"?notice=reset_sent")
	if path, _ := e.nextLink(1); path != gatehouse.ResetPath {
		t.Errorf("link to %s", path)
	}
	if m := e.smtp.Messages()[0]; m.To[0] != "ada@example.com" {
		t.Errorf("sent to %v", m.To)
	}
	found := false
	for _, ev := range e.events(ada.ID) {
		found = found || ev.Type == gatehouse.EventRecoveryRequested && strings.Contains(ev.Detail, "by="+root.ID)
	}
	if !found {
		t.Error("no recovery.requested event naming the admin")
	}
}
