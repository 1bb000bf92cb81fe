package sqlstore

import (
	"context"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse"
)

const (
	insertMail  = `INSERT INTO outbox (user_id, kind, sealed, created_at, next_at, attempts) VALUES ($1, $2, $3, $4, $5, $6)`
	deleteMail  = `DELETE FROM outbox WHERE id = $1`
	retryMail   = `UPDATE outbox SET attempts = $2, next_at = $3 WHERE id = $1`
	outboxStats = `SELECT count(*), coalesce(min(created_at), 0) FROM outbox`
)

// claimMail is ClaimMail's statement; %s is Engine.SkipLocked.
func claimMail(skipLocked string) string {
	return `UPDATE outbox SET next_at = $2 WHERE id IN (
		SELECT id FROM outbox WHERE next_at <= $1 ORDER BY id LIMIT $3` + skipLocked + `)
	RETURNING id, user_id, kind, sealed, created_at, next_at, attempts`
}

// queueMail adds messages to the outbox in the caller's transaction.
func queueMail(ctx context.Context, tx Conn, mail []gatehouse.QueuedMail) error {
	for _, m := range mail {
		if _, err := tx.Exec(ctx, insertMail, m.UserID, string(m.Kind), m.Sealed, unixNano(m.CreatedAt), unixNano(m.NextAt), m.Attempts); err != nil {
			return err
		}
	}
	return nil
}

// ClaimMail returns up to limit messages due at now, oldest first, with
// their NextAt moved to until. On PostgreSQL, rows another transaction is
// claiming are skipped rather than waited for.
func (s *Store) ClaimMail(ctx context.Context, now, until time.Time, limit int) ([]gatehouse.QueuedMail, error) {
	if limit < 1 {
		return nil, nil
	}
	var out []gatehouse.QueuedMail
	err := s.inTx(ctx, func(tx Conn) error {
		var err error
		out, err = collect(ctx, tx, scanMail, s.claimMail, unixNano(now), unixNano(until), limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b gatehouse.QueuedMail) int { return int(a.ID - b.ID) })
	return out, nil
}

func scanMail(row Row) (gatehouse.QueuedMail, error) {
	var m gatehouse.QueuedMail
	var kind string
	var created, next int64
	if err := row.Scan(&m.ID, &m.UserID, &kind, &m.Sealed, &created, &next, &m.Attempts); err != nil {
		return gatehouse.QueuedMail{}, err
	}
	m.Kind, m.CreatedAt, m.NextAt = gatehouse.MailKind(kind), fromUnixNano(created), fromUnixNano(next)
	return m, nil
}

// FinishMail deletes a message and records ev. A message already gone
// (finished by a server whose lease ran out) records nothing.
func (s *Store) FinishMail(ctx context.Context, id int64, ev gatehouse.AuditEvent) error {
	return s.inTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, deleteMail, id)
		if err != nil || n == 0 {
			return err
		}
		return recordAudit(ctx, tx, ev)
	})
}

// RetryMail sets a message's attempts and when it is next due.
func (s *Store) RetryMail(ctx context.Context, id int64, attempts int, next time.Time) error {
	_, err := s.e.Write().Exec(ctx, retryMail, id, attempts, unixNano(next))
	return s.fail(err)
}

// OutboxStats returns how many messages wait and when the oldest was
// queued.
func (s *Store) OutboxStats(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest int64
	if err := s.e.Read().QueryRow(ctx, outboxStats).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, s.fail(err)
	}
	return n, fromUnixNano(oldest), nil
}
