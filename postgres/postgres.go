package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
	return &Store{pool: pool}, nil
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

// inTx runs fn in one transaction and commits it when fn succeeds. A
// transaction that PostgreSQL aborted to break a deadlock (writers that
// delete the same logins in different orders, say) is run again from the
// start, a few times; fn must therefore set its results afresh each time.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var err error
	for range 3 {
		err = pgx.BeginFunc(ctx, s.pool, fn)
		if !retryable(err) {
			break
		}
	}
	return storeError(err)
}

// exec runs one statement outside a transaction, which PostgreSQL makes
// one on its own, retried as inTx does.
func (s *Store) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	var err error
	for range 3 {
		tag, err = s.pool.Exec(ctx, sql, args...)
		if !retryable(err) {
			break
		}
	}
	return tag, storeError(err)
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

// storeError translates a driver error into a gatehouse error. A
// *gatehouse.Error passes through unchanged; pgx.ErrNoRows is left to the
// caller, which knows what was not found.
func storeError(err error) error {
	var ge *gatehouse.Error
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ge):
		return err
	case errors.As(err, &pe) && pe.Code == uniqueViolation && pe.ConstraintName == emailConstraint:
		return gatehouse.Errorf(gatehouse.CodeEmailTaken, "an account with this email already exists")
	default:
		return gatehouse.Unavailable(err)
	}
}

func notFound(what string) error {
	return gatehouse.Errorf(gatehouse.CodeNotFound, what+" not found")
}

func recordAudit(ctx context.Context, tx pgx.Tx, ev gatehouse.AuditEvent) error {
	_, err := tx.Exec(ctx,
		`INSERT INTO audit_events (at, type, user_id, ip, detail) VALUES ($1, $2, $3, $4, $5)`,
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

// bytesOrNull returns b, or nil (NULL) when it is empty.
func bytesOrNull(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// encodeRoles returns roles for a TEXT[] NOT NULL column: pgx would send a
// nil slice as NULL.
func encodeRoles(roles []string) []string {
	if roles == nil {
		return []string{}
	}
	return roles
}

// decodeRoles returns nil for no roles, as the SQLite store does.
func decodeRoles(roles []string) []string {
	if len(roles) == 0 {
		return nil
	}
	return roles
}
