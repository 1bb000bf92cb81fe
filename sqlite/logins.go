package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse"
)

const loginColumns = `id, user_id, mode, secret_hash, device, ip, user_agent, remember,
	created_at, last_seen_at, expires_at, idle_expires_at`

// sessionQuery reads a session and its user in one statement; it is
// prepared once, at open, because every request with a cookie runs it. It
// leaves out what is known without it (the hash, the mode, the user id), as
// each column costs allocations.
const sessionQuery = `SELECT l.id, l.device, l.ip, l.user_agent, l.remember,
	l.created_at, l.last_seen_at, l.expires_at, l.idle_expires_at,
	u.id, u.email, u.password_hash, u.roles, u.disabled, u.created_at
FROM logins l JOIN users u ON u.id = l.user_id
WHERE l.secret_hash = ? AND l.mode = 'session'`

// CreateLogin inserts l and records ev.
func (s *Store) CreateLogin(ctx context.Context, l gatehouse.Login, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := insertLogin(ctx, tx, l); err != nil {
			return err
		}
		return recordAudit(ctx, tx, ev)
	})
}

func insertLogin(ctx context.Context, tx *sql.Tx, l gatehouse.Login) error {
	var hash any // NULL when there is none, which UNIQUE allows many times
	if len(l.SecretHash) > 0 {
		hash = l.SecretHash
	}
	_, err := tx.ExecContext(ctx,
		`INSERT INTO logins (`+loginColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.ID, l.UserID, string(l.Mode), hash, l.Device, l.IP, l.UserAgent, l.Remember,
		unixNano(l.CreatedAt), unixNano(l.LastSeenAt), unixNano(l.ExpiresAt), unixNano(l.IdleExpiresAt))
	return err
}

// SessionBySecretHash returns the session login with that secret hash and
// its user in one read, or CodeNotFound. It does not look at deadlines: the
// caller decides whether the login is still live.
func (s *Store) SessionBySecretHash(ctx context.Context, hash []byte) (gatehouse.Login, gatehouse.User, error) {
	var (
		l                                         gatehouse.Login
		u                                         gatehouse.User
		roles                                     string
		created, seen, expires, idle, userCreated int64
	)
	err := s.session.QueryRowContext(ctx, hash).Scan(
		&l.ID, &l.Device, &l.IP, &l.UserAgent, &l.Remember,
		&created, &seen, &expires, &idle,
		&u.ID, &u.Email, &u.PasswordHash, &roles, &u.Disabled, &userCreated)
	if errors.Is(err, sql.ErrNoRows) {
		return gatehouse.Login{}, gatehouse.User{}, notFound("session")
	}
	if err != nil {
		return gatehouse.Login{}, gatehouse.User{}, storeError(err)
	}
	if u.Roles, err = decodeRoles(roles); err != nil {
		return gatehouse.Login{}, gatehouse.User{}, storeError(err)
	}
	l.UserID, l.Mode, l.SecretHash = u.ID, gatehouse.ModeSession, bytes.Clone(hash)
	l.CreatedAt, l.LastSeenAt = fromUnixNano(created), fromUnixNano(seen)
	l.ExpiresAt, l.IdleExpiresAt = fromUnixNano(expires), fromUnixNano(idle)
	u.CreatedAt = fromUnixNano(userCreated)
	return l, u, nil
}

// LoginByID returns one login of either mode, or CodeNotFound.
func (s *Store) LoginByID(ctx context.Context, id string) (gatehouse.Login, error) {
	l, err := scanLogin(s.read.QueryRowContext(ctx, `SELECT `+loginColumns+` FROM logins WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return gatehouse.Login{}, notFound("login")
	}
	if err != nil {
		return gatehouse.Login{}, storeError(err)
	}
	return l, nil
}

// ListLogins returns the user's logins still live at now, newest first.
func (s *Store) ListLogins(ctx context.Context, userID string, now time.Time) ([]gatehouse.Login, error) {
	n := unixNano(now)
	rows, err := s.read.QueryContext(ctx, `SELECT `+loginColumns+` FROM logins
		WHERE user_id = ? AND expires_at > ? AND (idle_expires_at = 0 OR idle_expires_at > ?)
		ORDER BY created_at DESC, id DESC`, userID, n, n)
	if err != nil {
		return nil, storeError(err)
	}
	defer rows.Close()
	var logins []gatehouse.Login
	for rows.Next() {
		l, err := scanLogin(rows)
		if err != nil {
			return nil, storeError(err)
		}
		logins = append(logins, l)
	}
	if err := rows.Err(); err != nil {
		return nil, storeError(err)
	}
	return logins, nil
}

// TouchLogin records activity: the new last-seen time and idle deadline.
// A login that no longer exists is CodeNotFound.
func (s *Store) TouchLogin(ctx context.Context, id string, seen, idleExpires time.Time) error {
	res, err := s.write.ExecContext(ctx,
		`UPDATE logins SET last_seen_at = ?, idle_expires_at = ? WHERE id = ?`,
		unixNano(seen), unixNano(idleExpires), id)
	if err != nil {
		return storeError(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return storeError(err)
	}
	if n == 0 {
		return notFound("login")
	}
	return nil
}

// RevokeLogins removes the logins r selects, only ever among r.UserID's,
// adds one row per revoked login to the revocation feed, and records ev
// when at least one was revoked, all in one transaction. It returns the
// revoked ids in id order. Their refresh tokens go with them.
//
// A Revocation whose Reason is gatehouse.ReasonRolesChanged revokes no
// login whatever its LoginID and KeepLoginID: it adds one feed row for
// r.UserID with an empty login id, records ev and returns no ids.
func (s *Store) RevokeLogins(ctx context.Context, r gatehouse.Revocation, ev gatehouse.AuditEvent) ([]string, error) {
	var revoked []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		revoked, err = revokeLogins(ctx, tx, r)
		if err != nil || (len(revoked) == 0 && r.Reason != gatehouse.ReasonRolesChanged) {
			return err
		}
		return recordAudit(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	return revoked, nil
}

// revokeLogins deletes the logins r selects and adds them to the
// revocation feed; for ReasonRolesChanged it deletes none and adds one
// entry with an empty login id. Ids are never empty, so an empty
// KeepLoginID keeps none.
func revokeLogins(ctx context.Context, tx *sql.Tx, r gatehouse.Revocation) ([]string, error) {
	if r.Reason == gatehouse.ReasonRolesChanged {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO revocations (login_id, user_id, reason, at) VALUES ('', ?, ?, ?)`,
			r.UserID, r.Reason, unixNano(r.At))
		return nil, err
	}
	query := `DELETE FROM logins WHERE user_id = ? AND id <> ? RETURNING id`
	arg := r.KeepLoginID
	if r.LoginID != "" {
		query = `DELETE FROM logins WHERE user_id = ? AND id = ? RETURNING id`
		arg = r.LoginID
	}
	rows, err := tx.QueryContext(ctx, query, r.UserID, arg)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	slices.Sort(ids)
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO revocations (login_id, user_id, reason, at) VALUES (?, ?, ?, ?)`,
			id, r.UserID, r.Reason, unixNano(r.At)); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// DeleteExpiredLogins removes logins whose absolute or idle deadline has
// passed at now, with their refresh tokens, and returns how many logins.
// Expiry adds nothing to the revocation feed: every holder can see a
// deadline pass.
func (s *Store) DeleteExpiredLogins(ctx context.Context, now time.Time) (int, error) {
	n := unixNano(now)
	res, err := s.write.ExecContext(ctx,
		`DELETE FROM logins WHERE expires_at <= ? OR (idle_expires_at <> 0 AND idle_expires_at <= ?)`, n, n)
	if err != nil {
		return 0, storeError(err)
	}
	deleted, err := res.RowsAffected()
	if err != nil {
		return 0, storeError(err)
	}
	return int(deleted), nil
}

// CountLiveLogins counts the logins of both modes live at now.
func (s *Store) CountLiveLogins(ctx context.Context, now time.Time) (int, error) {
	n := unixNano(now)
	var count int
	err := s.read.QueryRowContext(ctx,
		`SELECT count(*) FROM logins WHERE expires_at > ? AND (idle_expires_at = 0 OR idle_expires_at > ?)`, n, n).Scan(&count)
	if err != nil {
		return 0, storeError(err)
	}
	return count, nil
}

func scanLogin(row scanner) (gatehouse.Login, error) {
	var l gatehouse.Login
	var mode string
	var created, seen, expires, idle int64
	if err := row.Scan(&l.ID, &l.UserID, &mode, &l.SecretHash, &l.Device, &l.IP, &l.UserAgent, &l.Remember,
		&created, &seen, &expires, &idle); err != nil {
		return gatehouse.Login{}, err
	}
	l.Mode = gatehouse.Mode(mode)
	l.CreatedAt, l.LastSeenAt = fromUnixNano(created), fromUnixNano(seen)
	l.ExpiresAt, l.IdleExpiresAt = fromUnixNano(expires), fromUnixNano(idle)
	return l, nil
}
