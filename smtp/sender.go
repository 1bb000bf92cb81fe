package smtp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/gatehouse/gatehouse"
)

// Config is what a Sender needs.
type Config struct {
	// URL is the server: smtps://user:pass@host:465 or
	// smtp://user:pass@host:587 (see the package comment). Required.
	URL string
	// From is the sender, an address with an optional name
	// ("Acme <no-reply@acme.example>"). Required.
	From string
	// Timeout bounds each step with the server (connect, TLS, each
	// command); 0 means 10 seconds.
	Timeout time.Duration
	// RootCAs verifies the server's certificate; nil means the system's.
	RootCAs *x509.CertPool
	// Dial, when not nil, opens the connections instead of net.Dialer:
	// tests give a name that is not loopback to a loopback server.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Sender delivers messages to one SMTP server. It is safe for concurrent
// use; each Send opens its own connection.
type Sender struct {
	render *Renderer
	from   string
	opts   []mail.Option
	host   string
}

var _ gatehouse.Mailer = (*Sender)(nil)

// New returns a Sender for cfg, writing with r. It fails on a URL it
// cannot use: another scheme, no host, a bad port, or a query.
func New(cfg Config, r *Renderer) (*Sender, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, errors.New("--smtp: not a URL")
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		return nil, errors.New("--smtp: the scheme must be smtps:// (TLS) or smtp:// (STARTTLS)")
	}
	host := u.Hostname()
	if host == "" || u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("--smtp: give only smtps://[user:pass@]host[:port] or smtp://[user:pass@]host[:port]")
	}
	if cfg.From == "" {
		return nil, errors.New("--mail-from is required with --smtp")
	}
	if err := mail.NewMsg().From(cfg.From); err != nil {
		return nil, fmt.Errorf("--mail-from: %q is not an address", cfg.From)
	}
	port := 587
	if u.Scheme == "smtps" {
		port = 465
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, errors.New("--smtp: the port must be a number from 1 to 65535")
		}
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	opts := []mail.Option{
		mail.WithPort(port), mail.WithTimeout(timeout),
		mail.WithTLSConfig(&tls.Config{ServerName: host, RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}),
	}
	switch {
	case u.Scheme == "smtps":
		opts = append(opts, mail.WithSSL())
	case u.User != nil && !loopback(host):
		// Credentials must not cross the network in the clear.
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	if u.User != nil {
		pass, _ := u.User.Password()
		// The strongest mechanism both sides know; go-mail refuses PLAIN
		// and LOGIN over an unencrypted connection to a host that is not
		// loopback.
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(u.User.Username()), mail.WithPassword(pass))
	}
	if cfg.Dial != nil {
		opts = append(opts, mail.WithDialContextFunc(cfg.Dial))
	}
	if _, err := mail.NewClient(host, opts...); err != nil {
		return nil, fmt.Errorf("--smtp: %w", err)
	}
	return &Sender{render: r, from: cfg.From, opts: opts, host: host}, nil
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send writes m in words and delivers it. The error never holds m's link.
func (s *Sender) Send(ctx context.Context, m gatehouse.Mail) error {
	msg, err := s.render.Render(m)
	if err != nil {
		return fmt.Errorf("writing a %s message: %w", m.Kind, err)
	}
	out, err := s.message(msg)
	if err != nil {
		return err
	}
	c, err := mail.NewClient(s.host, s.opts...)
	if err != nil {
		return err
	}
	if err := c.DialAndSendWithContext(ctx, out); err != nil {
		return fmt.Errorf("sending a %s message to %s: %w", m.Kind, s.host, err)
	}
	return nil
}

// message is msg as go-mail sends it: both parts, and headers that say it
// was sent by a program (RFC 3834), so that no one replies to it.
func (s *Sender) message(msg Message) (*mail.Msg, error) {
	out := mail.NewMsg()
	if err := out.From(s.from); err != nil {
		return nil, fmt.Errorf("--mail-from: %w", err)
	}
	if err := out.To(msg.To); err != nil {
		return nil, fmt.Errorf("the address %q: %w", msg.To, err)
	}
	out.Subject(msg.Subject)
	out.SetDate()
	out.SetMessageID()
	out.SetGenHeader("Auto-Submitted", "auto-generated")
	out.SetGenHeader("Content-Language", msg.Lang)
	out.SetBodyString(mail.TypeTextPlain, msg.Text)
	out.AddAlternativeString(mail.TypeTextHTML, msg.HTML)
	return out, nil
}

// Printer writes messages to W instead of sending them: --dev without
// --smtp. The messages carry one-time links, so W is standard output,
// never the log.
type Printer struct {
	W      io.Writer
	Render *Renderer
}

var _ gatehouse.Mailer = (*Printer)(nil)

// Send writes m's plain-text part to W.
func (p *Printer) Send(_ context.Context, m gatehouse.Mail) error {
	msg, err := p.Render.Render(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(p.W, "--- mail to %s: %s\n%s---\n", msg.To, msg.Subject, msg.Text)
	return err
}
