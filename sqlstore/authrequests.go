package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

const authRequestColumns = `id, app_id, redirect_uri, scopes, request, user_id, auth_time, aal, amr, ip, user_agent,
	code_hash, code_expires_at, code_used_at, login_id, created_at, expires_at`

const (
	insertAuthRequest = `INSERT INTO auth_requests (` + authRequestColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`
	authRequestByID   = `SELECT ` + authRequestColumns + ` FROM auth_requests WHERE id = $1`
	authRequestByCode = `SELECT ` + authRequestColumns + ` FROM auth_requests WHERE code_hash = $1`
	completeAuthUser  = `UPDATE auth_requests SET user_id = $1, auth_time = $2, aal = $3, amr = $4, ip = $5, user_agent = $6
		WHERE id = $7 AND code_hash IS NULL`
	completeAuthCode = `UPDATE auth_requests SET code_hash = $1, code_expires_at = $2
		WHERE id = $3 AND code_hash IS NULL AND user_id <> ''`
	claimAuthCode      = `UPDATE auth_requests SET code_used_at = $1, login_id = $2 WHERE code_hash = $3 AND code_used_at = 0`
	insertAppGrant     = `INSERT INTO app_grants (login_id, app_id, scopes, auth_time) VALUES ($1, $2, $3, $4)`
	appGrantByLogin    = `SELECT app_id, scopes, auth_time FROM app_grants WHERE login_id = $1`
	expireAuthRequests = `DELETE FROM auth_requests WHERE expires_at <= $1`
)

// errCodeSpent rolls back an exchange that lost; it never leaves
// ExchangeAuthCode.
var errCodeSpent = errors.New("authorization code already exchanged or gone")

// CreateAuthRequest stores r.
func (s *Store) CreateAuthRequest(ctx context.Context, r gatehouse.AuthRequest) error {
	var code any // NULL until issued, which UNIQUE allows many times
	if len(r.CodeHash) > 0 {
		code = r.CodeHash
	}
	_, err := s.e.Write().Exec(ctx, insertAuthRequest,
		r.ID, r.AppID, r.RedirectURI, strings.Join(r.Scopes, " "), nonNil(r.Request), r.UserID, unixNano(r.AuthTime),
		r.AAL, gatehouse.AMRString(r.AMR), r.IP, r.UserAgent, code, unixNano(r.CodeExpiresAt), unixNano(r.CodeUsedAt),
		r.LoginID, unixNano(r.CreatedAt), unixNano(r.ExpiresAt))
	return s.fail(err)
}

// AuthRequest returns the request with that id, or CodeNotFound.
func (s *Store) AuthRequest(ctx context.Context, id string) (gatehouse.AuthRequest, error) {
	r, err := scanAuthRequest(s.e.Read().QueryRow(ctx, authRequestByID, id))
	return r, s.failOrNotFound(err, "authorization request")
}

// AuthRequestByCode returns the request whose code has that hash, or
// CodeNotFound.
func (s *Store) AuthRequestByCode(ctx context.Context, codeHash []byte) (gatehouse.AuthRequest, error) {
	r, err := scanAuthRequest(s.e.Read().QueryRow(ctx, authRequestByCode, codeHash))
	return r, s.failOrNotFound(err, "authorization code")
}

func scanAuthRequest(row Row) (gatehouse.AuthRequest, error) {
	var (
		r                                                 gatehouse.AuthRequest
		scopes, amr                                       string
		authTime, codeExpires, codeUsed, created, expires int64
	)
	err := row.Scan(&r.ID, &r.AppID, &r.RedirectURI, &scopes, &r.Request, &r.UserID, &authTime, &r.AAL, &amr,
		&r.IP, &r.UserAgent, &r.CodeHash, &codeExpires, &codeUsed, &r.LoginID, &created, &expires)
	if err != nil {
		return gatehouse.AuthRequest{}, err
	}
	if len(r.CodeHash) == 0 {
		r.CodeHash = nil
	}
	r.Scopes, r.AMR = strings.Fields(scopes), gatehouse.ParseAMR(amr)
	r.AuthTime, r.CodeExpiresAt, r.CodeUsedAt = fromUnixNano(authTime), fromUnixNano(codeExpires), fromUnixNano(codeUsed)
	r.CreatedAt, r.ExpiresAt = fromUnixNano(created), fromUnixNano(expires)
	return r, nil
}

// CompleteAuthRequest writes who completed the request, or, when
// r.CodeHash is set, its code, to the request r.ID whose code is not yet
// issued (and, for the code, that was completed); CodeNotFound when there
// is none.
func (s *Store) CompleteAuthRequest(ctx context.Context, r gatehouse.AuthRequest) error {
	var (
		n   int64
		err error
	)
	if len(r.CodeHash) > 0 {
		n, err = s.e.Write().Exec(ctx, completeAuthCode, r.CodeHash, unixNano(r.CodeExpiresAt), r.ID)
	} else {
		n, err = s.e.Write().Exec(ctx, completeAuthUser, r.UserID, unixNano(r.AuthTime), r.AAL,
			gatehouse.AMRString(r.AMR), r.IP, r.UserAgent, r.ID)
	}
	if err != nil {
		return s.fail(err)
	}
	if n == 0 {
		return notFound("authorization request")
	}
	return nil
}

// ExchangeAuthCode marks the code exchanged and inserts the login it
// makes, with its refresh token and grant, and records ev, in one
// transaction; false, with nothing changed, when the code was exchanged
// already or is gone. The claim is one conditional UPDATE (code_used_at =
// 0) in a write transaction, so of concurrent exchanges one wins, as in
// RotateRefreshToken. l must be an oidc login, rt (if any) and g its own;
// otherwise the call fails (CodeUnavailable) and changes nothing.
func (s *Store) ExchangeAuthCode(ctx context.Context, codeHash []byte, l gatehouse.Login, rt *gatehouse.RefreshToken, g gatehouse.AppGrant, ev gatehouse.AuditEvent) (bool, error) {
	switch {
	case l.Mode != gatehouse.ModeOIDC:
		return false, gatehouse.Unavailable(fmt.Errorf("ExchangeAuthCode of a login in mode %q", l.Mode))
	case rt != nil && rt.LoginID != l.ID, g.LoginID != l.ID:
		return false, gatehouse.Unavailable(fmt.Errorf("refresh token or grant given with another login than %q", l.ID))
	case l.CreatedAt.IsZero():
		return false, gatehouse.Unavailable(errors.New("ExchangeAuthCode with a login without CreatedAt"))
	}
	err := s.e.InTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, claimAuthCode, unixNano(l.CreatedAt), l.ID, codeHash)
		if err != nil {
			return err
		}
		if n == 0 {
			return errCodeSpent
		}
		if err := insertLoginIn(ctx, tx, l); err != nil {
			return err
		}
		if rt != nil {
			if err := insertRefreshTokenIn(ctx, tx, *rt); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, insertAppGrant, g.LoginID, g.AppID, strings.Join(g.Scopes, " "), unixNano(g.AuthTime)); err != nil {
			return err
		}
		return recordAudit(ctx, tx, ev)
	})
	if errors.Is(err, errCodeSpent) {
		return false, nil
	}
	if err != nil {
		return false, s.fail(err)
	}
	return true, nil
}

// AppGrant returns the grant of an app's login, or CodeNotFound.
func (s *Store) AppGrant(ctx context.Context, loginID string) (gatehouse.AppGrant, error) {
	g := gatehouse.AppGrant{LoginID: loginID}
	var (
		scopes   string
		authTime int64
	)
	err := s.e.Read().QueryRow(ctx, appGrantByLogin, loginID).Scan(&g.AppID, &scopes, &authTime)
	if errors.Is(err, sql.ErrNoRows) {
		return gatehouse.AppGrant{}, notFound("grant")
	}
	if err != nil {
		return gatehouse.AppGrant{}, s.fail(err)
	}
	g.Scopes, g.AuthTime = strings.Fields(scopes), fromUnixNano(authTime)
	return g, nil
}

// DeleteExpiredAuthRequests removes the requests expired at now.
func (s *Store) DeleteExpiredAuthRequests(ctx context.Context, now time.Time) (int, error) {
	n, err := s.e.Write().Exec(ctx, expireAuthRequests, unixNano(now))
	return int(n), s.fail(err)
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return bytes.Clone(b)
}
