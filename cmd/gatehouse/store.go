package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/sqlite"
)

// store is an open store of either kind.
type store interface {
	gatehouse.Store
	Close() error
}

// dbFlag adds --db to a command.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "gatehouse.db", "SQLite database file, or a postgres:// URL")
}

// openStore opens and migrates the store that --db names: a postgres://
// URL or a SQLite file. A new SQLite file is made with mode 0600; when an
// existing one can be read or written by its group or others, openStore
// warns on log (unless it is nil) and leaves the mode as it is.
func openStore(ctx context.Context, db string, log *slog.Logger) (store, error) {
	if isPostgres(db) {
		return postgres.Open(ctx, db)
	}
	if info, err := os.Stat(db); err == nil && info.Mode().Perm()&0o077 != 0 && log != nil {
		log.Warn("the database file, which holds password hashes, can be read or written by other users than its owner: chmod 600 it unless that is on purpose",
			"path", db, "mode", fmt.Sprintf("%04o", info.Mode().Perm()))
	}
	return sqlite.Open(ctx, db)
}

func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// redactedDB returns --db fit for a log: a PostgreSQL URL's password, in
// the user part or as a password= parameter, is masked.
func redactedDB(db string) string {
	if !isPostgres(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "(a PostgreSQL URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

func migrate(ctx context.Context, args []string, getenv env, std stdio) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	db := dbFlag(fs)
	if pos, err := parse(fs, args, getenv); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("migrate takes no arguments")
	}
	st, err := openStore(ctx, *db, slog.New(slog.NewTextHandler(std.err, nil)))
	if err != nil {
		return err
	}
	return st.Close()
}
