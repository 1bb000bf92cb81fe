package gatehouse

import (
	"context"
	"time"
)

// MailKind names a message Gatehouse sends.
type MailKind string

// The messages Gatehouse sends. Those with a link carry a one-time secret
// in it; notices carry none and ask for nothing.
const (
	MailRecovery    MailKind = "recovery"     // a link to /auth/reset to set a new password
	MailVerify      MailKind = "verify_email" // a link to /auth/verify-email to confirm the address
	MailEmailChange MailKind = "email_change" // to the new address: a link that confirms the change
	// MailPasswordChanged tells the user their password changed.
	MailPasswordChanged MailKind = "password_changed"
	// MailEmailChanged tells the old address that the account's address
	// is being changed to Detail.
	MailEmailChanged MailKind = "email_changed"
	// MailFactorChanged tells the user a second factor or passkey (named
	// by Detail) was added or removed.
	MailFactorChanged MailKind = "factor_changed"
)

// MailKinds lists every MailKind.
var MailKinds = []MailKind{MailRecovery, MailVerify, MailEmailChange, MailPasswordChanged, MailEmailChanged, MailFactorChanged}

// Mail is one message before it is put in words: what it is, to whom, in
// which language, and what it must say.
type Mail struct {
	Kind MailKind
	To   string
	// Lang is the Accept-Language of the request that caused the message
	// ("fr-CA,fr;q=0.9"); the message is written in the language it
	// prefers among those with words, else in English.
	Lang string
	// Link is the one-time link of MailRecovery, MailVerify and
	// MailEmailChange. It is a secret: never logged.
	Link string
	// Valid is how long Link works.
	Valid time.Duration
	// Detail is what a notice is about: the new address of
	// MailEmailChanged, the factor of MailFactorChanged.
	Detail string
}

// Mailer delivers one message or says why it could not.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// EmailConfig turns email on: recovery, verification, change of address
// and notices. A nil Config.Email leaves it off (CodeEmailDisabled).
type EmailConfig struct {
	// Mailer delivers the outbox's messages; required.
	Mailer Mailer
	// Secret is the deployment secret (at least 32 bytes); it seals the
	// outbox's messages, which carry one-time links. Required.
	Secret []byte
	// RecoveryTTL and VerifyTTL are the lifetimes of recovery tokens
	// (default 30m) and of verification and change-of-address tokens
	// (default 24h).
	RecoveryTTL, VerifyTTL time.Duration
	// RequireVerified refuses to sign in a user whose address is not
	// verified (CodeEmailUnverified, after a correct password).
	RequireVerified bool
}

// EmailTokenKind names what an email token is for.
type EmailTokenKind string

// The kinds of email token.
const (
	TokenRecovery    EmailTokenKind = "recovery"     // sets a new password
	TokenVerify      EmailTokenKind = "verify"       // confirms the user's address
	TokenEmailChange EmailTokenKind = "email_change" // confirms a new address
)

// EmailToken is a one-time token sent by email, known to the store only
// by its SHA-256.
type EmailToken struct {
	Hash   []byte
	Kind   EmailTokenKind
	UserID string
	// Email is the address it was sent to: for TokenEmailChange, the new
	// address.
	Email                string
	CreatedAt, ExpiresAt time.Time
}
