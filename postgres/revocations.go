package postgres

import (
	"context"
	"math"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

// feedLockID is the key of the transaction-level advisory lock that every
// transaction takes before it adds to the revocation feed ("gatehous" in
// ASCII; advisory locks are per database).
//
// The feed's Seq is an identity column, and a sequence hands out numbers
// in the order they are asked for, not in the order their transactions
// commit: without the lock, a transaction could take Seq 7, another Seq 8
// and commit first, and a reader that saw 8 would resume after it and
// never see 7. Under the lock, a transaction takes its Seqs only after
// every earlier adder has committed (or rolled back, leaving a gap that
// readers skip), and it holds the lock until it commits, so rows become
// visible in Seq order, as gatehouse.RevocationFeed requires. The lock is
// taken after the logins are deleted, and its holder then only inserts
// and commits, so it is held briefly and no holder waits for a row lock
// (no deadlock). An advisory lock rather than LOCK TABLE, which would also
// queue behind autovacuum.
const feedLockID int64 = 0x67617465686f7573

// addToFeed adds one feed row per login id, in the order given, at r.At.
func addToFeed(ctx context.Context, tx pgx.Tx, r gatehouse.Revocation, loginIDs []string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, feedLockID); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO revocations (login_id, user_id, reason, at)
		SELECT l.id, $2, $3, $4 FROM unnest($1::text[]) WITH ORDINALITY AS l (id, n) ORDER BY l.n`,
		loginIDs, r.UserID, r.Reason, unixNano(r.At))
	return err
}

const revocationsQuery = `SELECT id, login_id, user_id, reason, at FROM revocations
	WHERE id > $1 AND at >= $2 ORDER BY id LIMIT $3`

// RevocationsAfter returns up to limit feed entries with Seq > after and
// At >= since, in Seq order; the zero since selects every time. A limit
// below one returns none. Entries become visible in Seq order (see
// feedLockID), so a reader that resumes after the last Seq it saw misses
// none; Seqs may have gaps.
func (s *Store) RevocationsAfter(ctx context.Context, after int64, since time.Time, limit int) ([]gatehouse.RevocationEvent, error) {
	if limit < 1 {
		return nil, nil
	}
	from := int64(math.MinInt64)
	if !since.IsZero() {
		from = since.UnixNano()
	}
	// Planned afresh for each call (QueryExecModeExec), with the values at
	// hand: a reader without a position (after 0) wants the few recent
	// entries, which the index on at finds, while a plan cached for any
	// value would walk the whole history by Seq. A reader polls about once
	// a second, so the planning costs little.
	rows, err := s.pool.Query(ctx, revocationsQuery, pgx.QueryExecModeExec, after, from, limit)
	if err != nil {
		return nil, storeError(err)
	}
	defer rows.Close()
	var events []gatehouse.RevocationEvent
	for rows.Next() {
		var ev gatehouse.RevocationEvent
		var at int64
		if err := rows.Scan(&ev.Seq, &ev.LoginID, &ev.UserID, &ev.Reason, &at); err != nil {
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
