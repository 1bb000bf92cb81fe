package e2e_test

import (
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/smtp/smtptest"
)

// mailServer starts a real SMTP server (STARTTLS with a certificate made
// for the test, AUTH) and returns it with the flags that send through it.
// The binary trusts the certificate through SSL_CERT_FILE.
func mailServer(t *testing.T) (*smtptest.Server, []string) {
	t.Helper()
	srv := smtptest.Start(t, smtptest.Options{Username: "gatehouse", Password: "smtp pass"})
	t.Setenv("SSL_CERT_FILE", srv.CertFile)
	return srv, []string{"--smtp", "smtp://gatehouse:smtp%20pass@" + srv.Addr, "--mail-from", "Gatehouse <no-reply@example.test>"}
}

var mailLink = regexp.MustCompile(`(/auth/[a-z-]+)\?token=([A-Za-z0-9_-]{43})`)

// linkIn returns the path and token of the link in a message.
func linkIn(t *testing.T, m smtptest.Message) (string, string) {
	t.Helper()
	got := mailLink.FindStringSubmatch(m.Text)
	if got == nil || !strings.Contains(m.HTML, got[0]) {
		t.Fatalf("no link in both parts of %q", m.Text)
	}
	return got[1], got[2]
}

// messageTo waits for a message to an address after the first skip
// messages, and returns the first.
func messageTo(t *testing.T, srv *smtptest.Server, skip int, to string) smtptest.Message {
	t.Helper()
	var found *smtptest.Message
	eventually(t, 30*time.Second, "a message to "+to, func() bool {
		all := srv.Messages()
		for i := skip; i < len(all) && found == nil; i++ {
			if all[i].To[0] == to {
				found = &all[i]
			}
		}
		return found != nil
	})
	return *found
}

// TestEmailRecovery goes through recovery with the binary and a real mail
// server: the link's page opened twice (as a mail scanner does) spends
// nothing; confirming sets the password and ends every login of both
// modes; the link then works no more.
func TestEmailRecovery(t *testing.T) {
	srv, flags := mailServer(t)
	s := start(t, "", flags...)
	created := s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password})
	s.want(created, 201, "")
	if created.body["email_verified"] != false {
		t.Errorf("a new user: email_verified = %v", created.body["email_verified"])
	}
	if m := messageTo(t, srv, 0, "ada@example.com"); !m.TLS || m.User != "gatehouse" {
		t.Errorf("the verification message went without STARTTLS or AUTH: TLS %v user %q", m.TLS, m.User)
	}
	cookie := newClient()
	s.want(s.call(cookie, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}), 200, "")
	tokens := s.call(newClient(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "token"})
	s.want(tokens, 200, "")

	known := s.call(newClient(), "POST", "/v1/recovery", map[string]string{"email": "ada@example.com"})
	unknown := s.call(newClient(), "POST", "/v1/recovery", map[string]string{"email": "nobody@example.com"})
	s.want(known, 202, "")
	if string(known.raw) != string(unknown.raw) || unknown.status != 202 {
		t.Errorf("recovery answers differ: %d %s and %d %s", known.status, known.raw, unknown.status, unknown.raw)
	}
	path, tok := linkIn(t, messageTo(t, srv, 1, "ada@example.com"))
	if n := len(srv.Messages()); n != 2 {
		t.Errorf("%d messages, want 2 (none for the unknown address)", n)
	}
	for range 2 {
		r := s.callOutside(newClient(), "GET", path+"?token="+tok, nil)
		if r.status != 200 || !strings.Contains(string(r.raw), `value="`+tok+`"`) {
			t.Fatalf("the link's page: %d\n%s", r.status, r.raw)
		}
	}
	s.want(s.call(newClient(), "POST", "/v1/recovery/confirm", map[string]string{"token": tok, "new_password": "short"}), 400, "weak_password")
	s.want(s.call(newClient(), "POST", "/v1/recovery/confirm", map[string]string{"token": tok, "new_password": "a brand new passphrase"}), 204, "")

	s.want(s.call(cookie, "GET", "/v1/me", nil), 401, "")
	s.want(s.call(newClient(), "POST", "/v1/token/refresh", map[string]any{"refresh_token": tokens.body["refresh_token"]}), 401, "")
	s.want(s.call(newClient(), "GET", "/v1/me", nil, "Authorization", "Bearer "+tokens.body["access_token"].(string)), 401, "")
	s.want(s.call(newClient(), "POST", "/v1/recovery/confirm", map[string]string{"token": tok, "new_password": "another new passphrase"}), 400, "invalid_token")
	s.want(s.call(newClient(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}), 401, "invalid_credentials")
	me := newClient()
	s.want(s.call(me, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": "a brand new passphrase", "mode": "session"}), 200, "")
	if r := s.call(me, "GET", "/v1/me", nil); r.body["user"].(map[string]any)["email_verified"] != true {
		t.Errorf("after recovery: %s", r.raw)
	}
	notice := messageTo(t, srv, 2, "ada@example.com")
	if !strings.Contains(notice.Subject, "password was changed") {
		t.Errorf("no notice of the change: %q", notice.Subject)
	}

	// Bad input changes nothing and reveals nothing.
	for _, tc := range []struct {
		path string
		body map[string]string
		code string
	}{
		{"/v1/recovery", map[string]string{"email": "not an address"}, "invalid_email"},
		{"/v1/recovery", map[string]string{"email": strings.Repeat("a", 300) + "@example.com"}, "invalid_email"},
		{"/v1/recovery/confirm", map[string]string{"token": tok[:40], "new_password": "a brand new passphrase"}, "invalid_token"},
		{"/v1/recovery/confirm", map[string]string{"token": strings.Repeat(tok, 100), "new_password": "a brand new passphrase"}, "invalid_token"},
		{"/v1/recovery/confirm", map[string]string{"token": tok}, "invalid_request"},
		{"/v1/email/verify", map[string]string{"token": "AAAA"}, "invalid_token"},
	} {
		s.want(s.call(newClient(), "POST", tc.path, tc.body), 400, tc.code)
	}
}

// TestEmailSurvivesAnSMTPOutage stops the mail server during a recovery
// request: the request still succeeds, and the message arrives once the
// server is back.
func TestEmailSurvivesAnSMTPOutage(t *testing.T) {
	srv, flags := mailServer(t)
	s := start(t, "", flags...)
	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}), 201, "")
	messageTo(t, srv, 0, "ada@example.com")
	srv.Stop()
	began := time.Now()
	s.want(s.call(newClient(), "POST", "/v1/recovery", map[string]string{"email": "ada@example.com"}), 202, "")
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("the request waited %v for the mail server", took)
	}
	time.Sleep(time.Second) // the first attempt fails
	srv.Restart(t)
	path, _ := linkIn(t, messageTo(t, srv, 1, "ada@example.com"))
	if path != "/auth/reset" {
		for _, m := range srv.Messages() {
			t.Logf("message to %s: %s", m.To, m.Subject)
		}
		t.Errorf("link to %s", path)
	}
}

// TestEmailVerifyAndChange verifies an address and changes it through the
// API, each by its link.
func TestEmailVerifyAndChange(t *testing.T) {
	srv, flags := mailServer(t)
	s := start(t, "", append(flags, "--require-verified-email")...)
	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}), 201, "")
	c := newClient()
	s.want(s.call(c, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}), 403, "email_unverified")
	_, tok := linkIn(t, messageTo(t, srv, 0, "ada@example.com"))
	v := s.call(newClient(), "POST", "/v1/email/verify", map[string]string{"token": tok})
	s.want(v, 200, "")
	if v.body["email_verified"] != true {
		t.Errorf("verified: %s", v.raw)
	}
	s.want(s.call(c, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}), 200, "")
	s.want(s.call(c, "POST", "/v1/email/verification", nil), 409, "already_verified")

	s.want(s.call(c, "PUT", "/v1/me/email", map[string]string{"email": "countess@example.com", "password": "wrong password!"}), 401, "invalid_credentials")
	s.want(s.call(c, "PUT", "/v1/me/email", map[string]string{"email": "countess@example.com", "password": password}), 202, "")
	_, change := linkIn(t, messageTo(t, srv, 1, "countess@example.com"))
	if n := messageTo(t, srv, 1, "ada@example.com"); !strings.Contains(n.Text, "countess@example.com") {
		t.Errorf("the old address was not told: %q", n.Text)
	}
	if r := s.call(c, "GET", "/v1/me", nil); r.body["user"].(map[string]any)["email"] != "ada@example.com" {
		t.Errorf("the address changed before it was confirmed: %s", r.raw)
	}
	s.want(s.call(newClient(), "POST", "/v1/email/verify", map[string]string{"token": change}), 200, "")
	if r := s.call(c, "GET", "/v1/me", nil); r.body["user"].(map[string]any)["email"] != "countess@example.com" {
		t.Errorf("after the change: %s", r.raw)
	}
}

// TestEmailOffAndTheOperatorsLink checks that without --smtp (and without
// --dev) the email endpoints answer 403 email_disabled, and that the
// command line still makes a recovery link that works.
func TestEmailOffAndTheOperatorsLink(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	addr := freeAddr(t)
	s := startArgs(t, db, addr, "serve", "--addr", addr, "--db", db)
	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}), 201, "")
	s.want(s.call(newClient(), "POST", "/v1/recovery", map[string]string{"email": "ada@example.com"}), 403, "email_disabled")

	out, errOut, code := cli(t, "", nil, "user", "recover", "ada@example.com", "--db", db, "--issuer", "https://auth.example.test")
	if code != 0 {
		t.Fatalf("user recover: %d %s", code, errOut)
	}
	got := mailLink.FindStringSubmatch(out)
	if got == nil || !strings.HasPrefix(strings.TrimSpace(out), "https://auth.example.test/auth/reset?token=") {
		t.Fatalf("user recover printed %q", out)
	}
	s.want(s.call(newClient(), "POST", "/v1/recovery/confirm", map[string]string{"token": got[2], "new_password": "a brand new passphrase"}), 204, "")
	if _, errOut, code := cli(t, "", nil, "user", "recover", "nobody@example.com", "--db", db, "--issuer", "https://auth.example.test"); code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("user recover of no one: %d %q, want one line and a failure", code, errOut)
	}
}

// TestEmailDevPrintsMessages checks that --dev without --smtp prints the
// messages to standard output, and never to the log.
func TestEmailDevPrintsMessages(t *testing.T) {
	s := start(t, "")
	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}), 201, "")
	s.want(s.call(newClient(), "POST", "/v1/recovery", map[string]string{"email": "ada@example.com"}), 202, "")
	var tok string
	eventually(t, 10*time.Second, "the message on standard output", func() bool {
		m := mailLink.FindAllStringSubmatch(s.out.String(), -1)
		if len(m) == 2 {
			tok = m[1][2]
		}
		return tok != ""
	})
	if strings.Contains(s.logs.String(), tok) {
		t.Error("the log holds a recovery token")
	}
	s.want(s.call(newClient(), "POST", "/v1/recovery/confirm", map[string]string{"token": tok, "new_password": "a brand new passphrase"}), 204, "")
	if r := s.call(newClient(), "GET", "/v1/me", nil); r.status != http.StatusUnauthorized {
		t.Errorf("GET /v1/me without a login: %d", r.status)
	}
}

// TestEmailAdminRecovery sends a user a recovery link from the admin API:
// only for users:admin, audited with the admin's id.
func TestEmailAdminRecovery(t *testing.T) {
	srv, flags := mailServer(t)
	s := start(t, "", flags...)
	created := s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password})
	s.want(created, 201, "")
	id := created.body["id"].(string)
	if _, errOut, code := cli(t, password+"\n", nil, "user", "add", "--db", s.db, "--email", "root@example.com", "--role", "admin", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %s", errOut)
	}
	admin, customer := newClient(), newClient()
	s.want(s.call(admin, "POST", "/v1/login", map[string]any{"email": "root@example.com", "password": password, "mode": "session"}), 200, "")
	s.want(s.call(customer, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}), 200, "")

	s.want(s.call(customer, "POST", "/v1/admin/users/"+id+"/recovery", nil), 403, "forbidden")
	s.want(s.call(admin, "POST", "/v1/admin/users/no-such-user/recovery", nil), 404, "not_found")
	s.want(s.call(admin, "POST", "/v1/admin/users/"+id+"/recovery", nil), 202, "")
	path, _ := linkIn(t, messageTo(t, srv, 1, "ada@example.com"))
	if path != "/auth/reset" {
		t.Errorf("link to %s", path)
	}
	events := s.call(admin, "GET", "/v1/admin/audit?type=recovery.requested", nil)
	s.want(events, 200, "")
	list := events.body["events"].([]any)
	if len(list) != 1 || !strings.Contains(list[0].(map[string]any)["detail"].(string), "by=") {
		t.Errorf("recovery.requested events: %s", events.raw)
	}
}
