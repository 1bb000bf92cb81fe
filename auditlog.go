package gatehouse

import (
	"context"
	"log/slog"
)

// auditLogged is the Store with every audit event it records also written
// to the log as a structured "audit" line, once the change it records has
// been committed. Events carry no secrets, so neither does the line.
type auditLogged struct {
	Store
	log *slog.Logger
}

func (a auditLogged) logged(err error, events ...AuditEvent) error {
	if err == nil {
		for _, ev := range events {
			a.log.Info("audit", "type", ev.Type, "user", ev.UserID, "ip", ev.IP, "detail", ev.Detail, "at", ev.At)
		}
	}
	return err
}

func (a auditLogged) CreateUser(ctx context.Context, u User, ev AuditEvent) error {
	return a.logged(a.Store.CreateUser(ctx, u, ev), ev)
}

func (a auditLogged) UpdateUser(ctx context.Context, c UserChange) ([]string, error) {
	ids, err := a.Store.UpdateUser(ctx, c)
	return ids, a.logged(err, c.Events...)
}

func (a auditLogged) CreateEmailToken(ctx context.Context, t EmailToken, mail []QueuedMail, ev AuditEvent) error {
	return a.logged(a.Store.CreateEmailToken(ctx, t, mail, ev), ev)
}

func (a auditLogged) FinishMail(ctx context.Context, id int64, ev AuditEvent) error {
	return a.logged(a.Store.FinishMail(ctx, id, ev), ev)
}

func (a auditLogged) CreateLogin(ctx context.Context, l Login, ev AuditEvent) error {
	return a.logged(a.Store.CreateLogin(ctx, l, ev), ev)
}

func (a auditLogged) RevokeLogins(ctx context.Context, r Revocation, ev AuditEvent) ([]string, error) {
	ids, err := a.Store.RevokeLogins(ctx, r, ev)
	if len(ids) == 0 {
		return ids, err // nothing revoked, nothing recorded
	}
	return ids, a.logged(err, ev)
}

func (a auditLogged) CreateTokenLogin(ctx context.Context, l Login, rt RefreshToken, ev AuditEvent) error {
	return a.logged(a.Store.CreateTokenLogin(ctx, l, rt, ev), ev)
}

func (a auditLogged) RotateRefreshToken(ctx context.Context, hash []byte, next RefreshToken, ev AuditEvent) (bool, error) {
	won, err := a.Store.RotateRefreshToken(ctx, hash, next, ev)
	if !won {
		return won, err
	}
	return won, a.logged(err, ev)
}

func (a auditLogged) CreateKey(ctx context.Context, k SigningKey, ev AuditEvent) error {
	return a.logged(a.Store.CreateKey(ctx, k, ev), ev)
}

func (a auditLogged) RecordAudit(ctx context.Context, ev AuditEvent) error {
	return a.logged(a.Store.RecordAudit(ctx, ev), ev)
}

func (a auditLogged) PutTOTP(ctx context.Context, t TOTP, ev AuditEvent) error {
	return a.logged(a.Store.PutTOTP(ctx, t, ev), ev)
}

func (a auditLogged) ConfirmTOTP(ctx context.Context, userID string, step int64, codes [][]byte, mail []QueuedMail, ev AuditEvent) error {
	return a.logged(a.Store.ConfirmTOTP(ctx, userID, step, codes, mail, ev), ev)
}

func (a auditLogged) DeleteTOTP(ctx context.Context, userID string, codes bool, mail []QueuedMail, ev AuditEvent) error {
	return a.logged(a.Store.DeleteTOTP(ctx, userID, codes, mail, ev), ev)
}

func (a auditLogged) SetRecoveryCodes(ctx context.Context, userID string, codes [][]byte, ev AuditEvent) error {
	return a.logged(a.Store.SetRecoveryCodes(ctx, userID, codes, ev), ev)
}

func (a auditLogged) UseRecoveryCode(ctx context.Context, userID string, hash []byte, mail []QueuedMail, ev AuditEvent) error {
	return a.logged(a.Store.UseRecoveryCode(ctx, userID, hash, mail, ev), ev)
}

func (a auditLogged) ExchangeAuthCode(ctx context.Context, codeHash []byte, l Login, rt *RefreshToken, g AppGrant, ev AuditEvent) (bool, error) {
	won, err := a.Store.ExchangeAuthCode(ctx, codeHash, l, rt, g, ev)
	if !won {
		return won, err // nothing changed, nothing recorded
	}
	return won, a.logged(err, ev)
}
