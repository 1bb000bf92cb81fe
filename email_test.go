package gatehouse_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/smtp"
	"github.com/gatehouse/gatehouse/smtp/smtptest"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/token"
)

// mailEnv is a Service with email on, over a SQLite file, sending to a
// real SMTP server on loopback, on a clock the test moves.
type mailEnv struct {
	svc   *gatehouse.Service
	st    *sqlite.Store
	smtp  *smtptest.Server
	mu    sync.Mutex
	clock time.Time
	weak  gatehouse.LoginResult // see enrolled
}

const (
	mailPW    = "correct horse battery staple"
	newMailPW = "a brand new passphrase for ada"
)

var client = gatehouse.Client{IP: "192.0.2.10", UserAgent: "test", Lang: "en"}

func newMailEnv(t testing.TB, email func(*gatehouse.EmailConfig)) *mailEnv {
	return newMailEnvLimits(t, email, gatehouse.Limits{})
}

func newMailEnvLimits(t testing.TB, email func(*gatehouse.EmailConfig), limits gatehouse.Limits, more ...func(*gatehouse.Config)) *mailEnv {
	t.Helper()
	e := &mailEnv{clock: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	e.smtp = smtptest.Start(t, smtptest.Options{Username: "gatehouse", Password: "smtp-pass"})
	r, err := smtp.NewRenderer("Gatehouse", "")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := smtp.New(smtp.Config{URL: "smtp://gatehouse:smtp-pass@" + e.smtp.Addr, From: "no-reply@example.test", RootCAs: e.smtp.Roots, Timeout: 2 * time.Second}, r)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("0123456789abcdef0123456789abcdef")
	cfg := &gatehouse.EmailConfig{Mailer: sender, Secret: secret}
	if email != nil {
		email(cfg)
	}
	svcCfg := gatehouse.Config{
		Now:    e.now,
		Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0, 0),
		Tokens: &gatehouse.TokenConfig{Issuer: "https://auth.example.test", Alg: token.EdDSA, Secret: secret},
		Email:  cfg, PublicURL: "https://auth.example.test/", Limits: limits, Secret: secret,
	}
	for _, f := range more {
		f(&svcCfg)
	}
	e.svc, err = gatehouse.NewService(st, svcCfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *mailEnv) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.clock
}

func (e *mailEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.clock = e.clock.Add(d)
	e.mu.Unlock()
}

func (e *mailEnv) register(t testing.TB, email string) gatehouse.User {
	t.Helper()
	u, err := e.svc.CreateUser(context.Background(), email, mailPW, []string{gatehouse.RoleCustomer}, client)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *mailEnv) login(t *testing.T, email, pw string, mode gatehouse.Mode) gatehouse.LoginResult {
	t.Helper()
	res, err := e.svc.Login(context.Background(), gatehouse.LoginRequest{Email: email, Password: pw, Mode: mode, Client: client})
	if err != nil {
		t.Fatalf("Login(%s, %s) = %v", email, mode, err)
	}
	return res
}

// deliver sends what is due and returns the messages the server has, once
// it has want of them.
func (e *mailEnv) deliver(t *testing.T, want int) []smtptest.Message {
	t.Helper()
	if _, err := e.svc.DeliverMail(context.Background()); err != nil {
		t.Fatalf("DeliverMail = %v", err)
	}
	return e.smtp.Wait(t, want, 5*time.Second)
}

func (e *mailEnv) queued(t *testing.T) int {
	t.Helper()
	n, _, err := e.svc.Outbox(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var tokenInLink = regexp.MustCompile(`https://auth\.example\.test(/auth/[a-z-]+)\?token=([A-Za-z0-9_-]{43})`)

// linkOf returns the path and token of the link in a message, checking
// that both parts carry it.
func linkOf(t *testing.T, m smtptest.Message) (path, tok string) {
	t.Helper()
	got := tokenInLink.FindStringSubmatch(m.Text)
	if got == nil {
		t.Fatalf("no link in %q", m.Text)
	}
	if !strings.Contains(m.HTML, got[0]) {
		t.Errorf("the HTML part lacks the link %s", got[0])
	}
	return got[1], got[2]
}

func code(err error) gatehouse.Code { return gatehouse.ErrorCode(err) }

func TestRecovery(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	ada := e.register(t, "ada@example.com")
	session := e.login(t, "ada@example.com", mailPW, gatehouse.ModeSession)
	tokens := e.login(t, "ada@example.com", mailPW, gatehouse.ModeToken)

	if err := e.svc.RequestRecovery(ctx, " Ada@Example.com ", client); err != nil {
		t.Fatalf("RequestRecovery = %v", err)
	}
	msgs := e.deliver(t, 1)
	if msgs[0].To[0] != "ada@example.com" || !strings.Contains(msgs[0].Subject, "Reset") {
		t.Fatalf("message %q to %v", msgs[0].Subject, msgs[0].To)
	}
	path, tok := linkOf(t, msgs[0])
	if path != gatehouse.ResetPath {
		t.Errorf("link path %q, want %q", path, gatehouse.ResetPath)
	}
	if e.queued(t) != 0 {
		t.Error("a sent message stayed in the outbox")
	}

	// A mail scanner opening the link twice spends nothing.
	for range 2 {
		if info, err := e.svc.CheckEmailToken(ctx, tok, gatehouse.TokenRecovery); err != nil || info.Email != "ada@example.com" {
			t.Fatalf("CheckEmailToken = %+v, %v", info, err)
		}
	}
	// A weak password is refused and the link still works.
	if err := e.svc.ConfirmRecovery(ctx, tok, "short", client); code(err) != gatehouse.CodeWeakPassword {
		t.Fatalf("ConfirmRecovery(weak) = %v, want weak_password", err)
	}
	if err := e.svc.ConfirmRecovery(ctx, tok, newMailPW, client); err != nil {
		t.Fatalf("ConfirmRecovery = %v", err)
	}

	// Every login of both modes is gone; no login was made.
	if _, err := e.svc.AuthenticateSession(ctx, session.Secret); code(err) != gatehouse.CodeUnauthenticated {
		t.Errorf("the old session after recovery: %v, want unauthenticated", err)
	}
	if _, err := e.svc.AuthenticateToken(ctx, tokens.Tokens.AccessToken); code(err) != gatehouse.CodeInvalidToken {
		t.Errorf("the old access token after recovery: %v, want invalid_token", err)
	}
	if _, err := e.svc.Refresh(ctx, tokens.Tokens.RefreshToken, client); code(err) != gatehouse.CodeInvalidToken {
		t.Errorf("the old refresh token after recovery: %v, want invalid_token", err)
	}
	if logins, _ := e.svc.UserSessions(ctx, ada.ID); len(logins) != 0 {
		t.Errorf("%d logins after recovery, want 0", len(logins))
	}
	// The link is spent; the new password works, the old does not.
	if err := e.svc.ConfirmRecovery(ctx, tok, "yet another passphrase here", client); code(err) != gatehouse.CodeInvalidToken {
		t.Errorf("ConfirmRecovery(spent) = %v, want invalid_token", err)
	}
	if _, err := e.svc.Login(ctx, gatehouse.LoginRequest{Email: "ada@example.com", Password: mailPW, Mode: gatehouse.ModeSession, Client: client}); code(err) != gatehouse.CodeInvalidCredentials {
		t.Errorf("the old password: %v, want invalid_credentials", err)
	}
	res := e.login(t, "ada@example.com", newMailPW, gatehouse.ModeSession)
	if !res.User.EmailVerified {
		t.Error("recovery did not mark the address verified")
	}
	// A notice says the password changed.
	notice := e.deliver(t, 2)[1]
	if !strings.Contains(notice.Subject, "password was changed") || tokenInLink.MatchString(notice.Text) {
		t.Errorf("notice %q:\n%s", notice.Subject, notice.Text)
	}
	types := auditTypes(t, e.svc, ada.ID)
	for _, want := range []string{gatehouse.EventRecoveryRequested, gatehouse.EventPasswordReset, gatehouse.EventEmailSent} {
		if !strings.Contains(types, want) {
			t.Errorf("audit %s lacks %s", types, want)
		}
	}
}

func auditTypes(t *testing.T, svc *gatehouse.Service, userID string) string {
	t.Helper()
	events, _, err := svc.Audit(context.Background(), gatehouse.AuditQuery{UserID: userID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range events {
		types = append(types, ev.Type)
	}
	return strings.Join(types, " ")
}

func TestRecoveryRevealsNothing(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	e.register(t, "ada@example.com")
	off := e.register(t, "off@example.com")
	if _, err := e.svc.SetDisabled(ctx, off.ID, true, client); err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"nobody@example.com", "off@example.com"} {
		if err := e.svc.RequestRecovery(ctx, email, client); err != nil {
			t.Errorf("RequestRecovery(%s) = %v, want nil as for an account", email, err)
		}
	}
	if n := e.queued(t); n != 0 {
		t.Errorf("%d messages queued for an unknown and a disabled account", n)
	}
	// Three per account per hour; the fourth is dropped, still answered alike.
	for i := range 4 {
		if err := e.svc.RequestRecovery(ctx, "ada@example.com", gatehouse.Client{IP: "192.0.2.20"}); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if n := e.queued(t); n != 3 {
		t.Errorf("%d messages queued, want 3", n)
	}
	msgs := e.deliver(t, 3)
	// Only the newest link works.
	_, first := linkOf(t, msgs[0])
	_, newest := linkOf(t, msgs[2])
	if _, err := e.svc.CheckEmailToken(ctx, first, gatehouse.TokenRecovery); code(err) != gatehouse.CodeInvalidToken {
		t.Errorf("a superseded link: %v, want invalid_token", err)
	}
	if _, err := e.svc.CheckEmailToken(ctx, newest, gatehouse.TokenRecovery); err != nil {
		t.Errorf("the newest link: %v", err)
	}
	// An address is refused after 20 requests an hour.
	var err error
	for i := 0; i < 21 && err == nil; i++ {
		err = e.svc.RequestRecovery(ctx, "nobody@example.com", gatehouse.Client{IP: "198.51.100.1"})
	}
	if code(err) != gatehouse.CodeTooManyAttempts {
		t.Errorf("the 21st request from one address: %v, want too_many_attempts", err)
	}
	for _, bad := range []string{"", "not an email", strings.Repeat("a", 250) + "@example.com", "a\x00@example.com"} {
		if err := e.svc.RequestRecovery(ctx, bad, client); code(err) != gatehouse.CodeInvalidEmail {
			t.Errorf("RequestRecovery(%q) = %v, want invalid_email", bad, err)
		}
	}
}

func TestRecoveryTokenRefusals(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	ada := e.register(t, "ada@example.com")
	if err := e.svc.RequestRecovery(ctx, "ada@example.com", client); err != nil {
		t.Fatal(err)
	}
	_, tok := linkOf(t, e.deliver(t, 1)[0])
	before, _ := e.svc.User(ctx, ada.ID)
	for name, bad := range map[string]string{
		"empty":          "",
		"truncated":      tok[:42],
		"over-long":      tok + "A",
		"not base64":     strings.Repeat("*", 43),
		"unknown":        strings.Repeat("A", 43),
		"with a newline": tok[:42] + "\n",
	} {
		if err := e.svc.ConfirmRecovery(ctx, bad, newMailPW, client); code(err) != gatehouse.CodeInvalidToken {
			t.Errorf("%s token: %v, want invalid_token", name, err)
		}
	}
	// A verification token is not a recovery token.
	if err := e.svc.RequestVerification(ctx, gatehouse.Principal{User: ada}, client); err != nil {
		t.Fatal(err)
	}
	_, verify := linkOf(t, e.deliver(t, 2)[1])
	if err := e.svc.ConfirmRecovery(ctx, verify, newMailPW, client); code(err) != gatehouse.CodeInvalidToken {
		t.Errorf("a verification token for recovery: %v, want invalid_token", err)
	}
	// Expired after 30 minutes.
	e.advance(30 * time.Minute)
	if err := e.svc.ConfirmRecovery(ctx, tok, newMailPW, client); code(err) != gatehouse.CodeInvalidToken {
		t.Errorf("an expired token: %v, want invalid_token", err)
	}
	if after, _ := e.svc.User(ctx, ada.ID); after.PasswordHash != before.PasswordHash {
		t.Error("a refused token changed the password")
	}
}

func TestVerificationAndRequiredVerification(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, func(c *gatehouse.EmailConfig) { c.RequireVerified = true })
	ada, err := e.svc.Register(ctx, "ada@example.com", mailPW, client)
	if err != nil {
		t.Fatal(err)
	}
	msg := e.deliver(t, 1)[0]
	path, tok := linkOf(t, msg)
	if path != gatehouse.VerifyPath || !strings.Contains(msg.Text, "24 hours") {
		t.Errorf("verification link %s, text %q", path, msg.Text)
	}
	_, err = e.svc.Login(ctx, gatehouse.LoginRequest{Email: "ada@example.com", Password: mailPW, Mode: gatehouse.ModeSession, Client: client})
	if code(err) != gatehouse.CodeEmailUnverified {
		t.Fatalf("Login before verifying = %v, want email_unverified", err)
	}
	// The wrong password is still the wrong password.
	_, err = e.svc.Login(ctx, gatehouse.LoginRequest{Email: "ada@example.com", Password: "wrong password here", Mode: gatehouse.ModeSession, Client: client})
	if code(err) != gatehouse.CodeInvalidCredentials {
		t.Errorf("a wrong password before verifying = %v, want invalid_credentials", err)
	}
	u, err := e.svc.VerifyEmail(ctx, tok, client)
	if err != nil || !u.EmailVerified {
		t.Fatalf("VerifyEmail = %+v, %v", u, err)
	}
	res := e.login(t, "ada@example.com", mailPW, gatehouse.ModeToken)
	p, err := e.svc.AuthenticateToken(ctx, res.Tokens.AccessToken)
	if err != nil || !p.User.EmailVerified {
		t.Errorf("the access token's principal %+v, %v: want email_verified", p.User, err)
	}
	if _, err := e.svc.VerifyEmail(ctx, tok, client); code(err) != gatehouse.CodeInvalidToken {
		t.Errorf("VerifyEmail again = %v, want invalid_token", err)
	}
	if err := e.svc.RequestVerification(ctx, gatehouse.Principal{User: ada}, client); code(err) != gatehouse.CodeAlreadyVerified {
		t.Errorf("RequestVerification when verified = %v, want already_verified", err)
	}
}

func TestChangeEmail(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	ada := e.register(t, "ada@example.com")
	e.register(t, "bob@example.com")
	session := e.login(t, "ada@example.com", mailPW, gatehouse.ModeSession)
	p, err := e.svc.AuthenticateSession(ctx, session.Secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		email, pw string
		want      gatehouse.Code
	}{
		{"countess@example.com", "wrong password here", gatehouse.CodeInvalidCredentials},
		{"bob@example.com", mailPW, gatehouse.CodeEmailTaken},
		{"not an email", mailPW, gatehouse.CodeInvalidEmail},
		{"ada@example.com", mailPW, gatehouse.CodeInvalidEmail},
	} {
		if err := e.svc.ChangeEmail(ctx, p, tc.email, tc.pw, client); code(err) != tc.want {
			t.Errorf("ChangeEmail(%s, %s) = %v, want %s", tc.email, tc.pw, err, tc.want)
		}
	}
	if err := e.svc.ChangeEmail(ctx, p, "Countess@Example.com", mailPW, client); err != nil {
		t.Fatalf("ChangeEmail = %v", err)
	}
	msgs := e.deliver(t, 2)
	var link, notice smtptest.Message
	for _, m := range msgs {
		switch m.To[0] {
		case "countess@example.com":
			link = m
		case "ada@example.com":
			notice = m
		}
	}
	if !strings.Contains(notice.Text, "countess@example.com") || tokenInLink.MatchString(notice.Text) {
		t.Errorf("the notice to the old address: %q", notice.Text)
	}
	_, tok := linkOf(t, link)
	if u, _ := e.svc.User(ctx, ada.ID); u.Email != "ada@example.com" {
		t.Fatalf("the address changed before it was confirmed: %s", u.Email)
	}
	u, err := e.svc.VerifyEmail(ctx, tok, client)
	if err != nil || u.Email != "countess@example.com" || !u.EmailVerified {
		t.Fatalf("VerifyEmail = %+v, %v", u, err)
	}
	// The session now names the new address; the new one signs in.
	if p, err := e.svc.AuthenticateSession(ctx, session.Secret); err != nil || p.User.Email != "countess@example.com" {
		t.Errorf("the session after the change: %+v, %v", p.User, err)
	}
	e.login(t, "countess@example.com", mailPW, gatehouse.ModeSession)
	if !strings.Contains(auditTypes(t, e.svc, ada.ID), gatehouse.EventEmailChanged) {
		t.Error("no email.changed event")
	}
}

func TestChangeEmailTakenMeanwhile(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	ada := e.register(t, "ada@example.com")
	if err := e.svc.ChangeEmail(ctx, gatehouse.Principal{User: ada}, "countess@example.com", mailPW, client); err != nil {
		t.Fatal(err)
	}
	var tok string
	for _, m := range e.deliver(t, 2) {
		if m.To[0] == "countess@example.com" {
			_, tok = linkOf(t, m)
		}
	}
	e.register(t, "countess@example.com")
	if _, err := e.svc.VerifyEmail(ctx, tok, client); code(err) != gatehouse.CodeEmailTaken {
		t.Fatalf("VerifyEmail of a taken address = %v, want email_taken", err)
	}
	if u, _ := e.svc.User(ctx, ada.ID); u.Email != "ada@example.com" {
		t.Errorf("the address is %s", u.Email)
	}
	if _, err := e.svc.CheckEmailToken(ctx, tok, gatehouse.TokenEmailChange); err != nil {
		t.Errorf("the link after a refused change: %v, want it still live", err)
	}
}

func TestEmailDisabled(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := gatehouse.NewService(st, gatehouse.Config{PublicURL: "https://auth.example.test", Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, "ada@example.com", mailPW, nil, client)
	if err != nil {
		t.Fatal(err)
	}
	p := gatehouse.Principal{User: u}
	for name, err := range map[string]error{
		"RequestRecovery":     svc.RequestRecovery(ctx, "ada@example.com", client),
		"RequestVerification": svc.RequestVerification(ctx, p, client),
		"ChangeEmail":         svc.ChangeEmail(ctx, p, "new@example.com", mailPW, client),
		"SendRecovery":        svc.SendRecovery(ctx, u.ID, client),
	} {
		if code(err) != gatehouse.CodeEmailDisabled {
			t.Errorf("%s = %v, want email_disabled", name, err)
		}
	}
	// The operator's link works without email.
	link, err := svc.RecoveryLink(ctx, "ada@example.com", client)
	if err != nil || !strings.Contains(link, gatehouse.ResetPath+"?token=") {
		t.Fatalf("RecoveryLink = %q, %v", link, err)
	}
	if err := svc.ConfirmRecovery(ctx, link[strings.Index(link, "token=")+6:], newMailPW, client); err != nil {
		t.Errorf("ConfirmRecovery(the operator's link) = %v", err)
	}
}

func TestOutboxSurvivesAnSMTPOutage(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	ada := e.register(t, "ada@example.com")
	e.smtp.Stop()
	if err := e.svc.RequestRecovery(ctx, "ada@example.com", client); err != nil {
		t.Fatalf("RequestRecovery while SMTP is down = %v", err)
	}
	if sent, err := e.svc.DeliverMail(ctx); sent != 0 || err != nil {
		t.Fatalf("DeliverMail while SMTP is down = %d, %v", sent, err)
	}
	if e.queued(t) != 1 {
		t.Fatal("the message left the outbox without being sent")
	}
	// Not due again at once.
	e.smtp.Restart(t)
	if sent, _ := e.svc.DeliverMail(ctx); sent != 0 {
		t.Errorf("retried at once: %d sent", sent)
	}
	e.advance(time.Minute)
	msgs := e.deliver(t, 1)
	if _, tok := linkOf(t, msgs[0]); tok == "" {
		t.Fatal("no token")
	}
	if e.queued(t) != 0 {
		t.Error("the sent message stayed in the outbox")
	}
	if !strings.Contains(auditTypes(t, e.svc, ada.ID), gatehouse.EventEmailSent) {
		t.Error("no email.sent event")
	}
}

func TestOutboxGivesUpAfterADay(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	ada := e.register(t, "ada@example.com")
	e.smtp.Stop()
	if err := e.svc.RequestRecovery(ctx, "ada@example.com", client); err != nil {
		t.Fatal(err)
	}
	for range 30 {
		if _, err := e.svc.DeliverMail(ctx); err != nil {
			t.Fatal(err)
		}
		e.advance(time.Hour)
	}
	if n := e.queued(t); n != 0 {
		t.Errorf("%d messages still queued after a day of failures", n)
	}
	if !strings.Contains(auditTypes(t, e.svc, ada.ID), gatehouse.EventEmailFailed) {
		t.Error("no email.failed event")
	}
}

// countingStore counts the store calls a request makes.
type countingStore struct {
	gatehouse.Store
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingStore) count(name string) {
	c.mu.Lock()
	c.calls[name]++
	c.mu.Unlock()
}

func (c *countingStore) UserByEmail(ctx context.Context, email string) (gatehouse.User, error) {
	c.count("read")
	return c.Store.UserByEmail(ctx, email)
}

func (c *countingStore) RecordAudit(ctx context.Context, ev gatehouse.AuditEvent) error {
	c.count("write")
	return c.Store.RecordAudit(ctx, ev)
}

func (c *countingStore) CreateEmailToken(ctx context.Context, t gatehouse.EmailToken, m []gatehouse.QueuedMail, ev gatehouse.AuditEvent) error {
	c.count("write")
	return c.Store.CreateEmailToken(ctx, t, m, ev)
}

// TestRecoveryDoesTheSameWork holds POST /v1/recovery to one store read
// and one write transaction whether the account exists, is disabled, asked
// too often, or not: what a timing attack would measure is the same work
// (the time itself is measured by BenchmarkRequestRecovery).
func TestRecoveryDoesTheSameWork(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	e.register(t, "ada@example.com")
	off := e.register(t, "off@example.com")
	if _, err := e.svc.SetDisabled(ctx, off.ID, true, client); err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: e.st, calls: map[string]int{}}
	svc, err := gatehouse.NewService(cs, gatehouse.Config{
		Now: e.now, PublicURL: "https://auth.example.test",
		Email: &gatehouse.EmailConfig{Mailer: &smtp.Printer{W: io.Discard, Render: mustRenderer(t)}, Secret: []byte("0123456789abcdef0123456789abcdef")},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, email := range []string{"ada@example.com", "nobody@example.com", "off@example.com", "ada@example.com", "ada@example.com", "ada@example.com"} {
		cs.calls = map[string]int{}
		if err := svc.RequestRecovery(ctx, email, gatehouse.Client{IP: fmt.Sprintf("192.0.2.%d", i)}); err != nil {
			t.Fatal(err)
		}
		if cs.calls["read"] != 1 || cs.calls["write"] != 1 {
			t.Errorf("request %d (%s): %v, want one read and one write", i+1, email, cs.calls)
		}
	}
}

func mustRenderer(t testing.TB) *smtp.Renderer {
	t.Helper()
	r, err := smtp.NewRenderer("Gatehouse", "")
	if err != nil {
		t.Fatal(err)
	}
	return r
}
