package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a gatehouse.Store in a PostgreSQL database. It is safe for
// concurrent use, and several servers may share one database.
type Store struct {
	*sqlstore.Store
	pool *pgxpool.Pool
}

var _ gatehouse.Store = (*Store)(nil)

// Open connects to the database at url (postgres://user:password@host/db,
// or any form pgxpool.ParseConfig takes), applies every pending migration,
// and returns a store on a pool of connections. Several servers may open
// the same database at once: migrations run under a lock.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, cfg.ConnConfig); err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &Store{Store: sqlstore.New(newEngine(pool)), pool: pool}, nil
}

// Migrate applies every pending migration to the database at url.
// Applying them to a database that is up to date does nothing.
func Migrate(ctx context.Context, url string) error {
	cfg, err := pgxpool.ParseConfig(url) // which takes the pool_ parameters Open takes
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return migrate(ctx, cfg.ConnConfig)
}

// migrateLockID is the key of the session-level advisory lock that
// migrations hold, so that servers starting at once migrate one after the
// other. It is goose's own default key: other goose users of the database
// wait for us and we for them, which is what their shared version table
// needs anyway.
const migrateLockID = lock.DefaultLockID

func migrate(ctx context.Context, cfg *pgx.ConnConfig) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	// goose takes no lock unless given a locker, whatever its dialect.
	// This one tries every second for ten minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrateLockID), lock.WithLockTimeout(1, 600))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	db := stdlib.OpenDB(*cfg) // goose needs a *sql.DB
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// Close closes every connection; calls after it fail with
// CodeUnavailable. It returns nil: it has the signature of io.Closer, as
// the SQLite store's Close does.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return gatehouse.Unavailable(err)
	}
	return nil
}
