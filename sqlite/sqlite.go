package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DSN parameters. Every connection waits up to five seconds for a lock held
// by another process. The writer starts its transactions with BEGIN
// IMMEDIATE, so a transaction that reads before it writes never fails
// half-way to upgrade its lock. Readers are query-only, so a write through
// them is a bug that fails loudly.
const (
	writeParams    = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	readParams     = "_pragma=busy_timeout(5000)&_pragma=query_only(1)"
	readOnlyParams = "mode=ro&_pragma=busy_timeout(5000)"
)

// Store is a gatehouse.Store in a SQLite file. It is safe for concurrent
// use.
type Store struct {
	write   *sql.DB // one connection: writes queue here instead of failing busy
	read    *sql.DB
	session *sql.Stmt // SessionBySecretHash, the per-request read
}

var _ gatehouse.Store = (*Store)(nil)

// Open opens the database at path, creating the file when it is missing
// (see create), and applies every pending migration.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := create(path); err != nil {
		return nil, err
	}
	write, err := openDB(path, writeParams, 1)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, err
	}
	read, err := openDB(path, readParams, readConns())
	if err != nil {
		write.Close()
		return nil, err
	}
	return newStore(ctx, write, read)
}

// OpenReadOnly opens an existing database without writing to it: no
// migrations are applied and every write fails with CodeUnavailable. It is
// meant for tests of how the service behaves when storage fails.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	write, err := openDB(path, readOnlyParams, 1)
	if err != nil {
		return nil, err
	}
	read, err := openDB(path, readOnlyParams, readConns())
	if err != nil {
		write.Close()
		return nil, err
	}
	return newStore(ctx, write, read)
}

// Migrate applies every pending migration to the database at path,
// creating the file when it is missing (see create). Applying them to a
// database that is up to date does nothing.
func Migrate(ctx context.Context, path string) error {
	if err := create(path); err != nil {
		return err
	}
	db, err := openDB(path, writeParams, 1)
	if err != nil {
		return err
	}
	return errors.Join(migrate(ctx, db), db.Close())
}

func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys)
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// create makes an empty database file at path, readable and writable by
// its owner only (it holds password hashes), when there is none. SQLite
// gives the -wal and -shm files it makes beside it the database file's
// mode. The mode of an existing file is left as it is.
func create(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return f.Close()
}

// openDB returns a pool of at most conns connections to the file at path.
// Connections are kept open, so the pragmas and prepared statements of a
// connection are paid for once.
func openDB(path, params string, conns int) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter
	}
	// A file: URI, so that SQLite reads mode=ro; url.URL escapes ? # and %.
	dsn := (&url.URL{Scheme: "file", Path: p, RawQuery: params}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	return db, nil
}

func readConns() int { return max(4, runtime.NumCPU()) }

func newStore(ctx context.Context, write, read *sql.DB) (*Store, error) {
	session, err := read.PrepareContext(ctx, sessionQuery)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: %w", err), write.Close(), read.Close())
	}
	return &Store{write: write, read: read, session: session}, nil
}

// Close closes the database. Calls after it fail with CodeUnavailable.
func (s *Store) Close() error {
	return errors.Join(s.session.Close(), s.read.Close(), s.write.Close())
}

// Ping reports whether both the reader and the writer pools answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return gatehouse.Unavailable(err)
	}
	if err := s.write.PingContext(ctx); err != nil {
		return gatehouse.Unavailable(err)
	}
	return nil
}

// inTx runs fn in one write transaction and commits it when fn succeeds.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return storeError(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return storeError(err)
	}
	return storeError(tx.Commit())
}

// storeError translates a driver error into a gatehouse error. A
// *gatehouse.Error passes through unchanged; sql.ErrNoRows is left to the
// caller, which knows what was not found.
func storeError(err error) error {
	var ge *gatehouse.Error
	var se *sqlite.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ge):
		return err
	case errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE && strings.Contains(se.Error(), "users.email"):
		return gatehouse.Errorf(gatehouse.CodeEmailTaken, "an account with this email already exists")
	default:
		return gatehouse.Unavailable(err)
	}
}

func notFound(what string) error {
	return gatehouse.Errorf(gatehouse.CodeNotFound, what+" not found")
}

func recordAudit(ctx context.Context, tx *sql.Tx, ev gatehouse.AuditEvent) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO audit_events (at, type, user_id, ip, detail) VALUES (?, ?, ?, ?, ?)`,
		unixNano(ev.At), ev.Type, ev.UserID, ev.IP, ev.Detail)
	return err
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

// encodeRoles returns roles as a JSON array; nil is the empty array.
func encodeRoles(roles []string) (string, error) {
	if len(roles) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(roles)
	return string(b), err
}

// decodeRoles is the inverse of encodeRoles; the empty array is nil.
func decodeRoles(s string) ([]string, error) {
	if s == "[]" {
		return nil, nil
	}
	var roles []string
	err := json.Unmarshal([]byte(s), &roles)
	return roles, err
}
