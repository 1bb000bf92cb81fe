package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/pressly/goose/v3"
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
	*sqlstore.Store
	e *engine
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

// newStore returns a store on the two pools once the reader's opens a
// connection, or closes them.
func newStore(ctx context.Context, write, read *sql.DB) (*Store, error) {
	if err := read.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: %w", err), write.Close(), read.Close())
	}
	e := &engine{write: write, read: &prepared{db: read}, writeOne: &prepared{db: write}}
	return &Store{Store: sqlstore.New(e), e: e}, nil
}

// Close closes the database. Calls after it fail with CodeUnavailable.
func (s *Store) Close() error {
	return errors.Join(s.e.read.close(), s.e.writeOne.close(), s.e.read.db.Close(), s.e.write.Close())
}

// Ping reports whether both the reader and the writer pools answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.e.read.db.PingContext(ctx); err != nil {
		return gatehouse.Unavailable(err)
	}
	if err := s.e.write.PingContext(ctx); err != nil {
		return gatehouse.Unavailable(err)
	}
	return nil
}
