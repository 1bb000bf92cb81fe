package postgres

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

const userColumns = `id, email, password_hash, roles, disabled, created_at`

// CreateUser inserts u and records ev; an existing email is CodeEmailTaken.
func (s *Store) CreateUser(ctx context.Context, u gatehouse.User, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx,
			`INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			u.ID, u.Email, u.PasswordHash, encodeRoles(u.Roles), u.Disabled, unixNano(u.CreatedAt))
		if err != nil {
			return err
		}
		return recordAudit(ctx, tx, ev)
	})
}

// UserByID returns the user with that id, or CodeNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (gatehouse.User, error) {
	return s.user(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
}

// UserByEmail returns the user with that normalised email, or CodeNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (gatehouse.User, error) {
	return s.user(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, email)
}

func (s *Store) user(ctx context.Context, query string, arg string) (gatehouse.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, query, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return gatehouse.User{}, notFound("user")
	}
	if err != nil {
		return gatehouse.User{}, storeError(err)
	}
	return u, nil
}

// ListUsers returns up to limit users whose ids sort after the given one,
// in id order: byte order, as the ids are COLLATE "C". A limit below one
// returns none.
func (s *Store) ListUsers(ctx context.Context, after string, limit int) ([]gatehouse.User, error) {
	if limit < 1 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx,
		`SELECT `+userColumns+` FROM users WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, storeError(err)
	}
	defer rows.Close()
	var users []gatehouse.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, storeError(err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, storeError(err)
	}
	return users, nil
}

// UpdateUser writes u's password hash, roles and disabled flag, revokes
// the logins that revoke selects when it is not nil, and records events,
// all in one transaction. It returns the revoked ids, or CodeNotFound
// (having changed nothing) when the user does not exist. A revoke whose
// Reason is gatehouse.ReasonRolesChanged revokes no login and adds one
// feed entry with an empty login id, as in RevokeLogins.
func (s *Store) UpdateUser(ctx context.Context, u gatehouse.User, revoke *gatehouse.Revocation, events ...gatehouse.AuditEvent) ([]string, error) {
	var revoked []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		revoked = nil
		tag, err := tx.Exec(ctx,
			`UPDATE users SET password_hash = $1, roles = $2, disabled = $3 WHERE id = $4`,
			u.PasswordHash, encodeRoles(u.Roles), u.Disabled, u.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("user")
		}
		if revoke != nil {
			if revoked, err = revokeLogins(ctx, tx, *revoke); err != nil {
				return err
			}
		}
		for _, ev := range events {
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

func scanUser(row pgx.Row) (gatehouse.User, error) {
	var u gatehouse.User
	var created int64
	if err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Roles, &u.Disabled, &created); err != nil {
		return gatehouse.User{}, err
	}
	u.Roles = decodeRoles(u.Roles)
	u.CreatedAt = fromUnixNano(created)
	return u, nil
}
