package sqlstore

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse"
)

const (
	totpByUser = `SELECT user_id, sealed, confirmed, last_step, created_at FROM totp WHERE user_id = $1`
	// putTOTP replaces an unconfirmed TOTP only.
	putTOTP = `INSERT INTO totp (user_id, sealed, confirmed, last_step, created_at) VALUES ($1, $2, $3, 0, $4)
		ON CONFLICT (user_id) DO UPDATE SET sealed = excluded.sealed, created_at = excluded.created_at, last_step = 0
		WHERE totp.confirmed = $3`
	confirmTOTP  = `UPDATE totp SET confirmed = $3, last_step = $2 WHERE user_id = $1 AND confirmed = $4 AND last_step < $2`
	useTOTPStep  = `UPDATE totp SET last_step = $2 WHERE user_id = $1 AND confirmed = $3 AND last_step < $2`
	deleteTOTP   = `DELETE FROM totp WHERE user_id = $1`
	deleteCodes  = `DELETE FROM recovery_codes WHERE user_id = $1`
	insertCode   = `INSERT INTO recovery_codes (user_id, hash) VALUES ($1, $2)`
	useCode      = `DELETE FROM recovery_codes WHERE user_id = $1 AND hash = $2`
	countCodes   = `SELECT count(*) FROM recovery_codes WHERE user_id = $1`
	insertMFA    = `INSERT INTO mfa_challenges (hash, user_id, mode, remember, device, failures, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $7)`
	mfaByHash    = `SELECT hash, user_id, mode, remember, device, failures, created_at, expires_at FROM mfa_challenges WHERE hash = $1`
	failMFA      = `UPDATE mfa_challenges SET failures = failures + 1 WHERE hash = $1 RETURNING failures`
	deleteMFA    = `DELETE FROM mfa_challenges WHERE hash = $1`
	expireMFA    = `DELETE FROM mfa_challenges WHERE expires_at <= $1`
	expireTokens = `DELETE FROM email_tokens WHERE expires_at <= $1`
)

// TOTP returns the user's TOTP, or CodeNotFound.
func (s *Store) TOTP(ctx context.Context, userID string) (gatehouse.TOTP, error) {
	var t gatehouse.TOTP
	var created int64
	err := s.e.Read().QueryRow(ctx, totpByUser, userID).Scan(&t.UserID, &t.Sealed, &t.Confirmed, &t.LastStep, &created)
	if err != nil {
		return gatehouse.TOTP{}, s.failOrNotFound(err, "TOTP")
	}
	t.CreatedAt = fromUnixNano(created)
	return t, nil
}

// PutTOTP stores t in place of an unconfirmed TOTP and records ev;
// CodeAlreadyEnrolled when the user's TOTP is confirmed.
func (s *Store) PutTOTP(ctx context.Context, t gatehouse.TOTP, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, putTOTP, t.UserID, t.Sealed, false, unixNano(t.CreatedAt))
		if err != nil {
			return err
		}
		if n == 0 {
			return gatehouse.Errorf(gatehouse.CodeAlreadyEnrolled, "an authenticator app is already set up")
		}
		return recordAudit(ctx, tx, ev)
	})
}

// ConfirmTOTP confirms the user's TOTP at step, replaces their recovery
// codes, queues mail and records ev.
func (s *Store) ConfirmTOTP(ctx context.Context, userID string, step int64, codes [][]byte, mail []gatehouse.QueuedMail, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, confirmTOTP, userID, step, true, false)
		if err != nil {
			return err
		}
		if n == 0 {
			return invalidCode()
		}
		if err := replaceCodes(ctx, tx, userID, codes); err != nil {
			return err
		}
		return queueAndRecord(ctx, tx, mail, ev)
	})
}

func invalidCode() error { return gatehouse.Errorf(gatehouse.CodeInvalidCode, "the code is not right") }

func replaceCodes(ctx context.Context, tx Conn, userID string, codes [][]byte) error {
	if _, err := tx.Exec(ctx, deleteCodes, userID); err != nil {
		return err
	}
	for _, h := range codes {
		if _, err := tx.Exec(ctx, insertCode, userID, h); err != nil {
			return err
		}
	}
	return nil
}

// UseTOTPStep records step as the last used if it is after the last.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	n, err := s.e.Write().Exec(ctx, useTOTPStep, userID, step, true)
	if err != nil {
		return s.fail(err)
	}
	if n == 0 {
		return invalidCode()
	}
	return nil
}

// DeleteTOTP removes the user's TOTP (and, with codes, their recovery
// codes), queues mail and records ev.
func (s *Store) DeleteTOTP(ctx context.Context, userID string, codes bool, mail []gatehouse.QueuedMail, ev gatehouse.AuditEvent) error {
	return s.removeFactor(ctx, "TOTP", userID, codes, mail, ev, deleteTOTP, userID)
}

// removeFactor runs remove (with args), which deletes one factor of the
// user's, and, with codes, deletes their recovery codes, queues mail and
// records ev, in one transaction; CodeNotFound (what) when remove deleted
// nothing.
func (s *Store) removeFactor(ctx context.Context, what, userID string, codes bool, mail []gatehouse.QueuedMail, ev gatehouse.AuditEvent, remove string, args ...any) error {
	return s.inTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, remove, args...)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound(what)
		}
		if codes {
			if _, err := tx.Exec(ctx, deleteCodes, userID); err != nil {
				return err
			}
		}
		return queueAndRecord(ctx, tx, mail, ev)
	})
}

// queueAndRecord ends a write: its mail queued, its event recorded.
func queueAndRecord(ctx context.Context, tx Conn, mail []gatehouse.QueuedMail, ev gatehouse.AuditEvent) error {
	if err := queueMail(ctx, tx, mail); err != nil {
		return err
	}
	return recordAudit(ctx, tx, ev)
}

// SetRecoveryCodes replaces the user's recovery codes and records ev.
func (s *Store) SetRecoveryCodes(ctx context.Context, userID string, codes [][]byte, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx Conn) error {
		if err := replaceCodes(ctx, tx, userID, codes); err != nil {
			return err
		}
		return recordAudit(ctx, tx, ev)
	})
}

// UseRecoveryCode removes one recovery code, queues mail and records ev.
func (s *Store) UseRecoveryCode(ctx context.Context, userID string, hash []byte, mail []gatehouse.QueuedMail, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, useCode, userID, hash)
		if err != nil {
			return err
		}
		if n == 0 {
			return invalidCode()
		}
		return queueAndRecord(ctx, tx, mail, ev)
	})
}

// RecoveryCodesLeft counts the user's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	var n int
	if err := s.e.Read().QueryRow(ctx, countCodes, userID).Scan(&n); err != nil {
		return 0, s.fail(err)
	}
	return n, nil
}

// CreateMFAChallenge stores c.
func (s *Store) CreateMFAChallenge(ctx context.Context, c gatehouse.MFAChallenge) error {
	_, err := s.e.Write().Exec(ctx, insertMFA, c.Hash, c.UserID, string(c.Mode), c.Remember, c.Device, unixNano(c.CreatedAt), unixNano(c.ExpiresAt))
	return s.fail(err)
}

// MFAChallenge returns the challenge with that hash, or CodeNotFound.
func (s *Store) MFAChallenge(ctx context.Context, hash []byte) (gatehouse.MFAChallenge, error) {
	var c gatehouse.MFAChallenge
	var mode string
	var created, expires int64
	err := s.e.Read().QueryRow(ctx, mfaByHash, hash).Scan(&c.Hash, &c.UserID, &mode, &c.Remember, &c.Device, &c.Failures, &created, &expires)
	if err != nil {
		return gatehouse.MFAChallenge{}, s.failOrNotFound(err, "challenge")
	}
	c.Mode, c.CreatedAt, c.ExpiresAt = gatehouse.Mode(mode), fromUnixNano(created), fromUnixNano(expires)
	return c, nil
}

// FailMFAChallenge counts a wrong code and ends the challenge at max.
func (s *Store) FailMFAChallenge(ctx context.Context, hash []byte, max int) (int, error) {
	var failures int
	err := s.inTx(ctx, func(tx Conn) error {
		if err := tx.QueryRow(ctx, failMFA, hash).Scan(&failures); err != nil {
			return err
		}
		if failures >= max {
			_, err := tx.Exec(ctx, deleteMFA, hash)
			return err
		}
		return nil
	})
	if err != nil {
		return 0, s.failOrNotFound(err, "challenge")
	}
	return failures, nil
}

// SpendMFAChallenge removes the challenge; CodeInvalidToken when gone.
func (s *Store) SpendMFAChallenge(ctx context.Context, hash []byte) error {
	n, err := s.e.Write().Exec(ctx, deleteMFA, hash)
	if err != nil {
		return s.fail(err)
	}
	if n == 0 {
		return gatehouse.Errorf(gatehouse.CodeInvalidToken, "the sign-in expired; start again")
	}
	return nil
}

// DeleteExpiredChallenges removes MFA challenges and email tokens expired
// at now.
func (s *Store) DeleteExpiredChallenges(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for _, q := range []string{expireMFA, expireWebAuthn, expireTokens} {
		n, err := s.e.Write().Exec(ctx, q, unixNano(now))
		if err != nil {
			return total, s.fail(err)
		}
		total += int(n)
	}
	return total, nil
}
