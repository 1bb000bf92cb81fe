package sqlstore

import (
	"context"

	"github.com/gatehouse/gatehouse"
)

const (
	// putEmailToken replaces the user's token of that kind, if any.
	putEmailToken = `INSERT INTO email_tokens (hash, kind, user_id, email, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (user_id, kind) DO UPDATE SET hash = excluded.hash, email = excluded.email,
		created_at = excluded.created_at, expires_at = excluded.expires_at`
	emailToken = `SELECT t.hash, t.kind, t.user_id, t.email, t.created_at, t.expires_at, ` + userColumnsOfU + `
		FROM email_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1`
	userColumnsOfU = `u.id, u.email, u.password_hash, u.roles, u.disabled, u.email_verified, u.created_at`
)

// CreateEmailToken stores t in place of the user's token of its kind,
// queues mail and records ev, in one transaction.
func (s *Store) CreateEmailToken(ctx context.Context, t gatehouse.EmailToken, mail []gatehouse.QueuedMail, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx Conn) error {
		if _, err := tx.Exec(ctx, putEmailToken, t.Hash, string(t.Kind), t.UserID, t.Email, unixNano(t.CreatedAt), unixNano(t.ExpiresAt)); err != nil {
			return err
		}
		return queueAndRecord(ctx, tx, mail, ev)
	})
}

// EmailToken returns the token with that hash and its user, or
// CodeNotFound.
func (s *Store) EmailToken(ctx context.Context, hash []byte) (gatehouse.EmailToken, gatehouse.User, error) {
	var t gatehouse.EmailToken
	var kind string
	var created, expires, userCreated int64
	var u gatehouse.User
	err := s.e.Read().QueryRow(ctx, emailToken, hash).Scan(&t.Hash, &kind, &t.UserID, &t.Email, &created, &expires,
		&u.ID, &u.Email, &u.PasswordHash, s.e.ScanRoles(&u.Roles), &u.Disabled, &u.EmailVerified, &userCreated)
	if err != nil {
		return gatehouse.EmailToken{}, gatehouse.User{}, s.failOrNotFound(err, "token")
	}
	t.Kind, t.CreatedAt, t.ExpiresAt = gatehouse.EmailTokenKind(kind), fromUnixNano(created), fromUnixNano(expires)
	u.Roles, u.CreatedAt = noRoles(u.Roles), fromUnixNano(userCreated)
	return t, u, nil
}
