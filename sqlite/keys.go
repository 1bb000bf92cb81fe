package sqlite

import (
	"context"
	"database/sql"

	"github.com/gatehouse/gatehouse"
)

// CreateKey inserts a signing key and records ev. An id in use is an error
// (CodeUnavailable) and records nothing.
func (s *Store) CreateKey(ctx context.Context, k gatehouse.SigningKey, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO signing_keys (id, alg, sealed, created_at) VALUES (?, ?, ?, ?)`,
			k.ID, k.Alg, k.Sealed, unixNano(k.CreatedAt))
		if err != nil {
			return err
		}
		return recordAudit(ctx, tx, ev)
	})
}

// ListKeys returns every key, newest first. Keys with the same CreatedAt
// (a stopped test clock) come in reverse order of insertion, so the key
// added last is still first: rowid grows with each insert.
func (s *Store) ListKeys(ctx context.Context) ([]gatehouse.SigningKey, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT id, alg, sealed, created_at FROM signing_keys ORDER BY created_at DESC, rowid DESC`)
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
	_, err := s.write.ExecContext(ctx, `DELETE FROM signing_keys WHERE id = ?`, id)
	return storeError(err)
}
