package sqlstore

import (
	"context"

	"github.com/gatehouse/gatehouse"
)

const userColumns = `id, email, password_hash, roles, disabled, email_verified, created_at`

const (
	insertUser  = `INSERT INTO users (` + userColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	userByID    = `SELECT ` + userColumns + ` FROM users WHERE id = $1`
	userByEmail = `SELECT ` + userColumns + ` FROM users WHERE email = $1`
	listUsers   = `SELECT ` + userColumns + ` FROM users WHERE id > $1 ORDER BY id LIMIT $2`
	// listUsersByPrefix compares the start of the email with the prefix
	// rather than using LIKE, where '%' and '_' in the prefix would be
	// wildcards; substr and length count characters in both engines.
	listUsersByPrefix = `SELECT ` + userColumns + ` FROM users WHERE id > $1 AND substr(email, 1, length(CAST($3 AS TEXT))) = $3 ORDER BY id LIMIT $2`
	updateUser        = `UPDATE users SET email = $1, email_verified = $2, password_hash = $3, roles = $4, disabled = $5 WHERE id = $6`
	spendEmailToken   = `DELETE FROM email_tokens WHERE hash = $1 AND user_id = $2`
	retireEmailTokens = `DELETE FROM email_tokens WHERE user_id = $1 AND kind = $2`
)

// CreateUser inserts u and records ev; an existing email is CodeEmailTaken.
func (s *Store) CreateUser(ctx context.Context, u gatehouse.User, ev gatehouse.AuditEvent) error {
	roles, err := s.e.RolesArg(u.Roles)
	if err != nil {
		return gatehouse.Unavailable(err)
	}
	return s.inTx(ctx, func(tx Conn) error {
		if _, err := tx.Exec(ctx, insertUser, u.ID, u.Email, u.PasswordHash, roles, u.Disabled, u.EmailVerified, unixNano(u.CreatedAt)); err != nil {
			return err
		}
		return recordAudit(ctx, tx, ev)
	})
}

// UserByID returns the user with that id, or CodeNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (gatehouse.User, error) {
	return s.user(ctx, userByID, id)
}

// UserByEmail returns the user with that normalised email, or CodeNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (gatehouse.User, error) {
	return s.user(ctx, userByEmail, email)
}

func (s *Store) user(ctx context.Context, query, arg string) (gatehouse.User, error) {
	u, err := s.scanUser(s.e.Read().QueryRow(ctx, query, arg))
	if err != nil {
		return gatehouse.User{}, s.failOrNotFound(err, "user")
	}
	return u, nil
}

// ListUsers returns up to q.Limit users whose ids sort after q.After and
// whose emails start with q.EmailPrefix, in id order: byte order
// (PostgreSQL's ids are COLLATE "C"). A limit below one returns none.
func (s *Store) ListUsers(ctx context.Context, q gatehouse.UserQuery) ([]gatehouse.User, error) {
	if q.Limit < 1 {
		return nil, nil
	}
	query, args := listUsers, []any{q.After, q.Limit}
	if q.EmailPrefix != "" {
		query, args = listUsersByPrefix, append(args, q.EmailPrefix)
	}
	users, err := collect(ctx, s.e.Read(), s.scanUser, query, args...)
	if err != nil {
		return nil, s.fail(err)
	}
	return users, nil
}

// UpdateUser makes the change c describes in one transaction: it writes
// the user, spends and retires email tokens, revokes logins, adds to the
// revocation feed, queues mail and records events. It returns the revoked
// ids, or an error having changed nothing: CodeNotFound when the user does
// not exist, CodeInvalidToken when c.Spend is not the user's token,
// CodeEmailTaken when the email is another user's.
func (s *Store) UpdateUser(ctx context.Context, c gatehouse.UserChange) ([]string, error) {
	u := c.User
	roles, err := s.e.RolesArg(u.Roles)
	if err != nil {
		return nil, gatehouse.Unavailable(err)
	}
	var revoked []string
	err = s.inTx(ctx, func(tx Conn) error {
		revoked = nil
		n, err := tx.Exec(ctx, updateUser, u.Email, u.EmailVerified, u.PasswordHash, roles, u.Disabled, u.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound("user")
		}
		if c.Spend != nil {
			if n, err := tx.Exec(ctx, spendEmailToken, c.Spend, u.ID); err != nil {
				return err
			} else if n == 0 {
				return gatehouse.Errorf(gatehouse.CodeInvalidToken, "the link is not valid (used, expired or replaced by a newer one)")
			}
		}
		for _, kind := range c.Retire {
			if _, err := tx.Exec(ctx, retireEmailTokens, u.ID, string(kind)); err != nil {
				return err
			}
		}
		if c.Revoke != nil {
			if revoked, err = s.revokeLogins(ctx, tx, *c.Revoke); err != nil {
				return err
			}
		}
		if f := c.Feed; f != nil {
			if err := s.addToFeed(ctx, tx, f.UserID, f.Reason, f.At, f.LoginID); err != nil {
				return err
			}
		}
		if err := queueMail(ctx, tx, c.Mail); err != nil {
			return err
		}
		for _, ev := range c.Events {
			if err := recordAudit(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return revoked, nil
}

func (s *Store) scanUser(row Row) (gatehouse.User, error) {
	var u gatehouse.User
	var created int64
	if err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, s.e.ScanRoles(&u.Roles), &u.Disabled, &u.EmailVerified, &created); err != nil {
		return gatehouse.User{}, err
	}
	u.Roles = noRoles(u.Roles)
	u.CreatedAt = fromUnixNano(created)
	return u, nil
}

// noRoles returns nil for no roles, whichever way the engine gave them.
func noRoles(roles []string) []string {
	if len(roles) == 0 {
		return nil
	}
	return roles
}
