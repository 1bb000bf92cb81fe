// Package smtp delivers Gatehouse's messages (recovery, verification,
// notices) to a mail server, and writes them in words first.
//
// It is an adapter, like sqlite: the root package decides what to send
// and when (the outbox, retries, audit events); this package turns one
// gatehouse.Mail into a message with a plain-text and an HTML part
// (Render) and hands it to an SMTP server (Sender) on
// github.com/wneessen/go-mail, or prints it (Printer, for --dev).
//
// The server URL is smtps://user:pass@host:465 (TLS from the first byte)
// or smtp://user:pass@host:587 (STARTTLS). Credentials are never sent
// unencrypted to a host other than loopback: with credentials and a
// host that is not loopback, smtp:// requires STARTTLS and refuses a
// server that does not offer it. Without credentials, or on loopback,
// STARTTLS is used when offered.
package smtp
