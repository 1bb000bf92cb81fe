package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse"
)

const (
	insertRefreshToken = `INSERT INTO refresh_tokens (hash, login_id, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5)`
	claimRefreshToken  = `UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2 AND used_at = 0 RETURNING login_id`
	seeLogin           = `UPDATE logins SET last_seen_at = $1 WHERE id = $2`
)

// refreshTokenQuery reads a refresh token, its login and its user in one
// statement. A token whose login was revoked is gone with it (the foreign
// key cascades), and the join would not find it anyway.
const refreshTokenQuery = `SELECT rt.login_id, rt.created_at, rt.expires_at, rt.used_at,
	l.user_id, l.mode, l.secret_hash, l.device, l.ip, l.user_agent, l.remember,
	l.created_at, l.last_seen_at, l.expires_at, l.idle_expires_at, l.aal, l.amr, COALESCE(l.app_id, ''),
	u.email, u.password_hash, u.roles, u.disabled, u.email_verified, u.created_at
FROM refresh_tokens rt
JOIN logins l ON l.id = rt.login_id
JOIN users u ON u.id = l.user_id
WHERE rt.hash = $1`

// errAlreadyUsed rolls back a rotation that lost; it never leaves
// RotateRefreshToken.
var errAlreadyUsed = errors.New("refresh token already used or gone")

// CreateTokenLogin inserts a token login with its first refresh token and
// records ev, in one transaction. l must be a token or oidc login (an
// app's login holds refresh tokens as a token login does) and rt must be
// its token: a refresh token given for another login would let its bearer
// into that login, so the mismatch is refused (CodeUnavailable, as for any
// failure that is not a domain condition) rather than stored.
func (s *Store) CreateTokenLogin(ctx context.Context, l gatehouse.Login, rt gatehouse.RefreshToken, ev gatehouse.AuditEvent) error {
	if l.Mode != gatehouse.ModeToken && l.Mode != gatehouse.ModeOIDC {
		return gatehouse.Unavailable(fmt.Errorf("CreateTokenLogin of a login in mode %q", l.Mode))
	}
	if rt.LoginID != l.ID {
		return gatehouse.Unavailable(fmt.Errorf("refresh token of login %q given with login %q", rt.LoginID, l.ID))
	}
	return s.inTx(ctx, func(tx Conn) error {
		if err := insertLoginIn(ctx, tx, l); err != nil {
			return err
		}
		if err := insertRefreshTokenIn(ctx, tx, rt); err != nil {
			return err
		}
		return recordAudit(ctx, tx, ev)
	})
}

func insertRefreshTokenIn(ctx context.Context, tx Conn, rt gatehouse.RefreshToken) error {
	_, err := tx.Exec(ctx, insertRefreshToken,
		rt.Hash, rt.LoginID, unixNano(rt.CreatedAt), unixNano(rt.ExpiresAt), unixNano(rt.UsedAt))
	return err
}

// RefreshToken returns the refresh token with that hash, used or not, with
// its login and user, or CodeNotFound (also when its login was revoked).
// It does not look at deadlines or at UsedAt: the caller does.
func (s *Store) RefreshToken(ctx context.Context, hash []byte) (gatehouse.RefreshToken, gatehouse.Login, gatehouse.User, error) {
	var (
		rt                                        gatehouse.RefreshToken
		l                                         gatehouse.Login
		u                                         gatehouse.User
		mode, amr                                 string
		rtCreated, rtExpires, rtUsed              int64
		created, seen, expires, idle, userCreated int64
	)
	err := s.e.Read().QueryRow(ctx, refreshTokenQuery, hash).Scan(
		&rt.LoginID, &rtCreated, &rtExpires, &rtUsed,
		&l.UserID, &mode, &l.SecretHash, &l.Device, &l.IP, &l.UserAgent, &l.Remember,
		&created, &seen, &expires, &idle, &l.AAL, &amr, &l.AppID,
		&u.Email, &u.PasswordHash, s.e.ScanRoles(&u.Roles), &u.Disabled, &u.EmailVerified, &userCreated)
	if err != nil {
		return gatehouse.RefreshToken{}, gatehouse.Login{}, gatehouse.User{}, s.failOrNotFound(err, "refresh token")
	}
	u.Roles = noRoles(u.Roles)
	rt.Hash = bytes.Clone(hash)
	rt.CreatedAt, rt.ExpiresAt, rt.UsedAt = fromUnixNano(rtCreated), fromUnixNano(rtExpires), fromUnixNano(rtUsed)
	l.ID, l.Mode, l.AMR = rt.LoginID, gatehouse.Mode(mode), gatehouse.ParseAMR(amr)
	l.CreatedAt, l.LastSeenAt = fromUnixNano(created), fromUnixNano(seen)
	l.ExpiresAt, l.IdleExpiresAt = fromUnixNano(expires), fromUnixNano(idle)
	u.ID, u.CreatedAt = l.UserID, fromUnixNano(userCreated)
	return rt, l, u, nil
}

// RotateRefreshToken marks the token with that hash used at next.CreatedAt
// if it is still unused, inserts next, sets the login's last_seen_at to
// next.CreatedAt and records ev, in one transaction. It reports false and
// changes nothing when the token was already used or is gone.
//
// The claim is a single conditional UPDATE (used_at = 0) in a write
// transaction, so of many rotations of one token, from any number of
// stores on the database, exactly one wins: the engine makes a concurrent
// claim wait for the first to commit and then finds the token used. The
// login's row is updated first, in the order that RevokeLogins deletes
// (the login, then its tokens by cascade), so that where rows are locked
// one by one a rotation racing a revocation of the same login waits for
// it rather than deadlocking with it, and then finds the token gone.
//
// next must belong to the same login and have a CreatedAt, which is
// stored as the used time; otherwise the call fails (CodeUnavailable) and
// changes nothing. A failure after the claim, such as a next whose hash
// is taken, rolls the claim back.
func (s *Store) RotateRefreshToken(ctx context.Context, hash []byte, next gatehouse.RefreshToken, ev gatehouse.AuditEvent) (bool, error) {
	if next.CreatedAt.IsZero() {
		// A used time of 0 would leave the old token unused.
		return false, gatehouse.Unavailable(errors.New("RotateRefreshToken with a next token without CreatedAt"))
	}
	used := unixNano(next.CreatedAt)
	err := s.e.InTx(ctx, func(tx Conn) error {
		if _, err := tx.Exec(ctx, seeLogin, used, next.LoginID); err != nil {
			return err
		}
		var loginID string
		if err := tx.QueryRow(ctx, claimRefreshToken, used, hash).Scan(&loginID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errAlreadyUsed
			}
			return err
		}
		if next.LoginID != loginID {
			return fmt.Errorf("next refresh token of login %q given for a token of login %q", next.LoginID, loginID)
		}
		if err := insertRefreshTokenIn(ctx, tx, next); err != nil {
			return err
		}
		return recordAudit(ctx, tx, ev)
	})
	if errors.Is(err, errAlreadyUsed) {
		return false, nil
	}
	if err != nil {
		return false, s.fail(err)
	}
	return true, nil
}
