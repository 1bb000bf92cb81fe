package postgres

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

const loginColumns = `id, user_id, mode, secret_hash, device, ip, user_agent, remember,
	created_at, last_seen_at, expires_at, idle_expires_at`

// sessionQuery reads a session and its user in one statement; every
// request with a cookie runs it, and pgx prepares it once per connection.
// It leaves out what is known without it (the hash, the mode, the user
// id), as each column costs decoding.
const sessionQuery = `SELECT l.id, l.device, l.ip, l.user_agent, l.remember,
	l.created_at, l.last_seen_at, l.expires_at, l.idle_expires_at,
	u.id, u.email, u.password_hash, u.roles, u.disabled, u.created_at
FROM logins l JOIN users u ON u.id = l.user_id
WHERE l.secret_hash = $1 AND l.mode = 'session'`

// CreateLogin inserts l and records ev.
func (s *Store) CreateLogin(ctx context.Context, l gatehouse.Login, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if err := insertLogin(ctx, tx, l); err != nil {
			return err
		}
		return recordAudit(ctx, tx, ev)
	})
}

func insertLogin(ctx context.Context, tx pgx.Tx, l gatehouse.Login) error {
	_, err := tx.Exec(ctx,
		`INSERT INTO logins (`+loginColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		l.ID, l.UserID, string(l.Mode), bytesOrNull(l.SecretHash), l.Device, l.IP, l.UserAgent, l.Remember,
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
		created, seen, expires, idle, userCreated int64
	)
	err := s.pool.QueryRow(ctx, sessionQuery, hash).Scan(
		&l.ID, &l.Device, &l.IP, &l.UserAgent, &l.Remember,
		&created, &seen, &expires, &idle,
		&u.ID, &u.Email, &u.PasswordHash, &u.Roles, &u.Disabled, &userCreated)
	if errors.Is(err, pgx.ErrNoRows) {
		return gatehouse.Login{}, gatehouse.User{}, notFound("session")
	}
	if err != nil {
		return gatehouse.Login{}, gatehouse.User{}, storeError(err)
	}
	u.Roles = decodeRoles(u.Roles)
	l.UserID, l.Mode, l.SecretHash = u.ID, gatehouse.ModeSession, bytes.Clone(hash)
	l.CreatedAt, l.LastSeenAt = fromUnixNano(created), fromUnixNano(seen)
	l.ExpiresAt, l.IdleExpiresAt = fromUnixNano(expires), fromUnixNano(idle)
	u.CreatedAt = fromUnixNano(userCreated)
	return l, u, nil
}

// LoginByID returns one login of either mode, or CodeNotFound.
func (s *Store) LoginByID(ctx context.Context, id string) (gatehouse.Login, error) {
	l, err := scanLogin(s.pool.QueryRow(ctx, `SELECT `+loginColumns+` FROM logins WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return gatehouse.Login{}, notFound("login")
	}
	if err != nil {
		return gatehouse.Login{}, storeError(err)
	}
	return l, nil
}

// ListLogins returns the user's logins still live at now, newest first;
// logins created at the same time in descending id order (byte order).
func (s *Store) ListLogins(ctx context.Context, userID string, now time.Time) ([]gatehouse.Login, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+loginColumns+` FROM logins
		WHERE user_id = $1 AND expires_at > $2 AND (idle_expires_at = 0 OR idle_expires_at > $2)
		ORDER BY created_at DESC, id DESC`, userID, unixNano(now))
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
	tag, err := s.exec(ctx,
		`UPDATE logins SET last_seen_at = $1, idle_expires_at = $2 WHERE id = $3`,
		unixNano(seen), unixNano(idleExpires), id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
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
	err := s.inTx(ctx, func(tx pgx.Tx) error {
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
// KeepLoginID keeps none. It returns nil when it revoked none.
func revokeLogins(ctx context.Context, tx pgx.Tx, r gatehouse.Revocation) ([]string, error) {
	if r.Reason == gatehouse.ReasonRolesChanged {
		return nil, addToFeed(ctx, tx, r, []string{""})
	}
	query := `DELETE FROM logins WHERE user_id = $1 AND id <> $2 RETURNING id`
	arg := r.KeepLoginID
	if r.LoginID != "" {
		query = `DELETE FROM logins WHERE user_id = $1 AND id = $2 RETURNING id`
		arg = r.LoginID
	}
	rows, err := tx.Query(ctx, query, r.UserID, arg)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	slices.Sort(ids)
	return ids, addToFeed(ctx, tx, r, ids)
}

// DeleteExpiredLogins removes logins whose absolute or idle deadline has
// passed at now, with their refresh tokens, and returns how many logins.
// Expiry adds nothing to the revocation feed: every holder can see a
// deadline pass.
func (s *Store) DeleteExpiredLogins(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.exec(ctx,
		`DELETE FROM logins WHERE expires_at <= $1 OR (idle_expires_at <> 0 AND idle_expires_at <= $1)`,
		unixNano(now))
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// CountLiveLogins counts the logins of both modes live at now.
func (s *Store) CountLiveLogins(ctx context.Context, now time.Time) (int, error) {
	var count int
	err := s.pool.QueryRow(ctx,
		`SELECT count(*) FROM logins WHERE expires_at > $1 AND (idle_expires_at = 0 OR idle_expires_at > $1)`,
		unixNano(now)).Scan(&count)
	if err != nil {
		return 0, storeError(err)
	}
	return count, nil
}

func scanLogin(row pgx.Row) (gatehouse.Login, error) {
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
