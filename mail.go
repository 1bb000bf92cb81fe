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
	// Lang is the language the person used (an Accept-Language tag such as
	// "fr-CA"); "" or a language without words falls back to English.
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
