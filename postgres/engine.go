package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// engine is what the shared store runs on: PostgreSQL through a pgxpool
// pool, which prepares each statement once per connection.
type engine struct {
	pool        *pgxpool.Pool
	read, write sqlstore.Conn
}

func newEngine(pool *pgxpool.Pool) *engine {
	return &engine{pool: pool, read: conn{q: pool}, write: conn{q: pool, retry: true}}
}

// Read returns the pool.
func (e *engine) Read() sqlstore.Conn { return e.read }

// Write returns the pool, whose statements are retried as InTx retries
// transactions: outside a transaction, each statement is one of its own.
func (e *engine) Write() sqlstore.Conn { return e.write }

// InTx runs fn in one transaction and commits it when fn succeeds. A
// transaction that PostgreSQL aborted to break a deadlock (writers that
// delete the same logins in different orders, say) is run again from the
// start, a few times.
func (e *engine) InTx(ctx context.Context, fn func(tx sqlstore.Conn) error) error {
	var err error
	for range 3 {
		err = pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error { return fn(conn{q: tx}) })
		if !retryable(err) {
			break
		}
	}
	return err
}

// retryable reports whether err aborted a transaction that may succeed
// when run again: a deadlock or a serialisation failure.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// SQLSTATE of a unique violation, and the constraint on users.email.
const (
	uniqueViolation = "23505"
	emailConstraint = "users_email_key"
)

// EmailTaken reports whether err violates the constraint on users.email,
// which the schema names.
func (e *engine) EmailTaken(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == uniqueViolation && pe.ConstraintName == emailConstraint
}

// RolesArg returns roles for a TEXT[] NOT NULL column: pgx would send a
// nil slice as NULL.
func (e *engine) RolesArg(roles []string) (any, error) {
	if roles == nil {
		return []string{}, nil
	}
	return roles, nil
}

// ScanRoles scans the TEXT[] into roles as it is.
func (e *engine) ScanRoles(roles *[]string) any { return roles }

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
// taken after the logins are deleted and the user is updated, and its
// holder then only inserts and commits, so it is held briefly and no
// holder waits for a row lock (no deadlock). An advisory lock rather than
// LOCK TABLE, which would also queue behind autovacuum.
const feedLockID int64 = 0x67617465686f7573

// LockFeed takes the feed's lock (see feedLockID).
func (e *engine) LockFeed(ctx context.Context, tx sqlstore.Conn) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, feedLockID)
	return err
}

// planEach makes pgx plan a statement afresh for each call
// (QueryExecModeExec), with the values at hand, rather than prepare it.
var planEach = []any{pgx.QueryExecModeExec}

// FeedQuery returns sqlstore.RevocationsQuery, planned afresh for each
// call: a reader without a position (after 0) wants the few recent
// entries, which the index on at finds, while a plan cached for any
// value would walk the whole history by Seq. A reader polls about once a
// second, so the planning costs little.
func (e *engine) FeedQuery(int64, time.Time) (string, []any) {
	return sqlstore.RevocationsQuery, planEach
}

// KeySeq is an identity column that grows with each insert.
func (e *engine) KeySeq() string { return "seq" }

// querier is a *pgxpool.Pool or a pgx.Tx.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// conn runs statements on a querier.
type conn struct {
	q     querier
	retry bool // Exec retries a statement that PostgreSQL aborted (see retryable)
}

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	var tag pgconn.CommandTag
	var err error
	for range 3 {
		tag, err = c.q.Exec(ctx, query, args...)
		if !c.retry || !retryable(err) {
			break
		}
	}
	return tag.RowsAffected(), err
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return c.q.QueryRow(ctx, query, args...)
}

func (c conn) Query(ctx context.Context, each func(sqlstore.Row) error, query string, args ...any) error {
	rows, err := c.q.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SkipLocked makes concurrent claims of the outbox take different rows.
func (e *engine) SkipLocked() string { return " FOR UPDATE SKIP LOCKED" }
