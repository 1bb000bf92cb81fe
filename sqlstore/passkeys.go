package sqlstore

import (
	"context"
	"strings"

	"github.com/gatehouse/gatehouse"
)

const (
	passkeyColumns = `id, user_id, name, credential_id, public_key, attestation_type, aaguid, sign_count, backup_eligible, backup_state, transports, created_at, last_used_at`
	passkeysByUser = `SELECT ` + passkeyColumns + ` FROM passkeys WHERE user_id = $1 ORDER BY created_at, id`
	passkeyByCred  = `SELECT ` + passkeyColumns + ` FROM passkeys WHERE credential_id = $1`
	passkeyByID    = `SELECT ` + passkeyColumns + ` FROM passkeys WHERE id = $1 AND user_id = $2`
	// insertPasskey does nothing for a credential id registered already.
	insertPasskey = `INSERT INTO passkeys (` + passkeyColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (credential_id) DO NOTHING`
	renamePasskey = `UPDATE passkeys SET name = $3 WHERE id = $1 AND user_id = $2`
	deletePasskey = `DELETE FROM passkeys WHERE id = $1 AND user_id = $2`
	// usePasskey moves the counter forward only (or keeps it at zero, for
	// authenticators without one), so that of two sign-ins with the same
	// counter one fails.
	usePasskey = `UPDATE passkeys SET sign_count = $2, backup_eligible = $3, backup_state = $4, last_used_at = $5
		WHERE id = $1 AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))`
	insertWebAuthn = `INSERT INTO webauthn_challenges (hash, user_id, kind, sealed, expires_at) VALUES ($1, $2, $3, $4, $5)`
	spendWebAuthn  = `DELETE FROM webauthn_challenges WHERE hash = $1 AND kind = $2 RETURNING hash, user_id, kind, sealed, expires_at`
	expireWebAuthn = `DELETE FROM webauthn_challenges WHERE expires_at <= $1`
)

func scanPasskey(row Row) (gatehouse.Passkey, error) {
	var p gatehouse.Passkey
	var count, created, used int64
	var transports string
	err := row.Scan(&p.ID, &p.UserID, &p.Name, &p.CredentialID, &p.PublicKey, &p.AttestationType, &p.AAGUID,
		&count, &p.BackupEligible, &p.BackupState, &transports, &created, &used)
	p.SignCount = uint32(count)
	p.Transports = strings.Fields(transports)
	p.CreatedAt, p.LastUsedAt = fromUnixNano(created), fromUnixNano(used)
	return p, err
}

// Passkeys returns the user's passkeys, oldest first.
func (s *Store) Passkeys(ctx context.Context, userID string) ([]gatehouse.Passkey, error) {
	ps, err := collect(ctx, s.e.Read(), scanPasskey, passkeysByUser, userID)
	return ps, s.fail(err)
}

// PasskeyByCredentialID returns the passkey with that credential id, or
// CodeNotFound.
func (s *Store) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (gatehouse.Passkey, error) {
	p, err := scanPasskey(s.e.Read().QueryRow(ctx, passkeyByCred, credentialID))
	if err != nil {
		return gatehouse.Passkey{}, s.failOrNotFound(err, "passkey")
	}
	return p, nil
}

// AddPasskey stores p, queues mail and records ev.
func (s *Store) AddPasskey(ctx context.Context, p gatehouse.Passkey, mail []gatehouse.QueuedMail, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx Conn) error {
		aaguid := p.AAGUID
		if aaguid == nil {
			aaguid = []byte{}
		}
		n, err := tx.Exec(ctx, insertPasskey, p.ID, p.UserID, p.Name, p.CredentialID, p.PublicKey, p.AttestationType, aaguid,
			int64(p.SignCount), p.BackupEligible, p.BackupState, strings.Join(p.Transports, " "), unixNano(p.CreatedAt), unixNano(p.LastUsedAt))
		if err != nil {
			return err
		}
		if n == 0 {
			return gatehouse.Errorf(gatehouse.CodeInvalidCredential, "this passkey is registered already")
		}
		return queueAndRecord(ctx, tx, mail, ev)
	})
}

// RenamePasskey names the user's passkey and returns it.
func (s *Store) RenamePasskey(ctx context.Context, userID, id, name string) (gatehouse.Passkey, error) {
	var p gatehouse.Passkey
	err := s.inTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, renamePasskey, id, userID, name)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound("passkey")
		}
		p, err = scanPasskey(tx.QueryRow(ctx, passkeyByID, id, userID))
		return err
	})
	if err != nil {
		return gatehouse.Passkey{}, err
	}
	return p, nil
}

// DeletePasskey removes the user's passkey (and, with codes, their
// recovery codes), queues mail and records ev.
func (s *Store) DeletePasskey(ctx context.Context, userID, id string, codes bool, mail []gatehouse.QueuedMail, ev gatehouse.AuditEvent) error {
	return s.removeFactor(ctx, "passkey", userID, codes, mail, ev, deletePasskey, id, userID)
}

// UsePasskey records a sign-in with a passkey, moving its counter forward.
func (s *Store) UsePasskey(ctx context.Context, u gatehouse.PasskeyUse) error {
	n, err := s.e.Write().Exec(ctx, usePasskey, u.ID, int64(u.SignCount), u.BackupEligible, u.BackupState, unixNano(u.At))
	if err != nil {
		return s.fail(err)
	}
	if n == 0 {
		return gatehouse.Errorf(gatehouse.CodeInvalidCredentials, "that passkey cannot sign in")
	}
	return nil
}

// CreateWebAuthnChallenge stores c.
func (s *Store) CreateWebAuthnChallenge(ctx context.Context, c gatehouse.WebAuthnChallenge) error {
	_, err := s.e.Write().Exec(ctx, insertWebAuthn, c.Hash, c.UserID, c.Kind, c.Sealed, unixNano(c.ExpiresAt))
	return s.fail(err)
}

// SpendWebAuthnChallenge removes the ceremony and returns it.
func (s *Store) SpendWebAuthnChallenge(ctx context.Context, hash []byte, kind string) (gatehouse.WebAuthnChallenge, error) {
	var c gatehouse.WebAuthnChallenge
	var expires int64
	err := s.inTx(ctx, func(tx Conn) error {
		var n int
		err := tx.Query(ctx, func(row Row) error {
			n++
			return row.Scan(&c.Hash, &c.UserID, &c.Kind, &c.Sealed, &expires)
		}, spendWebAuthn, hash, kind)
		if err != nil {
			return err
		}
		if n != 1 {
			return notFound("ceremony")
		}
		return nil
	})
	if err != nil {
		return gatehouse.WebAuthnChallenge{}, err
	}
	c.ExpiresAt = fromUnixNano(expires)
	return c, nil
}
