package main

import (
	"flag"
	"log/slog"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/smtp"
)

// emailOptions are the flags of email: recovery, verification, change of
// address and notices.
type emailOptions struct {
	smtpURL, from, templates string
	recoveryTTL, verifyTTL   time.Duration
	requireVerified          bool
}

func emailFlags(fs *flag.FlagSet) *emailOptions {
	o := &emailOptions{}
	fs.StringVar(&o.smtpURL, "smtp", "", "mail server that turns email on: smtps://user:pass@host:465 (TLS) or smtp://user:pass@host:587 (STARTTLS; required for credentials to a host that is not loopback)")
	fs.StringVar(&o.from, "mail-from", "", `sender of the messages, "Name <address>" or an address (required with --smtp)`)
	fs.StringVar(&o.templates, "mail-templates", "", "directory of message templates that replace the built-in ones (en.txt, fr.txt, layout.html; another <lang>.txt adds a language)")
	fs.DurationVar(&o.recoveryTTL, "recovery-ttl", gatehouse.DefaultRecoveryTTL, "lifetime of a recovery link")
	fs.DurationVar(&o.verifyTTL, "verify-ttl", gatehouse.DefaultVerifyTTL, "lifetime of a verification or change-of-address link")
	fs.BoolVar(&o.requireVerified, "require-verified-email", false, "refuse to sign in users whose address is not verified (needs email)")
	return o
}

// config returns the email configuration, or nil when email is off:
// without --smtp, messages are printed to out with --dev (never to the
// log: they carry one-time links), and email is off otherwise.
func (o *emailOptions) config(dev bool, brand string, secret []byte, std stdio, log *slog.Logger) (*gatehouse.EmailConfig, error) {
	if o.recoveryTTL <= 0 || o.verifyTTL <= 0 {
		return nil, usagef("--recovery-ttl and --verify-ttl must be positive")
	}
	if o.smtpURL == "" && !dev {
		if o.requireVerified || o.from != "" || o.templates != "" {
			return nil, usagef("--require-verified-email, --mail-from and --mail-templates need --smtp")
		}
		return nil, nil
	}
	r, err := smtp.NewRenderer(brand, o.templates)
	if err != nil {
		return nil, usagef("--mail-templates: %v", err)
	}
	cfg := &gatehouse.EmailConfig{
		Secret: secret, RecoveryTTL: o.recoveryTTL, VerifyTTL: o.verifyTTL, RequireVerified: o.requireVerified,
	}
	if o.smtpURL == "" {
		log.Warn("development mode without --smtp: messages are printed to standard output, not sent")
		cfg.Mailer = &smtp.Printer{W: std.out, Render: r}
		return cfg, nil
	}
	sender, err := smtp.New(smtp.Config{URL: o.smtpURL, From: o.from}, r)
	if err != nil {
		return nil, usagef("%v", err)
	}
	cfg.Mailer = sender
	return cfg, nil
}
