package sqlite

import (
	"context"
	"math"
	"time"

	"github.com/gatehouse/gatehouse"
)

// The two forms of the feed's query. SQLite would always narrow by Seq
// (the rowid), which reads the whole history when after is 0; a reader
// without a position wants only what is recent (since), so that form
// names the index on at. INDEXED BY also makes the statement fail, rather
// than go slow, if the index is ever dropped.
const (
	revocationsBySeq = `SELECT id, login_id, user_id, reason, at FROM revocations
		WHERE id > ? AND at >= ? ORDER BY id LIMIT ?`
	revocationsBySince = `SELECT id, login_id, user_id, reason, at FROM revocations INDEXED BY revocations_at
		WHERE id > ? AND at >= ? ORDER BY id LIMIT ?`
)

// RevocationsAfter returns up to limit feed entries with Seq > after and
// At >= since, in Seq order; the zero since selects every time. A limit
// below one returns none. Seq is the row id, which AUTOINCREMENT never
// reuses, and as SQLite has one writer at a time, entries become visible
// in Seq order: a reader that resumes after the last Seq it saw misses
// none.
func (s *Store) RevocationsAfter(ctx context.Context, after int64, since time.Time, limit int) ([]gatehouse.RevocationEvent, error) {
	if limit < 1 {
		return nil, nil
	}
	query, from := revocationsBySeq, int64(math.MinInt64)
	if !since.IsZero() {
		from = since.UnixNano()
		if after <= 0 {
			query = revocationsBySince
		}
	}
	rows, err := s.read.QueryContext(ctx, query, after, from, limit)
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
