package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/sqlstore"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// engine is what the shared store runs on: SQLite through database/sql.
type engine struct {
	write    *sql.DB   // one connection: writes queue here instead of failing busy
	writeOne *prepared // write, for writes of one statement
	read     *prepared
}

// Read returns the pool of query-only connections.
func (e *engine) Read() sqlstore.Conn { return e.read }

// Write returns the writer's connection.
func (e *engine) Write() sqlstore.Conn { return e.writeOne }

// InTx runs fn in a transaction on the writer's connection. It begins
// with BEGIN IMMEDIATE (see writeParams), which takes SQLite's write lock
// at once: a transaction that reads before it writes never fails half-way
// to upgrade its lock, and transactions of other processes on the file
// wait for it (busy_timeout).
func (e *engine) InTx(ctx context.Context, fn func(tx sqlstore.Conn) error) error {
	tx, err := e.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(conn{tx}); err != nil {
		return err
	}
	return tx.Commit()
}

// EmailTaken reports whether err violates the UNIQUE constraint on
// users.email, which SQLite names only in its message.
func (e *engine) EmailTaken(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE && strings.Contains(se.Error(), "users.email")
}

// RolesArg returns roles as a JSON array; nil is the empty array.
func (e *engine) RolesArg(roles []string) (any, error) {
	if len(roles) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(roles)
	return string(b), err
}

// ScanRoles reads roles from a JSON array.
func (e *engine) ScanRoles(roles *[]string) any { return jsonRoles{roles} }

type jsonRoles struct{ roles *[]string }

func (r jsonRoles) Scan(src any) error {
	switch src := src.(type) {
	case string:
		return json.Unmarshal([]byte(src), r.roles)
	case []byte:
		return json.Unmarshal(src, r.roles)
	default:
		return fmt.Errorf("sqlite: roles stored as %T", src)
	}
}

// LockFeed does nothing: the transaction holds SQLite's one write lock
// from its start to its commit, so entries become visible in Seq order.
func (e *engine) LockFeed(context.Context, sqlstore.Conn) error { return nil }

// revocationsBySince is sqlstore.RevocationsQuery naming the index on at.
// SQLite would always narrow by Seq (the rowid), which reads the whole
// history when after is 0; a reader without a position wants only what is
// recent (since), which this form reads. INDEXED BY also makes the
// statement fail, rather than go slow, if the index is ever dropped.
const revocationsBySince = `SELECT id, login_id, user_id, reason, at FROM revocations INDEXED BY revocations_at
	WHERE id > $1 AND at >= $2 ORDER BY id LIMIT $3`

// FeedQuery returns revocationsBySince for a reader without a position
// that wants recent entries, and the plain query otherwise. Seq is the
// rowid, which AUTOINCREMENT never reuses.
func (e *engine) FeedQuery(after int64, since time.Time) (string, []any) {
	if after <= 0 && !since.IsZero() {
		return revocationsBySince, nil
	}
	return sqlstore.RevocationsQuery, nil
}

// KeySeq is the rowid, which grows with each insert.
func (e *engine) KeySeq() string { return "rowid" }

// querier is a *sql.DB, *sql.Conn or *sql.Tx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn runs statements on a querier.
type conn struct{ q querier }

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return c.q.QueryRowContext(ctx, query, args...)
}

func (c conn) Query(ctx context.Context, each func(sqlstore.Row) error, query string, args ...any) error {
	rows, err := c.q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	return eachRow(rows, each)
}

// eachRow calls each on every row, then closes rows.
func eachRow(rows *sql.Rows, each func(sqlstore.Row) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return errors.Join(rows.Err(), rows.Close())
}

// prepared runs statements on a pool, each prepared once and kept, as pgx
// does on PostgreSQL: SQLite takes about as long to prepare a read as to
// run it.
type prepared struct {
	db    *sql.DB
	stmts sync.Map // query → *sql.Stmt
}

func (p *prepared) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := p.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if kept, loaded := p.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return kept.(*sql.Stmt), nil
	}
	return st, nil
}

func (p *prepared) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (p *prepared) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

func (p *prepared) Query(ctx context.Context, each func(sqlstore.Row) error, query string, args ...any) error {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	return eachRow(rows, each)
}

// close closes the statements.
func (p *prepared) close() error {
	var errs []error
	p.stmts.Range(func(_, st any) bool {
		errs = append(errs, st.(*sql.Stmt).Close())
		return true
	})
	return errors.Join(errs...)
}

// errRow is a row that failed before it was read.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// SkipLocked is empty: SQLite serialises writes, so claims never overlap.
func (e *engine) SkipLocked() string { return "" }
