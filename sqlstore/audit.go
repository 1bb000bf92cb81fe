package sqlstore

import (
	"context"

	"github.com/gatehouse/gatehouse"
)

const (
	insertAudit   = `INSERT INTO audit_events (at, type, user_id, ip, detail) VALUES ($1, $2, $3, $4, $5)`
	listAudit     = `SELECT at, type, user_id, ip, detail FROM audit_events ORDER BY id DESC LIMIT $1`
	listUserAudit = `SELECT at, type, user_id, ip, detail FROM audit_events WHERE user_id = $1 ORDER BY id DESC LIMIT $2`
)

// RecordAudit appends an event that comes with no other change.
func (s *Store) RecordAudit(ctx context.Context, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx Conn) error { return recordAudit(ctx, tx, ev) })
}

func recordAudit(ctx context.Context, tx Conn, ev gatehouse.AuditEvent) error {
	_, err := tx.Exec(ctx, insertAudit, unixNano(ev.At), ev.Type, ev.UserID, ev.IP, ev.Detail)
	return err
}

// ListAudit returns up to limit events, newest first, of one user when
// userID is not empty. A limit below one returns none. Newest means last
// recorded: events recorded at the same time by concurrent transactions
// come in the order of their ids, not of their commits.
func (s *Store) ListAudit(ctx context.Context, userID string, limit int) ([]gatehouse.AuditEvent, error) {
	if limit < 1 {
		return nil, nil
	}
	query, args := listAudit, []any{limit}
	if userID != "" {
		query, args = listUserAudit, []any{userID, limit}
	}
	events, err := collect(ctx, s.e.Read(), scanAudit, query, args...)
	if err != nil {
		return nil, s.fail(err)
	}
	return events, nil
}

func scanAudit(row Row) (gatehouse.AuditEvent, error) {
	var ev gatehouse.AuditEvent
	var at int64
	if err := row.Scan(&at, &ev.Type, &ev.UserID, &ev.IP, &ev.Detail); err != nil {
		return gatehouse.AuditEvent{}, err
	}
	ev.At = fromUnixNano(at)
	return ev, nil
}
