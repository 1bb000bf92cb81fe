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
	// ListUsers returns up to limit users with ids after the given one, in
	// id order (ids sort by creation time). A limit below 1 returns none.
	ListUsers(ctx context.Context, after string, limit int) ([]User, error)
	// UpdateUser writes u's password hash, roles and disabled flag, revokes
	// the logins that revoke selects when it is non-nil (revoke.UserID is
	// u.ID), and records
	// events, all in one transaction. It returns the ids of the revoked
	// logins, or CodeNotFound when the user does not exist.
	UpdateUser(ctx context.Context, u User, revoke *Revocation, events ...AuditEvent) ([]string, error)
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

// AuditStore keeps the audit log.
type AuditStore interface {
	// RecordAudit appends an event that comes with no other change.
	RecordAudit(ctx context.Context, ev AuditEvent) error
	// ListAudit returns up to limit events, newest first, of one user when
	// userID is not empty. A limit below 1 returns none.
	ListAudit(ctx context.Context, userID string, limit int) ([]AuditEvent, error)
}

// Store is everything the Service needs from storage.
type Store interface {
	UserStore
	LoginStore
	AuditStore
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
}
