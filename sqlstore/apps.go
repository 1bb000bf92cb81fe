package sqlstore

import (
	"cmp"
	"context"
	"slices"

	"github.com/gatehouse/gatehouse"
)

// The URI lists of apps and the scopes of consents are lists of strings
// stored as users.roles is (a JSON array in SQLite, TEXT[] in
// PostgreSQL), so they go through Engine.RolesArg and Engine.ScanRoles.
const (
	appColumns = `id, name, secret_hash, redirect_uris, post_logout_uris, public, trusted, created_at`
	insertApp  = `INSERT INTO apps (` + appColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	appByID    = `SELECT ` + appColumns + ` FROM apps WHERE id = $1`
	listApps   = `SELECT ` + appColumns + ` FROM apps ORDER BY created_at, id`
	deleteApp  = `DELETE FROM apps WHERE id = $1`
	// An app's logins go before the app: logins.app_id does not cascade,
	// so that none leaves without a feed entry.
	revokeAppLogins = `DELETE FROM logins WHERE app_id = $1 RETURNING id, user_id`

	putConsent = `INSERT INTO consents (user_id, app_id, scopes, granted_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id, app_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at`
	consentOf           = `SELECT user_id, app_id, scopes, granted_at FROM consents WHERE user_id = $1 AND app_id = $2`
	listConsents        = `SELECT user_id, app_id, scopes, granted_at FROM consents WHERE user_id = $1 ORDER BY granted_at DESC, app_id`
	deleteConsent       = `DELETE FROM consents WHERE user_id = $1 AND app_id = $2`
	revokeAppUserLogins = `DELETE FROM logins WHERE user_id = $1 AND app_id = $2 RETURNING id`
)

// CreateApp inserts a and records ev, in one transaction.
func (s *Store) CreateApp(ctx context.Context, a gatehouse.App, ev gatehouse.AuditEvent) error {
	redirect, err := s.e.RolesArg(a.RedirectURIs)
	if err != nil {
		return s.fail(err)
	}
	logout, err := s.e.RolesArg(a.PostLogoutURIs)
	if err != nil {
		return s.fail(err)
	}
	var hash any // NULL for a public app
	if len(a.SecretHash) > 0 {
		hash = a.SecretHash
	}
	return s.inTx(ctx, func(tx Conn) error {
		if _, err := tx.Exec(ctx, insertApp, a.ID, a.Name, hash, redirect, logout, a.Public, a.Trusted, unixNano(a.CreatedAt)); err != nil {
			return err
		}
		return recordAudit(ctx, tx, ev)
	})
}

// AppByID returns one app or CodeNotFound.
func (s *Store) AppByID(ctx context.Context, id string) (gatehouse.App, error) {
	a, err := s.scanApp(s.e.Read().QueryRow(ctx, appByID, id))
	if err != nil {
		return gatehouse.App{}, s.failOrNotFound(err, "client")
	}
	return a, nil
}

// ListApps returns every app, oldest first, then in id order.
func (s *Store) ListApps(ctx context.Context) ([]gatehouse.App, error) {
	apps, err := collect(ctx, s.e.Read(), s.scanApp, listApps)
	if err != nil {
		return nil, s.fail(err)
	}
	return apps, nil
}

// DeleteApp removes the app with its consents (a foreign key cascades),
// revokes its logins with their refresh tokens onto the revocation feed
// (ReasonRevoked, at ev.At, in login id order) and records ev, in one
// transaction. It returns the revoked login ids, or CodeNotFound.
func (s *Store) DeleteApp(ctx context.Context, id string, ev gatehouse.AuditEvent) ([]string, error) {
	type login struct{ id, userID string }
	var revoked []string
	err := s.inTx(ctx, func(tx Conn) error {
		revoked = nil
		logins, err := collect(ctx, tx, func(row Row) (login, error) {
			var l login
			return l, row.Scan(&l.id, &l.userID)
		}, revokeAppLogins, id)
		if err != nil {
			return err
		}
		n, err := tx.Exec(ctx, deleteApp, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound("client")
		}
		if len(logins) > 0 {
			slices.SortFunc(logins, func(a, b login) int { return cmp.Compare(a.id, b.id) })
			if err := s.e.LockFeed(ctx, tx); err != nil {
				return err
			}
			for _, l := range logins {
				if _, err := tx.Exec(ctx, insertFeed, l.id, l.userID, gatehouse.ReasonRevoked, unixNano(ev.At)); err != nil {
					return err
				}
				revoked = append(revoked, l.id)
			}
		}
		return recordAudit(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	return revoked, nil
}

// PutConsent inserts c, or replaces the user's consent to that app, and
// records ev, in one transaction.
func (s *Store) PutConsent(ctx context.Context, c gatehouse.Consent, ev gatehouse.AuditEvent) error {
	scopes, err := s.e.RolesArg(c.Scopes)
	if err != nil {
		return s.fail(err)
	}
	return s.inTx(ctx, func(tx Conn) error {
		if _, err := tx.Exec(ctx, putConsent, c.UserID, c.AppID, scopes, unixNano(c.GrantedAt)); err != nil {
			return err
		}
		return recordAudit(ctx, tx, ev)
	})
}

// ConsentOf returns the user's consent to the app or CodeNotFound.
func (s *Store) ConsentOf(ctx context.Context, userID, appID string) (gatehouse.Consent, error) {
	c, err := s.scanConsent(s.e.Read().QueryRow(ctx, consentOf, userID, appID))
	if err != nil {
		return gatehouse.Consent{}, s.failOrNotFound(err, "consent")
	}
	return c, nil
}

// ListConsents returns the user's consents, most recent first, then in
// app id order.
func (s *Store) ListConsents(ctx context.Context, userID string) ([]gatehouse.Consent, error) {
	consents, err := collect(ctx, s.e.Read(), s.scanConsent, listConsents, userID)
	if err != nil {
		return nil, s.fail(err)
	}
	return consents, nil
}

// DeleteConsent removes the user's consent to the app, revokes the
// user's logins of the app with their refresh tokens onto the revocation
// feed (ReasonRevoked, at ev.At, in id order) and records ev, in one
// transaction. It returns the revoked login ids, or CodeNotFound.
func (s *Store) DeleteConsent(ctx context.Context, userID, appID string, ev gatehouse.AuditEvent) ([]string, error) {
	var revoked []string
	err := s.inTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, deleteConsent, userID, appID)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound("consent")
		}
		revoked, err = collect(ctx, tx, scanString, revokeAppUserLogins, userID, appID)
		if err != nil {
			return err
		}
		if len(revoked) > 0 {
			slices.Sort(revoked)
			if err := s.addToFeed(ctx, tx, userID, gatehouse.ReasonRevoked, ev.At, revoked...); err != nil {
				return err
			}
		}
		return recordAudit(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	return revoked, nil
}

func (s *Store) scanApp(row Row) (gatehouse.App, error) {
	var a gatehouse.App
	var created int64
	if err := row.Scan(&a.ID, &a.Name, &a.SecretHash, s.e.ScanRoles(&a.RedirectURIs), s.e.ScanRoles(&a.PostLogoutURIs),
		&a.Public, &a.Trusted, &created); err != nil {
		return gatehouse.App{}, err
	}
	a.RedirectURIs, a.PostLogoutURIs = noRoles(a.RedirectURIs), noRoles(a.PostLogoutURIs)
	a.CreatedAt = fromUnixNano(created)
	return a, nil
}

func (s *Store) scanConsent(row Row) (gatehouse.Consent, error) {
	var c gatehouse.Consent
	var granted int64
	if err := row.Scan(&c.UserID, &c.AppID, s.e.ScanRoles(&c.Scopes), &granted); err != nil {
		return gatehouse.Consent{}, err
	}
	c.Scopes = noRoles(c.Scopes)
	c.GrantedAt = fromUnixNano(granted)
	return c, nil
}
