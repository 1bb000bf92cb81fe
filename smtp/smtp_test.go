package smtp_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/smtp"
	"github.com/gatehouse/gatehouse/smtp/smtptest"
)

const link = "https://auth.example.test/auth/reset?token=Zm9vYmFyLXNlY3JldC10b2tlbg"

func renderer(t *testing.T, dir string) *smtp.Renderer {
	t.Helper()
	r, err := smtp.NewRenderer("Acme", dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRenderEveryKindInEveryLanguage(t *testing.T) {
	r := renderer(t, "")
	for _, lang := range []string{"en", "fr"} {
		for _, k := range gatehouse.MailKinds {
			t.Run(lang+"/"+string(k), func(t *testing.T) {
				m := gatehouse.Mail{Kind: k, To: "ada@example.com", Lang: lang + "-CA", Link: link, Valid: 30 * time.Minute, Detail: "<b>new@example.com</b>"}
				msg, err := r.Render(m)
				if err != nil {
					t.Fatal(err)
				}
				if msg.Lang != lang || msg.Subject == "" || !strings.Contains(msg.Subject, "Acme") || strings.Contains(msg.Subject, "\n") {
					t.Errorf("lang %q subject %q", msg.Lang, msg.Subject)
				}
				withLink := k == gatehouse.MailRecovery || k == gatehouse.MailVerify || k == gatehouse.MailEmailChange
				if withLink != strings.Contains(msg.Text, link) {
					t.Errorf("text has the link: %v, want %v:\n%s", !withLink, withLink, msg.Text)
				}
				if withLink && !strings.Contains(msg.HTML, `<a href="`+link+`"`) {
					t.Errorf("HTML has no link:\n%s", msg.HTML)
				}
				if withLink && !strings.Contains(msg.Text, "30 minutes") {
					t.Errorf("text does not say how long the link works:\n%s", msg.Text)
				}
				if strings.Contains(msg.HTML, "<b>new@") {
					t.Errorf("HTML does not escape the detail:\n%s", msg.HTML)
				}
				if !strings.Contains(msg.HTML, `lang="`+lang+`"`) {
					t.Errorf("HTML is not marked %s", lang)
				}
			})
		}
	}
}

func TestRenderFallsBackToEnglish(t *testing.T) {
	msg, err := renderer(t, "").Render(gatehouse.Mail{Kind: gatehouse.MailVerify, To: "a@example.com", Lang: "de-DE", Link: link, Valid: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if msg.Lang != "en" || !strings.Contains(msg.Text, "24 hours") {
		t.Errorf("lang %q text %q", msg.Lang, msg.Text)
	}
}

func TestRenderOverrides(t *testing.T) {
	b, err := os.ReadFile("templates/en.txt")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	changed := strings.Replace(string(b), "Reset your {{.Brand}} password", "Your {{.Brand}} reset link", 1)
	if err := os.WriteFile(filepath.Join(dir, "en.txt"), []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	msg, err := renderer(t, dir).Render(gatehouse.Mail{Kind: gatehouse.MailRecovery, To: "a@example.com", Link: link, Valid: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject != "Your Acme reset link" {
		t.Errorf("subject %q", msg.Subject)
	}

	t.Run("a language that misses a message is refused", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "de.txt"), []byte(`{{define "recovery.subject"}}x{{end}}`), 0o600)
		if _, err := smtp.NewRenderer("Acme", dir); err == nil || !strings.Contains(err.Error(), "de.txt") {
			t.Errorf("err = %v, want one naming de.txt", err)
		}
	})
	t.Run("a template that does not parse is refused", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "layout.html"), []byte(`{{define "layout"}}{{.Nope`), 0o600)
		if _, err := smtp.NewRenderer("Acme", dir); err == nil {
			t.Error("no error")
		}
	})
}

func send(t *testing.T, cfg smtp.Config) error {
	t.Helper()
	s, err := smtp.New(cfg, renderer(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Send(ctx, gatehouse.Mail{Kind: gatehouse.MailRecovery, To: "ada@example.com", Lang: "fr", Link: link, Valid: 30 * time.Minute})
}

// toLoopback dials 127.0.0.1 whatever the name, so that a server on
// loopback stands for one that is not.
func toLoopback(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
}

func TestSendStartTLSWithAuth(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Username: "gatehouse", Password: "s3cret"})
	err := send(t, smtp.Config{URL: "smtp://gatehouse:s3cret@" + srv.Addr, From: "Acme <no-reply@acme.example>", RootCAs: srv.Roots})
	if err != nil {
		t.Fatal(err)
	}
	m := srv.Wait(t, 1, 5*time.Second)[0]
	if !m.TLS || m.User != "gatehouse" {
		t.Errorf("TLS %v user %q, want STARTTLS and AUTH", m.TLS, m.User)
	}
	if m.From != "no-reply@acme.example" || len(m.To) != 1 || m.To[0] != "ada@example.com" {
		t.Errorf("envelope %q -> %q", m.From, m.To)
	}
	if m.Subject != "Réinitialiser votre mot de passe Acme" {
		t.Errorf("subject %q", m.Subject)
	}
	if !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, link) {
		t.Errorf("the link is missing from a part:\ntext %q\nhtml %q", m.Text, m.HTML)
	}
	if m.Header.Get("Auto-Submitted") != "auto-generated" || m.Header.Get("Message-Id") == "" {
		t.Errorf("headers %v", m.Header)
	}
}

func TestSendImplicitTLS(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{TLS: true, Username: "u", Password: "p"})
	if err := send(t, smtp.Config{URL: "smtps://u:p@" + srv.Addr, From: "no-reply@acme.example", RootCAs: srv.Roots}); err != nil {
		t.Fatal(err)
	}
	if m := srv.Wait(t, 1, 5*time.Second)[0]; !m.TLS || m.User != "u" {
		t.Errorf("TLS %v user %q", m.TLS, m.User)
	}
}

func TestSendRefusesAnUntrustedCertificate(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{TLS: true})
	if err := send(t, smtp.Config{URL: "smtps://" + srv.Addr, From: "no-reply@acme.example"}); err == nil {
		t.Fatal("sent to a server whose certificate no one trusts")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
}

func TestCredentialsNeverInTheClearToAnotherHost(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{NoStartTLS: true, Username: "u", Password: "p"})
	_, port, _ := net.SplitHostPort(srv.Addr)
	err := send(t, smtp.Config{URL: "smtp://u:p@mail.example.test:" + port, From: "no-reply@acme.example", Dial: toLoopback(srv.Addr)})
	if err == nil {
		t.Fatal("sent without STARTTLS to a host that is not loopback")
	}
	if n := srv.AuthAttempts(); n != 0 {
		t.Errorf("%d AUTH attempts in the clear", n)
	}
	if strings.Contains(err.Error(), "p@") || strings.Contains(err.Error(), link) {
		t.Errorf("the error shows a secret: %v", err)
	}

	t.Run("with STARTTLS offered it goes through", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{Username: "u", Password: "p"})
		_, port, _ := net.SplitHostPort(srv.Addr)
		if err := send(t, smtp.Config{URL: "smtp://u:p@mail.example.test:" + port, From: "no-reply@acme.example", Dial: toLoopback(srv.Addr), RootCAs: srv.Roots}); err != nil {
			t.Fatal(err)
		}
		if m := srv.Wait(t, 1, 5*time.Second)[0]; !m.TLS {
			t.Error("not over TLS")
		}
	})
	t.Run("without credentials a plain server is used", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{NoStartTLS: true})
		_, port, _ := net.SplitHostPort(srv.Addr)
		if err := send(t, smtp.Config{URL: "smtp://mail.example.test:" + port, From: "no-reply@acme.example", Dial: toLoopback(srv.Addr)}); err != nil {
			t.Fatal(err)
		}
		if m := srv.Wait(t, 1, 5*time.Second)[0]; m.TLS {
			t.Error("TLS on a server that offers none?")
		}
	})
}

func TestSendWrongPassword(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Username: "u", Password: "p"})
	err := send(t, smtp.Config{URL: "smtp://u:wrong@" + srv.Addr, From: "no-reply@acme.example", RootCAs: srv.Roots})
	if err == nil {
		t.Fatal("sent with a wrong password")
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the error shows the password: %v", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
}

func TestSendWhileTheServerIsDown(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	cfg := smtp.Config{URL: "smtp://" + srv.Addr, From: "no-reply@acme.example", RootCAs: srv.Roots, Timeout: 2 * time.Second}
	srv.Stop()
	if err := send(t, cfg); err == nil {
		t.Fatal("sent to a stopped server")
	}
	srv.Restart(t)
	if err := send(t, cfg); err != nil {
		t.Fatal(err)
	}
	srv.Wait(t, 1, 5*time.Second)
}

func TestSendTimesOutOnASilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // says nothing, keeps the connection open
		}
	}()
	start := time.Now()
	err = send(t, smtp.Config{URL: "smtp://" + ln.Addr().String(), From: "no-reply@acme.example", Timeout: 300 * time.Millisecond})
	if err == nil {
		t.Fatal("sent to a server that never greets")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("gave up after %v with a timeout of 300ms", took)
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	for _, tc := range []struct{ name, url, from string }{
		{"another scheme", "http://mail.example.com", "a@example.com"},
		{"no host", "smtp://", "a@example.com"},
		{"a path", "smtp://mail.example.com/x", "a@example.com"},
		{"a query", "smtp://mail.example.com?tls=no", "a@example.com"},
		{"port zero", "smtp://mail.example.com:0", "a@example.com"},
		{"port too big", "smtp://mail.example.com:70000", "a@example.com"},
		{"not a URL", "smtp://[::1", "a@example.com"},
		{"no sender", "smtp://mail.example.com", ""},
		{"a bad sender", "smtp://mail.example.com", "not an address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := smtp.New(smtp.Config{URL: tc.url, From: tc.from}, renderer(t, "")); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestPrinter(t *testing.T) {
	var b strings.Builder
	p := &smtp.Printer{W: &b, Render: renderer(t, "")}
	if err := p.Send(context.Background(), gatehouse.Mail{Kind: gatehouse.MailRecovery, To: "ada@example.com", Link: link, Valid: 30 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "ada@example.com") || !strings.Contains(b.String(), link) {
		t.Errorf("printed %q", b.String())
	}
}

func TestRenderPicksTheLanguageByPreference(t *testing.T) {
	r := renderer(t, "")
	for header, want := range map[string]string{
		"de-DE, fr;q=0.9, en;q=0.8": "fr",
		"en;q=0.5, fr-CA;q=0.7":     "fr",
		"":                          "en",
		"fr;q=0, en;q=0.1":          "en",
	} {
		msg, err := r.Render(gatehouse.Mail{Kind: gatehouse.MailPasswordChanged, To: "a@example.com", Lang: header})
		if err != nil {
			t.Fatal(err)
		}
		if msg.Lang != want {
			t.Errorf("Accept-Language %q: written in %q, want %q", header, msg.Lang, want)
		}
	}
}
