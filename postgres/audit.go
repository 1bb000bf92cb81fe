package postgres

import (
	"context"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

// RecordAudit appends an event that comes with no other change.
func (s *Store) RecordAudit(ctx context.Context, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return recordAudit(ctx, tx, ev) })
}

// ListAudit returns up to limit events, newest first, of one user when
// userID is not empty. A limit below one returns none. Newest means last
// recorded: events recorded at the same time by concurrent transactions
// come in the order of their ids, not of their commits.
func (s *Store) ListAudit(ctx context.Context, userID string, limit int) ([]gatehouse.AuditEvent, error) {
	if limit < 1 {
		return nil, nil
	}
	query := `SELECT at, type, user_id, ip, detail FROM audit_events ORDER BY id DESC LIMIT $1`
	args := []any{limit}
	if userID != "" {
		query = `SELECT at, type, user_id, ip, detail FROM audit_events WHERE user_id = $1 ORDER BY id DESC LIMIT $2`
		args = []any{userID, limit}
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, storeError(err)
	}
	defer rows.Close()
	var events []gatehouse.AuditEvent
	for rows.Next() {
		var ev gatehouse.AuditEvent
		var at int64
		if err := rows.Scan(&at, &ev.Type, &ev.UserID, &ev.IP, &ev.Detail); err != nil {
			return nil, storeError(err)
		}
		ev.At = fromUnixNano(at)
		events = append(events, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, storeError(err)
	}
	return events, nil
}
