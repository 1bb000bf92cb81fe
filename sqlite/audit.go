package sqlite

import (
	"context"
	"database/sql"

	"github.com/gatehouse/gatehouse"
)

// RecordAudit appends an event that comes with no other change.
func (s *Store) RecordAudit(ctx context.Context, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return recordAudit(ctx, tx, ev) })
}

// ListAudit returns up to limit events, newest first, of one user when
// userID is not empty. A limit below one returns none.
func (s *Store) ListAudit(ctx context.Context, userID string, limit int) ([]gatehouse.AuditEvent, error) {
	if limit < 1 {
		return nil, nil
	}
	query := `SELECT at, type, user_id, ip, detail FROM audit_events ORDER BY id DESC LIMIT ?`
	args := []any{limit}
	if userID != "" {
		query = `SELECT at, type, user_id, ip, detail FROM audit_events WHERE user_id = ? ORDER BY id DESC LIMIT ?`
		args = []any{userID, limit}
	}
	rows, err := s.read.QueryContext(ctx, query, args...)
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
