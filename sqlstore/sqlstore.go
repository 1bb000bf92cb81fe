// Package sqlstore is the SQL that Gatehouse's two SQL stores share: every
// statement and row mapping that SQLite and PostgreSQL write alike, and the
// gatehouse.Store methods made of them. The sqlite and postgres packages
// give it an Engine, which holds what differs: the driver, the
// connections and transactions, locking, error recognition and the few
// statements the engines write each their own way. Migrations and
// connection settings stay in those packages too.
//
// Statements number their placeholders ($1, $2, …): PostgreSQL takes them,
// and modernc.org/sqlite binds $N to the Nth argument. Both schemas keep
// the same tables and columns (but for Engine.KeySeq). Times are integer
// Unix nanoseconds, the zero time.Time is 0, and they come back in UTC.
// Text columns that may be empty hold the empty string rather than NULL,
// except logins.secret_hash, which is NULL but for sessions,
// logins.app_id, NULL but for oidc logins (both so that their constraints
// concern only those), and apps.secret_hash, NULL for a public app.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Row is one row of a result.
type Row interface {
	Scan(dest ...any) error
}

// Conn runs statements on a pool of connections or in a transaction.
type Conn interface {
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// QueryRow runs a statement for its first row. When there is none,
	// the row's Scan returns an error that is sql.ErrNoRows (errors.Is;
	// pgx.ErrNoRows is).
	QueryRow(ctx context.Context, query string, args ...any) Row
	// Query runs a statement and calls each on every row in turn. It
	// stops at the first error, and returns it.
	Query(ctx context.Context, each func(Row) error, query string, args ...any) error
}

// Engine is what an adapter gives the store: its connections and
// transactions, and what its SQL does its own way.
type Engine interface {
	// Read returns where reads run.
	Read() Conn
	// Write returns where a write of one statement runs, outside a
	// transaction.
	Write() Conn
	// InTx runs fn in one write transaction and commits it when fn
	// succeeds. It may run fn again (after a deadlock, say), so fn sets
	// its results afresh each time.
	InTx(ctx context.Context, fn func(tx Conn) error) error
	// EmailTaken reports whether err violates the uniqueness of
	// users.email.
	EmailTaken(err error) bool
	// RolesArg returns roles as the users.roles column takes them, and
	// ScanRoles where a Scan of that column goes to set *roles. The other
	// lists of strings (apps' URIs, consents' scopes) are stored alike and
	// go through them too.
	RolesArg(roles []string) (any, error)
	ScanRoles(roles *[]string) any
	// LockFeed runs in a transaction before it adds to the revocation
	// feed, so that entries become visible in Seq order, as
	// gatehouse.RevocationFeed requires.
	LockFeed(ctx context.Context, tx Conn) error
	// FeedQuery returns the statement that RevocationsAfter(after, since,
	// limit) runs, RevocationsQuery or a form of it, and the driver
	// options that go before its arguments.
	FeedQuery(after int64, since time.Time) (query string, opts []any)
	// KeySeq names the column of signing_keys that grows with each key
	// inserted.
	KeySeq() string
	// SkipLocked is what follows the subquery of rows a claim of the
	// outbox takes, so that concurrent claims take different rows
	// (" FOR UPDATE SKIP LOCKED"), or "" where writes are serialised.
	SkipLocked() string
}

// Store is every gatehouse.Store method but Ping, on an Engine. It is
// safe for concurrent use.
type Store struct {
	e         Engine
	listKeys  string
	claimMail string
}

// New returns a store on e.
func New(e Engine) *Store {
	return &Store{
		e:         e,
		listKeys:  `SELECT id, alg, sealed, created_at FROM signing_keys ORDER BY created_at DESC, ` + e.KeySeq() + ` DESC`,
		claimMail: claimMail(e.SkipLocked()),
	}
}

// inTx runs fn in one write transaction; its error is a gatehouse error.
func (s *Store) inTx(ctx context.Context, fn func(tx Conn) error) error {
	return s.fail(s.e.InTx(ctx, fn))
}

// fail translates a driver error into a gatehouse error: a taken email is
// CodeEmailTaken, and anything else CodeUnavailable. A *gatehouse.Error
// passes through unchanged; sql.ErrNoRows is the caller's to translate,
// as it knows what was not found.
func (s *Store) fail(err error) error {
	var ge *gatehouse.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ge):
		return err
	case s.e.EmailTaken(err):
		return gatehouse.Errorf(gatehouse.CodeEmailTaken, "an account with this email already exists")
	default:
		return gatehouse.Unavailable(err)
	}
}

// failOrNotFound is fail, but for a missing row, which is CodeNotFound.
func (s *Store) failOrNotFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(what)
	}
	return s.fail(err)
}

func notFound(what string) error {
	return gatehouse.Errorf(gatehouse.CodeNotFound, what+" not found")
}

// collect runs a query and returns its rows, each mapped by scan.
func collect[T any](ctx context.Context, c Conn, scan func(Row) (T, error), query string, args ...any) ([]T, error) {
	var all []T
	err := c.Query(ctx, func(row Row) error {
		v, err := scan(row)
		if err == nil {
			all = append(all, v)
		}
		return err
	}, query, args...)
	return all, err
}

// unixNano returns t as stored: Unix nanoseconds, or 0 for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromUnixNano is the inverse of unixNano; the time is in UTC.
func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
