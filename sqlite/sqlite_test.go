package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/pressly/goose/v3"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) gatehouse.Store {
		return open(t, newPath(t))
	})
}

func TestStoreDB(t *testing.T) {
	storetest.RunDB(t, func(t *testing.T) storetest.DB {
		path := newPath(t)
		return storetest.DB{
			Open: func(t testing.TB) gatehouse.Store { return open(t, path) },
			Exec: func(t testing.TB, query string, args ...any) {
				t.Helper()
				if _, err := rawDB(t, path).ExecContext(t.Context(), query, args...); err != nil {
					t.Fatalf("%s: %v", query, err)
				}
			},
			Int: func(t testing.TB, query string, args ...any) int64 { return count(t, rawDB(t, path), query, args...) },
		}
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) gatehouse.Store {
		return open(b, newPath(b))
	})
}

func newPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "gatehouse.db")
}

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	return storetest.Opened(t, s, err)
}

// rawDB opens the file through database/sql alone, to look under the store.
func rawDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// count returns the result of a count(*) query on the raw database.
func count(t testing.TB, db *sql.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestMigrate(t *testing.T) {
	ctx := t.Context()
	path := newPath(t)
	if err := sqlite.Migrate(ctx, path); err != nil {
		t.Fatalf("Migrate on an empty database = %v, want nil", err)
	}
	if err := sqlite.Migrate(ctx, path); err != nil {
		t.Fatalf("Migrate on an up-to-date database = %v, want nil", err)
	}
	db := rawDB(t, path)
	if got, want := count(t, db, `SELECT MAX(version_id) FROM goose_db_version`), storetest.LastMigration(t); got != want {
		t.Errorf("schema version = %d, want %d", got, want)
	}
	for _, table := range []string{"users", "logins", "revocations", "audit_events", "refresh_tokens", "signing_keys", "apps", "consents"} {
		// STRICT, so a value of the wrong type is refused, not converted.
		if n := count(t, db, `SELECT count(*) FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name = ? AND strict`, table); n != 1 {
			t.Errorf("STRICT table %s: count %d, want 1", table, n)
		}
	}
	for _, index := range []string{"refresh_tokens_login_id", "revocations_at", "logins_user_created", "logins_expires_at",
		"logins_idle_expires_at", "logins_app_id", "consents_app_id"} {
		if n := count(t, db, `SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?`, index); n != 1 {
			t.Errorf("index %s: count %d, want 1", index, n)
		}
	}
}

func TestPathWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a b?c#d%20e&f.db")
	open(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file: %v", err)
	}
}

func TestJournalMode(t *testing.T) {
	path := newPath(t)
	open(t, path)
	var mode string
	if err := rawDB(t, path).QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal, nil", mode, err)
	}
}

func TestReadOnly(t *testing.T) {
	for _, writerOpen := range []bool{false, true} {
		t.Run(fmt.Sprintf("writer open %t", writerOpen), func(t *testing.T) {
			path := newPath(t)
			s, err := sqlite.Open(t.Context(), path)
			if err != nil {
				t.Fatalf("Open = %v, want nil", err)
			}
			calls := storetest.Fill(t, s)
			if err := s.Close(); err != nil {
				t.Fatalf("Close = %v, want nil", err)
			}
			if writerOpen {
				open(t, path)
			}
			s, err = sqlite.OpenReadOnly(t.Context(), path)
			if err != nil {
				t.Fatalf("OpenReadOnly = %v, want nil", err)
			}
			t.Cleanup(func() { s.Close() })

			for _, c := range calls {
				err := c.Do(t.Context(), s)
				switch {
				case !c.Write && err != nil:
					t.Errorf("%s on a read-only store = %v, want nil", c.Name, err)
				case c.Write:
					storetest.CheckCode(t, c.Name+" on a read-only store", err, gatehouse.CodeUnavailable)
				}
			}
			for _, c := range calls {
				if err := c.Do(t.Context(), s); !c.Write && err != nil {
					t.Errorf("%s after the refused writes = %v, want nil", c.Name, err)
				}
			}
		})
	}

	if _, err := sqlite.OpenReadOnly(t.Context(), newPath(t)); err == nil {
		t.Error("OpenReadOnly of a missing file = nil, want an error")
	}
}

// TestTwoStoresOneFile writes from two stores on one file at once, as two
// processes would: they wait for each other instead of failing busy.
func TestTwoStoresOneFile(t *testing.T) {
	path := newPath(t)
	stores := []*sqlite.Store{open(t, path), open(t, path)}
	u := storetest.User("user-alice")
	storetest.CreateUser(t, stores[0], u)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			s := stores[i%2]
			l := storetest.Session(fmt.Sprintf("login-%02d", i), u.ID, storetest.T0)
			if err := s.CreateLogin(t.Context(), l, storetest.Event(gatehouse.EventLoginSucceeded, u.ID)); err != nil {
				t.Errorf("CreateLogin = %v, want nil", err)
				return
			}
			r := gatehouse.Revocation{UserID: u.ID, LoginID: l.ID, Reason: gatehouse.ReasonLogout, At: storetest.T0}
			if _, err := s.RevokeLogins(t.Context(), r, storetest.Event(gatehouse.EventLogout, u.ID)); err != nil {
				t.Errorf("RevokeLogins = %v, want nil", err)
			}
		})
	}
	wg.Wait()
}

// TestQueryPlans checks that each form of the feed's query, and the list
// of a user's logins, read the index they are meant to, rather than the
// whole table, and that the list is read in order rather than sorted (the
// feed by time is sorted by seq: the few entries of one access-token
// lifetime).
func TestQueryPlans(t *testing.T) {
	path := newPath(t)
	open(t, path)
	db := rawDB(t, path)
	for _, tt := range []struct {
		name, query string
		args        []any
		want        string
		sorts       bool
	}{
		{name: "feed by seq", query: sqlite.RevocationsBySeq, args: []any{1, 0, 10}, want: "SEARCH revocations USING INTEGER PRIMARY KEY"},
		{name: "feed by since", query: sqlite.RevocationsBySince, args: []any{1, 0, 10}, want: "SEARCH revocations USING INDEX revocations_at", sorts: true},
		{name: "logins of a user", query: sqlite.ListLogins, args: []any{"user-alice", 0}, want: "SEARCH logins USING INDEX logins_user_created"},
	} {
		rows, err := db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+tt.query, tt.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(plan, "; ")
		if !strings.Contains(got, tt.want) {
			t.Errorf("plan of %s = %q, want %s", tt.name, got, tt.want)
		}
		if sorts := strings.Contains(got, "TEMP B-TREE"); sorts != tt.sorts {
			t.Errorf("plan of %s = %q: sorts %t, want %t", tt.name, got, sorts, tt.sorts)
		}
	}
}

// migratedTo opens a new database at path with the migrations up to
// version applied, as a deployment of that version has it.
func migratedTo(t *testing.T, path string, version int64) *sql.DB {
	t.Helper()
	db := rawDB(t, path)
	p, err := goose.NewProvider(goose.DialectSQLite3, db, os.DirFS("migrations"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), version); err != nil {
		t.Fatalf("migrating to version %d: %v", version, err)
	}
	return db
}

// TestMigrateFromVersion1 opens a database with data in the first schema,
// as a running deployment has it: 00002 applies and the data is kept.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := t.Context()
	path := newPath(t)
	db := migratedTo(t, path, 1)
	for _, q := range []string{
		`INSERT INTO users (id, email, password_hash, created_at) VALUES ('user-alice', 'alice@example.com', 'hash', 1)`,
		`INSERT INTO logins (id, user_id, mode, created_at, expires_at) VALUES ('login-1', 'user-alice', 'token', 1, 9000000000000000000)`,
		`INSERT INTO revocations (login_id, user_id, reason, at) VALUES ('login-0', 'user-alice', 'logout', 1)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := open(t, path)
	l, err := s.LoginByID(ctx, "login-1")
	if err != nil {
		t.Fatalf("LoginByID after migrating = %v, want nil", err)
	}
	feed, err := s.RevocationsAfter(ctx, 0, time.Time{}, 10)
	if err != nil || len(feed) != 1 || feed[0].LoginID != "login-0" {
		t.Errorf("RevocationsAfter after migrating = %+v, %v; want the one entry of version 1", feed, err)
	}
	rt := storetest.RefreshToken("first", l.ID, storetest.T0)
	next := storetest.RefreshToken("next", l.ID, storetest.T0.Add(time.Minute))
	// A login of version 1 has no refresh token: there is nothing to rotate.
	if ok, err := s.RotateRefreshToken(ctx, rt.Hash, next, storetest.Event(gatehouse.EventTokenRefreshed, l.UserID)); err != nil || ok {
		t.Errorf("RotateRefreshToken = %t, %v; want false, nil", ok, err)
	}
}

// TestMigrateFromVersion6 opens a database with logins and refresh tokens
// in the schema of version 6: 00007 rebuilds logins (to allow mode oidc),
// and every login and refresh token is kept, with the foreign key between
// them.
func TestMigrateFromVersion6(t *testing.T) {
	ctx := t.Context()
	path := newPath(t)
	db := migratedTo(t, path, 6)
	for _, q := range []string{
		`INSERT INTO users (id, email, password_hash, created_at) VALUES ('user-alice', 'alice@example.com', 'hash', 1)`,
		`INSERT INTO logins (id, user_id, mode, secret_hash, created_at, expires_at, aal, amr) VALUES ('login-1', 'user-alice', 'session', x'01', 1, 9000000000000000000, 2, 'pwd otp mfa')`,
		`INSERT INTO logins (id, user_id, mode, created_at, expires_at) VALUES ('login-2', 'user-alice', 'token', 1, 9000000000000000000)`,
		`INSERT INTO refresh_tokens (hash, login_id, created_at, expires_at) VALUES (x'02', 'login-2', 1, 9000000000000000000)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := open(t, path)
	l, _, err := s.SessionBySecretHash(ctx, []byte{1})
	if err != nil || l.ID != "login-1" || l.AAL != 2 || len(l.AMR) != 3 || l.AppID != "" {
		t.Errorf("SessionBySecretHash after migrating = %+v, %v; want login-1 at aal2", l, err)
	}
	_, tl, _, err := s.RefreshToken(ctx, []byte{2})
	if err != nil || tl.ID != "login-2" || tl.Mode != gatehouse.ModeToken {
		t.Errorf("RefreshToken after migrating = %+v, %v; want login-2's", tl, err)
	}
	// The refresh token still goes with its login.
	r := gatehouse.Revocation{UserID: "user-alice", LoginID: "login-2", Reason: gatehouse.ReasonLogout, At: storetest.T0}
	if _, err := s.RevokeLogins(ctx, r, storetest.Event(gatehouse.EventLogout, "user-alice")); err != nil {
		t.Fatal(err)
	}
	if n := count(t, rawDB(t, path), `SELECT count(*) FROM refresh_tokens`); n != 0 {
		t.Errorf("refresh tokens after revoking their login = %d, want 0", n)
	}
	if n := count(t, rawDB(t, path), `SELECT count(*) FROM pragma_foreign_key_check`); n != 0 {
		t.Errorf("foreign key violations = %d, want 0", n)
	}
	// And an app's login can be stored.
	storetest.CreateApp(t, s, storetest.App("app-a"))
	storetest.CreateLogin(t, s, storetest.OIDCLogin("login-3", "user-alice", "app-a", storetest.T0))
}

// BenchmarkSessionBySecretHashFloor is the floor of
// BenchmarkStore/SessionBySecretHash: the same index lookup in a file of
// as many sessions, returning only the login id, through database/sql and
// the driver alone.
func BenchmarkSessionBySecretHashFloor(b *testing.B) {
	path := newPath(b)
	logins := storetest.Sessions(b, open(b, path), 100_000)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	stmt, err := db.Prepare(`SELECT id FROM logins WHERE secret_hash = ?`)
	if err != nil {
		b.Fatal(err)
	}
	defer stmt.Close()
	b.ReportAllocs()
	i := 0
	var id string
	for b.Loop() {
		if err := stmt.QueryRow(logins[i%len(logins)].SecretHash).Scan(&id); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
