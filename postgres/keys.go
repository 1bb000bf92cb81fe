package postgres

import (
	"context"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

// CreateKey inserts a signing key and records ev. An id in use is an error
// (CodeUnavailable) and records nothing.
func (s *Store) CreateKey(ctx context.Context, k gatehouse.SigningKey, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx,
			`INSERT INTO signing_keys (id, alg, sealed, created_at) VALUES ($1, $2, $3, $4)`,
			k.ID, k.Alg, k.Sealed, unixNano(k.CreatedAt))
		if err != nil {
			return err
		}
		return recordAudit(ctx, tx, ev)
	})
}

// ListKeys returns every key, newest first. Keys with the same CreatedAt
// (a stopped test clock) come in reverse order of insertion, so the key
// added last is still first: seq, an identity column, grows with each
// insert.
func (s *Store) ListKeys(ctx context.Context) ([]gatehouse.SigningKey, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT id, alg, sealed, created_at FROM signing_keys ORDER BY created_at DESC, seq DESC`)
	if err != nil {
		return nil, storeError(err)
	}
	defer rows.Close()
	var keys []gatehouse.SigningKey
	for rows.Next() {
		var k gatehouse.SigningKey
		var created int64
		if err := rows.Scan(&k.ID, &k.Alg, &k.Sealed, &created); err != nil {
			return nil, storeError(err)
		}
		k.CreatedAt = fromUnixNano(created)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, storeError(err)
	}
	return keys, nil
}

// DeleteKey removes a key that can no longer have valid tokens. Deleting a
// key that is not there is not an error, so that several servers may prune
// the same key.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	_, err := s.exec(ctx, `DELETE FROM signing_keys WHERE id = $1`, id)
	return err
}
