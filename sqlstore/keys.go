package sqlstore

import (
	"context"

	"github.com/gatehouse/gatehouse"
)

const (
	insertKey = `INSERT INTO signing_keys (id, alg, sealed, created_at) VALUES ($1, $2, $3, $4)`
	deleteKey = `DELETE FROM signing_keys WHERE id = $1`
)

// CreateKey inserts a signing key and records ev. An id in use is an error
// (CodeUnavailable) and records nothing.
func (s *Store) CreateKey(ctx context.Context, k gatehouse.SigningKey, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx Conn) error {
		if _, err := tx.Exec(ctx, insertKey, k.ID, k.Alg, k.Sealed, unixNano(k.CreatedAt)); err != nil {
			return err
		}
		return recordAudit(ctx, tx, ev)
	})
}

// ListKeys returns every key, newest first. Keys with the same CreatedAt
// (a stopped test clock) come in reverse order of insertion, so the key
// added last is still first (see Engine.KeySeq).
func (s *Store) ListKeys(ctx context.Context) ([]gatehouse.SigningKey, error) {
	keys, err := collect(ctx, s.e.Read(), scanKey, s.listKeys)
	if err != nil {
		return nil, s.fail(err)
	}
	return keys, nil
}

// DeleteKey removes a key that can no longer have valid tokens. Deleting a
// key that is not there is not an error, so that several servers may prune
// the same key.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	_, err := s.e.Write().Exec(ctx, deleteKey, id)
	return s.fail(err)
}

func scanKey(row Row) (gatehouse.SigningKey, error) {
	var k gatehouse.SigningKey
	var created int64
	if err := row.Scan(&k.ID, &k.Alg, &k.Sealed, &created); err != nil {
		return gatehouse.SigningKey{}, err
	}
	k.CreatedAt = fromUnixNano(created)
	return k, nil
}
