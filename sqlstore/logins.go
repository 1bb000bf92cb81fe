package sqlstore

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse"
)

const loginColumns = `id, user_id, mode, secret_hash, device, ip, user_agent, remember,
	created_at, last_seen_at, expires_at, idle_expires_at, aal, amr`

// readLoginColumns are the columns scanLogin reads: app_id is NULL but
// for oidc logins, and a Login's AppID is "" then.
const readLoginColumns = loginColumns + `, COALESCE(app_id, '')`

const (
	insertLogin = `INSERT INTO logins (` + loginColumns + `, app_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`
	loginByID   = `SELECT ` + readLoginColumns + ` FROM logins WHERE id = $1`
	listLogins  = ListLoginsQuery
	// ListLoginsQuery is a user's live logins, newest first; exported for
	// the engines' tests of its plan.
	ListLoginsQuery = `SELECT ` + readLoginColumns + ` FROM logins
		WHERE user_id = $1 AND expires_at > $2 AND (idle_expires_at = 0 OR idle_expires_at > $2)
		ORDER BY created_at DESC, id DESC`
	touchLogin = `UPDATE logins SET last_seen_at = $1, idle_expires_at = $2 WHERE id = $3`
	// Ids are never empty, so an empty KeepLoginID keeps none.
	revokeAllBut  = `DELETE FROM logins WHERE user_id = $1 AND id <> $2 RETURNING id`
	revokeOne     = `DELETE FROM logins WHERE user_id = $1 AND id = $2 RETURNING id`
	insertFeed    = `INSERT INTO revocations (login_id, user_id, reason, at) VALUES ($1, $2, $3, $4)`
	deleteExpired = `DELETE FROM logins WHERE expires_at <= $1 OR (idle_expires_at <> 0 AND idle_expires_at <= $1)`
	countLive     = `SELECT count(*) FROM logins WHERE expires_at > $1 AND (idle_expires_at = 0 OR idle_expires_at > $1)`
)

// sessionQuery reads a session and its user in one statement; every
// request with a cookie runs it, and both engines prepare it once per
// connection. It leaves out what is known without it (the hash, the mode,
// the user id), as each column costs decoding.
const sessionQuery = `SELECT l.id, l.device, l.ip, l.user_agent, l.remember,
	l.created_at, l.last_seen_at, l.expires_at, l.idle_expires_at, l.aal, l.amr,
	u.id, u.email, u.password_hash, u.roles, u.disabled, u.email_verified, u.created_at
FROM logins l JOIN users u ON u.id = l.user_id
WHERE l.secret_hash = $1 AND l.mode = 'session'`

// CreateLogin inserts l and records ev.
func (s *Store) CreateLogin(ctx context.Context, l gatehouse.Login, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx Conn) error {
		if err := insertLoginIn(ctx, tx, l); err != nil {
			return err
		}
		return recordAudit(ctx, tx, ev)
	})
}

// InsertLogins inserts logins in tx, without audit events: the stores'
// tests fill a store with it.
func InsertLogins(ctx context.Context, tx Conn, logins []gatehouse.Login) error {
	for _, l := range logins {
		if err := insertLoginIn(ctx, tx, l); err != nil {
			return err
		}
	}
	return nil
}

func insertLoginIn(ctx context.Context, tx Conn, l gatehouse.Login) error {
	var hash any // NULL when there is none, which UNIQUE allows many times
	if len(l.SecretHash) > 0 {
		hash = l.SecretHash
	}
	var app any // NULL but for an oidc login
	if l.AppID != "" {
		app = l.AppID
	}
	_, err := tx.Exec(ctx, insertLogin,
		l.ID, l.UserID, string(l.Mode), hash, l.Device, l.IP, l.UserAgent, l.Remember,
		unixNano(l.CreatedAt), unixNano(l.LastSeenAt), unixNano(l.ExpiresAt), unixNano(l.IdleExpiresAt),
		aalOf(l), gatehouse.AMRString(amrOf(l)), app)
	return err
}

// SessionBySecretHash returns the session login with that secret hash and
// its user in one read, or CodeNotFound. It does not look at deadlines: the
// caller decides whether the login is still live.
func (s *Store) SessionBySecretHash(ctx context.Context, hash []byte) (gatehouse.Login, gatehouse.User, error) {
	var (
		l                                         gatehouse.Login
		u                                         gatehouse.User
		amr                                       string
		created, seen, expires, idle, userCreated int64
	)
	err := s.e.Read().QueryRow(ctx, sessionQuery, hash).Scan(
		&l.ID, &l.Device, &l.IP, &l.UserAgent, &l.Remember,
		&created, &seen, &expires, &idle, &l.AAL, &amr,
		&u.ID, &u.Email, &u.PasswordHash, s.e.ScanRoles(&u.Roles), &u.Disabled, &u.EmailVerified, &userCreated)
	if err != nil {
		return gatehouse.Login{}, gatehouse.User{}, s.failOrNotFound(err, "session")
	}
	u.Roles = noRoles(u.Roles)
	l.UserID, l.Mode, l.SecretHash, l.AMR = u.ID, gatehouse.ModeSession, bytes.Clone(hash), gatehouse.ParseAMR(amr)
	l.CreatedAt, l.LastSeenAt = fromUnixNano(created), fromUnixNano(seen)
	l.ExpiresAt, l.IdleExpiresAt = fromUnixNano(expires), fromUnixNano(idle)
	u.CreatedAt = fromUnixNano(userCreated)
	return l, u, nil
}

// LoginByID returns one login of either mode, or CodeNotFound.
func (s *Store) LoginByID(ctx context.Context, id string) (gatehouse.Login, error) {
	l, err := scanLogin(s.e.Read().QueryRow(ctx, loginByID, id))
	if err != nil {
		return gatehouse.Login{}, s.failOrNotFound(err, "login")
	}
	return l, nil
}

// ListLogins returns the user's logins still live at now, newest first;
// logins created at the same time in descending id order (byte order).
func (s *Store) ListLogins(ctx context.Context, userID string, now time.Time) ([]gatehouse.Login, error) {
	logins, err := collect(ctx, s.e.Read(), scanLogin, listLogins, userID, unixNano(now))
	if err != nil {
		return nil, s.fail(err)
	}
	return logins, nil
}

// TouchLogin records activity: the new last-seen time and idle deadline.
// A login that no longer exists is CodeNotFound.
func (s *Store) TouchLogin(ctx context.Context, id string, seen, idleExpires time.Time) error {
	n, err := s.e.Write().Exec(ctx, touchLogin, unixNano(seen), unixNano(idleExpires), id)
	if err != nil {
		return s.fail(err)
	}
	if n == 0 {
		return notFound("login")
	}
	return nil
}

// RevokeLogins removes the logins r selects, only ever among r.UserID's,
// adds one entry per revoked login to the revocation feed, and records ev
// when at least one was revoked, all in one transaction. It returns the
// revoked ids in id order. Their refresh tokens go with them (a foreign
// key cascades).
func (s *Store) RevokeLogins(ctx context.Context, r gatehouse.Revocation, ev gatehouse.AuditEvent) ([]string, error) {
	var revoked []string
	err := s.inTx(ctx, func(tx Conn) error {
		var err error
		revoked, err = s.revokeLogins(ctx, tx, r)
		if err != nil || len(revoked) == 0 {
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
// revocation feed, in id order. It returns nil when it revoked none.
func (s *Store) revokeLogins(ctx context.Context, tx Conn, r gatehouse.Revocation) ([]string, error) {
	query, arg := revokeAllBut, r.KeepLoginID
	if r.LoginID != "" {
		query, arg = revokeOne, r.LoginID
	}
	ids, err := collect(ctx, tx, scanString, query, r.UserID, arg)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	slices.Sort(ids)
	return ids, s.addToFeed(ctx, tx, r.UserID, r.Reason, r.At, ids...)
}

// addToFeed adds one feed entry per login id, in the order given.
func (s *Store) addToFeed(ctx context.Context, tx Conn, userID, reason string, at time.Time, loginIDs ...string) error {
	if err := s.e.LockFeed(ctx, tx); err != nil {
		return err
	}
	for _, id := range loginIDs {
		if _, err := tx.Exec(ctx, insertFeed, id, userID, reason, unixNano(at)); err != nil {
			return err
		}
	}
	return nil
}

// DeleteExpiredLogins removes logins whose absolute or idle deadline has
// passed at now, with their refresh tokens, and returns how many logins.
// Expiry adds nothing to the revocation feed: every holder can see a
// deadline pass.
func (s *Store) DeleteExpiredLogins(ctx context.Context, now time.Time) (int, error) {
	n, err := s.e.Write().Exec(ctx, deleteExpired, unixNano(now))
	if err != nil {
		return 0, s.fail(err)
	}
	return int(n), nil
}

// CountLiveLogins counts the logins of both modes live at now.
func (s *Store) CountLiveLogins(ctx context.Context, now time.Time) (int, error) {
	var count int64
	if err := s.e.Read().QueryRow(ctx, countLive, unixNano(now)).Scan(&count); err != nil {
		return 0, s.fail(err)
	}
	return int(count), nil
}

func scanLogin(row Row) (gatehouse.Login, error) {
	var l gatehouse.Login
	var mode, amr string
	var created, seen, expires, idle int64
	if err := row.Scan(&l.ID, &l.UserID, &mode, &l.SecretHash, &l.Device, &l.IP, &l.UserAgent, &l.Remember,
		&created, &seen, &expires, &idle, &l.AAL, &amr, &l.AppID); err != nil {
		return gatehouse.Login{}, err
	}
	l.Mode, l.AMR = gatehouse.Mode(mode), gatehouse.ParseAMR(amr)
	l.CreatedAt, l.LastSeenAt = fromUnixNano(created), fromUnixNano(seen)
	l.ExpiresAt, l.IdleExpiresAt = fromUnixNano(expires), fromUnixNano(idle)
	return l, nil
}

// aalOf and amrOf are a login's assurance as stored: a login made
// without saying is a password login at AAL1.
func aalOf(l gatehouse.Login) int { return max(l.AAL, gatehouse.AAL1) }
func amrOf(l gatehouse.Login) []string {
	if len(l.AMR) == 0 {
		return []string{gatehouse.AMRPassword}
	}
	return l.AMR
}

func scanString(row Row) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}
