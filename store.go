package gatehouse

import (
	"context"
	"time"
)

// UserStore keeps accounts. Every write is one transaction with the audit
// events that record it.
type UserStore interface {
	// CreateUser inserts u; an existing email is CodeEmailTaken.
	CreateUser(ctx context.Context, u User, ev AuditEvent) error
	// UserByID and UserByEmail return CodeNotFound when there is no match.
	UserByID(ctx context.Context, id string) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
	// ListUsers returns up to q.Limit users with ids after q.After whose
	// email starts with q.EmailPrefix (as stored: the caller normalises
	// it), in id order (ids sort by creation time). A limit below 1
	// returns none.
	ListUsers(ctx context.Context, q UserQuery) ([]User, error)
	// UpdateUser makes the change c describes in one transaction (see
	// UserChange). It returns the ids of the revoked logins, or
	// CodeNotFound when the user does not exist, CodeInvalidToken when
	// c.Spend is not the user's stored token, and CodeEmailTaken when the
	// new email is another user's; an error changes nothing.
	UpdateUser(ctx context.Context, c UserChange) ([]string, error)
}

// UserChange is one write of UpdateUser: the user as it will be, and what
// comes with the change in its transaction.
type UserChange struct {
	// User is written: its email, email_verified, password hash, roles
	// and disabled flag.
	User User
	// Revoke, when not nil, selects logins to revoke (Revoke.UserID is
	// User.ID).
	Revoke *Revocation
	// Feed, when not nil, is added to the revocation feed as it is (but
	// for its Seq, which the store gives).
	Feed *RevocationEvent
	// Spend, when not nil, is the hash of the user's email token that the
	// change spends: it is deleted, and the change fails when it is not
	// there (already spent, superseded or never the user's).
	Spend []byte
	// Retire deletes the user's email tokens of these kinds: those the
	// change makes moot.
	Retire []EmailTokenKind
	// Mail is queued in the outbox.
	Mail []QueuedMail
	// Events are recorded.
	Events []AuditEvent
}

// EmailStore keeps the one-time tokens sent by email.
type EmailStore interface {
	// CreateEmailToken stores t, deleting the user's other tokens of its
	// kind (only the newest works), queues mail and records ev, in one
	// transaction.
	CreateEmailToken(ctx context.Context, t EmailToken, mail []QueuedMail, ev AuditEvent) error
	// EmailToken returns the token with that hash and its user, or
	// CodeNotFound. It does not check the expiry; the caller does.
	EmailToken(ctx context.Context, hash []byte) (EmailToken, User, error)
}

// LoginStore keeps logins of both modes.
type LoginStore interface {
	// CreateLogin inserts l and records ev.
	CreateLogin(ctx context.Context, l Login, ev AuditEvent) error
	// SessionBySecretHash returns the session login with that secret hash
	// and its user in one read, or CodeNotFound. It does not check the
	// deadlines; the caller does.
	SessionBySecretHash(ctx context.Context, hash []byte) (Login, User, error)
	// LoginByID returns one login or CodeNotFound.
	LoginByID(ctx context.Context, id string) (Login, error)
	// ListLogins returns the user's logins still live at now, newest first.
	ListLogins(ctx context.Context, userID string, now time.Time) ([]Login, error)
	// TouchLogin records activity: the new last-seen time and idle
	// deadline. A missing login is CodeNotFound.
	TouchLogin(ctx context.Context, id string, seen, idleExpires time.Time) error
	// RevokeLogins removes the logins r selects, only ever among r.UserID's,
	// adds them to the revocation feed, and records ev when at least one
	// was revoked. It returns the revoked ids.
	RevokeLogins(ctx context.Context, r Revocation, ev AuditEvent) ([]string, error)
	// DeleteExpiredLogins removes logins whose absolute or idle deadline
	// has passed at now, and returns how many.
	DeleteExpiredLogins(ctx context.Context, now time.Time) (int, error)
}

// StatsStore answers questions for monitoring.
type StatsStore interface {
	// CountLiveLogins counts the logins of both modes live at now.
	CountLiveLogins(ctx context.Context, now time.Time) (int, error)
}

// AuditStore keeps the audit log.
type AuditStore interface {
	// RecordAudit appends an event that comes with no other change.
	RecordAudit(ctx context.Context, ev AuditEvent) error
	// ListAudit returns up to q.Limit events that q selects, newest
	// (highest ID) first, each with its ID. A limit below 1 returns none.
	ListAudit(ctx context.Context, q AuditQuery) ([]AuditEvent, error)
}

// TokenStore keeps the refresh tokens of token logins.
type TokenStore interface {
	// CreateTokenLogin inserts a token login with its first refresh token
	// and records ev, in one transaction.
	CreateTokenLogin(ctx context.Context, l Login, rt RefreshToken, ev AuditEvent) error
	// RefreshToken returns the refresh token with that hash with its login
	// and user, or CodeNotFound (also when its login was revoked).
	RefreshToken(ctx context.Context, hash []byte) (RefreshToken, Login, User, error)
	// RotateRefreshToken marks the token with that hash used at
	// next.CreatedAt if it is still unused, inserts next, sets the login's
	// last_seen_at to next.CreatedAt and records ev, in one transaction.
	// It reports false and changes nothing when the token was already used
	// or is gone: of many concurrent rotations of one token, one wins.
	RotateRefreshToken(ctx context.Context, hash []byte, next RefreshToken, ev AuditEvent) (bool, error)
}

// KeyStore keeps token signing keys.
type KeyStore interface {
	// CreateKey inserts a signing key and records ev.
	CreateKey(ctx context.Context, k SigningKey, ev AuditEvent) error
	// ListKeys returns every key, newest first; keys with the same
	// CreatedAt come in reverse order of creation.
	ListKeys(ctx context.Context) ([]SigningKey, error)
	// DeleteKey removes a key that can no longer have valid tokens.
	// Deleting a missing key is not an error (several servers may race).
	DeleteKey(ctx context.Context, id string) error
}

// RevocationFeed reads the revocation feed.
type RevocationFeed interface {
	// RevocationsAfter returns up to limit entries with Seq > after and
	// At >= since, in Seq order. Entries must become visible in Seq order
	// (a reader never sees Seq n+1 before n), or a reader would skip one.
	RevocationsAfter(ctx context.Context, after int64, since time.Time, limit int) ([]RevocationEvent, error)
}

// AppStore keeps OpenID Connect apps (clients). Every write records its
// audit event in the same transaction.
type AppStore interface {
	// CreateApp inserts a and records ev.
	CreateApp(ctx context.Context, a App, ev AuditEvent) error
	// AppByID returns one app or CodeNotFound.
	AppByID(ctx context.Context, id string) (App, error)
	// ListApps returns every app, oldest first (then by id).
	ListApps(ctx context.Context) ([]App, error)
	// DeleteApp removes the app and the consents given to it, revokes
	// every login of the app (adding each to the revocation feed with
	// ReasonRevoked at ev.At) and records ev, in one transaction. It
	// returns the revoked login ids, or CodeNotFound, changing nothing,
	// when there is no such app.
	DeleteApp(ctx context.Context, id string, ev AuditEvent) ([]string, error)
}

// ConsentStore keeps the consents users give apps: at most one per user
// and app. A consent goes with its user and with its app.
type ConsentStore interface {
	// PutConsent inserts c, replacing the user's consent to that app if
	// any, and records ev.
	PutConsent(ctx context.Context, c Consent, ev AuditEvent) error
	// ConsentOf returns the user's consent to the app or CodeNotFound.
	ConsentOf(ctx context.Context, userID, appID string) (Consent, error)
	// ListConsents returns the user's consents, most recent first.
	ListConsents(ctx context.Context, userID string) ([]Consent, error)
	// DeleteConsent removes the user's consent to the app, revokes the
	// user's logins of that app (adding each to the revocation feed with
	// ReasonRevoked at ev.At) and records ev, in one transaction. It
	// returns the revoked login ids, or CodeNotFound, changing nothing,
	// when there is no such consent.
	DeleteConsent(ctx context.Context, userID, appID string, ev AuditEvent) ([]string, error)
}

// Store is everything the Service needs from storage.
type Store interface {
	UserStore
	LoginStore
	AuditStore
	TokenStore
	KeyStore
	RevocationFeed
	StatsStore
	OutboxStore
	EmailStore
	FactorStore
	PasskeyStore
	CeremonyStore
	AppStore
	ConsentStore
	AuthRequestStore
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
}
