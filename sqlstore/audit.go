package sqlstore

import (
	"context"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

const insertAudit = `INSERT INTO audit_events (at, type, user_id, ip, detail) VALUES ($1, $2, $3, $4, $5)`

// RecordAudit appends an event that comes with no other change.
func (s *Store) RecordAudit(ctx context.Context, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx Conn) error { return recordAudit(ctx, tx, ev) })
}

func recordAudit(ctx context.Context, tx Conn, ev gatehouse.AuditEvent) error {
	_, err := tx.Exec(ctx, insertAudit, unixNano(ev.At), ev.Type, ev.UserID, ev.IP, ev.Detail)
	return err
}

// ListAudit returns up to q.Limit events that q selects, newest first. A
// limit below one returns none. Newest means last recorded: events
// recorded at the same time by concurrent transactions come in the order
// of their ids, not of their commits.
func (s *Store) ListAudit(ctx context.Context, q gatehouse.AuditQuery) ([]gatehouse.AuditEvent, error) {
	if q.Limit < 1 {
		return nil, nil
	}
	query, args := auditQuery(q)
	events, err := collect(ctx, s.e.Read(), scanAudit, query, args...)
	if err != nil {
		return nil, s.fail(err)
	}
	return events, nil
}

// auditQuery returns the statement that selects q's events and its
// arguments. A user's events are found through the index on (user_id, id).
func auditQuery(q gatehouse.AuditQuery) (string, []any) {
	var where []string
	var args []any
	cond := func(c string, arg any) {
		args = append(args, arg)
		where = append(where, c+" $"+strconv.Itoa(len(args)))
	}
	if q.UserID != "" {
		cond("user_id =", q.UserID)
	}
	if q.Type != "" {
		cond("type =", q.Type)
	}
	if q.Before > 0 {
		cond("id <", q.Before)
	}
	query := `SELECT id, at, type, user_id, ip, detail FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, q.Limit)
	return query + ` ORDER BY id DESC LIMIT $` + strconv.Itoa(len(args)), args
}

func scanAudit(row Row) (gatehouse.AuditEvent, error) {
	var ev gatehouse.AuditEvent
	var at int64
	if err := row.Scan(&ev.ID, &at, &ev.Type, &ev.UserID, &ev.IP, &ev.Detail); err != nil {
		return gatehouse.AuditEvent{}, err
	}
	ev.At = fromUnixNano(at)
	return ev, nil
}
