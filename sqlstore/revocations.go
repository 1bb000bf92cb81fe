package sqlstore

import (
	"context"
	"math"
	"time"

	"github.com/gatehouse/gatehouse"
)

// RevocationsQuery reads the revocation feed: $1 is the Seq to read after,
// $2 the earliest time in Unix nanoseconds, $3 the limit.
const RevocationsQuery = `SELECT id, login_id, user_id, reason, at FROM revocations
	WHERE id > $1 AND at >= $2 ORDER BY id LIMIT $3`

// RevocationsAfter returns up to limit feed entries with Seq > after and
// At >= since, in Seq order, with the statement Engine.FeedQuery gives;
// the zero since selects every time. A limit below one returns none. Seq
// is the row id, which is never reused; Seqs may have gaps.
func (s *Store) RevocationsAfter(ctx context.Context, after int64, since time.Time, limit int) ([]gatehouse.RevocationEvent, error) {
	if limit < 1 {
		return nil, nil
	}
	from := int64(math.MinInt64)
	if !since.IsZero() {
		from = since.UnixNano()
	}
	query, opts := s.e.FeedQuery(after, since)
	args := append(append(make([]any, 0, len(opts)+3), opts...), after, from, limit)
	events, err := collect(ctx, s.e.Read(), scanRevocation, query, args...)
	if err != nil {
		return nil, s.fail(err)
	}
	return events, nil
}

func scanRevocation(row Row) (gatehouse.RevocationEvent, error) {
	var ev gatehouse.RevocationEvent
	var at int64
	if err := row.Scan(&ev.Seq, &ev.LoginID, &ev.UserID, &ev.Reason, &at); err != nil {
		return gatehouse.RevocationEvent{}, err
	}
	ev.At = fromUnixNano(at)
	return ev, nil
}
