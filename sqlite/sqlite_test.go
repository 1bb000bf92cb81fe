package sqlite_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/storetest"
)

var t0 = time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) gatehouse.Store {
		return open(t, newPath(t))
	})
}

func newPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "gatehouse.db")
}

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open = %v, want nil", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close = %v, want nil", err)
		}
	})
	return s
}

// rawDB opens the file through database/sql alone, to look under the store.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func user(id string) gatehouse.User {
	return gatehouse.User{ID: id, Email: id + "@example.com", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", CreatedAt: t0}
}

func session(id, userID string) gatehouse.Login {
	h := sha256.Sum256([]byte(id))
	return gatehouse.Login{
		ID: id, UserID: userID, Mode: gatehouse.ModeSession, SecretHash: h[:],
		CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(24 * time.Hour), IdleExpiresAt: t0.Add(time.Hour),
	}
}

func event(typ, userID string) gatehouse.AuditEvent {
	return gatehouse.AuditEvent{At: t0, Type: typ, UserID: userID}
}

func tokenLogin(id, userID string) gatehouse.Login {
	return gatehouse.Login{ID: id, UserID: userID, Mode: gatehouse.ModeToken, CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
}

// refresh returns an unused refresh token of a login; name tells its hash
// apart.
func refresh(name, loginID string, created time.Time) gatehouse.RefreshToken {
	h := sha256.Sum256([]byte("refresh token " + name))
	return gatehouse.RefreshToken{Hash: h[:], LoginID: loginID, CreatedAt: created, ExpiresAt: created.Add(24 * time.Hour)}
}

// count returns the result of a count(*) query on the raw database.
func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
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

	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files = %q, %v", files, err)
	}
	last, _, _ := strings.Cut(filepath.Base(files[len(files)-1]), "_")
	want, err := strconv.ParseInt(last, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	var got int64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version_id) FROM goose_db_version`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("schema version = %d, want %d", got, want)
	}
	for _, table := range []string{"users", "logins", "revocations", "audit_events", "refresh_tokens", "signing_keys"} {
		// STRICT, so a value of the wrong type is refused, not converted.
		if n := count(t, db, `SELECT count(*) FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name = ? AND strict`, table); n != 1 {
			t.Errorf("STRICT table %s: count %d, want 1", table, n)
		}
	}
	for _, index := range []string{"refresh_tokens_login_id", "revocations_at"} {
		if n := count(t, db, `SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?`, index); n != 1 {
			t.Errorf("index %s: count %d, want 1", index, n)
		}
	}
}

func TestReopen(t *testing.T) {
	path := newPath(t)
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open = %v, want nil", err)
	}
	u := user("user-alice")
	if err := s.CreateUser(t.Context(), u, event(gatehouse.EventUserCreated, u.ID)); err != nil {
		t.Fatalf("CreateUser = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}

	s = open(t, path)
	if _, err := s.UserByID(t.Context(), u.ID); err != nil {
		t.Errorf("UserByID after reopening = %v, want nil", err)
	}
}

func TestPathWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a b?c#d%20e&f.db")
	open(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file: %v", err)
	}
}

func TestPragmas(t *testing.T) {
	ctx := t.Context()
	path := newPath(t)
	s := open(t, path)
	db := rawDB(t, path)

	var mode string
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal, nil", mode, err)
	}

	// The store's connections enforce foreign keys: no login of a missing user.
	err := s.CreateLogin(ctx, session("login-ghost", "user-ghost"), event(gatehouse.EventLoginSucceeded, "user-ghost"))
	if got := gatehouse.ErrorCode(err); got != gatehouse.CodeUnavailable {
		t.Errorf("CreateLogin for a missing user: error %v has code %q, want %q", err, got, gatehouse.CodeUnavailable)
	}

	// Deleting a user, which only an operator does, deletes its logins.
	u, l := user("user-alice"), session("login-1", "user-alice")
	if err := s.CreateUser(ctx, u, event(gatehouse.EventUserCreated, u.ID)); err != nil {
		t.Fatalf("CreateUser = %v, want nil", err)
	}
	if err := s.CreateLogin(ctx, l, event(gatehouse.EventLoginSucceeded, u.ID)); err != nil {
		t.Fatalf("CreateLogin = %v, want nil", err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.LoginByID(ctx, l.ID)
	if got := gatehouse.ErrorCode(err); got != gatehouse.CodeNotFound {
		t.Errorf("LoginByID after deleting its user: error %v has code %q, want %q", err, got, gatehouse.CodeNotFound)
	}
}

// TestRevocationFeed checks the rows that revoking adds to the feed, under
// the store, which storetest checks through RevocationsAfter.
func TestRevocationFeed(t *testing.T) {
	ctx := t.Context()
	path := newPath(t)
	s := open(t, path)
	u := user("user-alice")
	if err := s.CreateUser(ctx, u, event(gatehouse.EventUserCreated, u.ID)); err != nil {
		t.Fatalf("CreateUser = %v, want nil", err)
	}
	for _, id := range []string{"login-1", "login-2", "login-3"} {
		if err := s.CreateLogin(ctx, session(id, u.ID), event(gatehouse.EventLoginSucceeded, u.ID)); err != nil {
			t.Fatalf("CreateLogin = %v, want nil", err)
		}
	}
	r := gatehouse.Revocation{UserID: u.ID, LoginID: "login-2", Reason: gatehouse.ReasonLogout, At: t0}
	if _, err := s.RevokeLogins(ctx, r, event(gatehouse.EventLogout, u.ID)); err != nil {
		t.Fatalf("RevokeLogins = %v, want nil", err)
	}
	r = gatehouse.Revocation{UserID: u.ID, Reason: gatehouse.ReasonPasswordChanged, At: t0.Add(time.Second)}
	if _, err := s.UpdateUser(ctx, u, &r, event(gatehouse.EventPasswordChanged, u.ID)); err != nil {
		t.Fatalf("UpdateUser = %v, want nil", err)
	}
	r = gatehouse.Revocation{UserID: u.ID, Reason: gatehouse.ReasonRolesChanged, At: t0.Add(2 * time.Second)}
	if _, err := s.RevokeLogins(ctx, r, event(gatehouse.EventUserRolesChanged, u.ID)); err != nil {
		t.Fatalf("RevokeLogins = %v, want nil", err)
	}
	// Expiry is not revocation: it adds nothing to the feed.
	if err := s.CreateLogin(ctx, session("login-4", u.ID), event(gatehouse.EventLoginSucceeded, u.ID)); err != nil {
		t.Fatalf("CreateLogin = %v, want nil", err)
	}
	if _, err := s.DeleteExpiredLogins(ctx, t0.Add(48*time.Hour)); err != nil {
		t.Fatalf("DeleteExpiredLogins = %v, want nil", err)
	}

	rows, err := rawDB(t, path).QueryContext(ctx, `SELECT login_id, user_id, reason, at FROM revocations ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var login, userID, reason string
		var at int64
		if err := rows.Scan(&login, &userID, &reason, &at); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s %d", login, userID, reason, at))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("login-2 user-alice logout %d", t0.UnixNano()),
		fmt.Sprintf("login-1 user-alice password_changed %d", t0.Add(time.Second).UnixNano()),
		fmt.Sprintf("login-3 user-alice password_changed %d", t0.Add(time.Second).UnixNano()),
		fmt.Sprintf(" user-alice roles_changed %d", t0.Add(2*time.Second).UnixNano()),
	}
	if !slices.Equal(got, want) {
		t.Errorf("revocations = %q, want %q", got, want)
	}
}

// calls returns one call of every Store method, reads first.
func calls(u gatehouse.User, l gatehouse.Login) []struct {
	name  string
	write bool
	call  func(ctx context.Context, s gatehouse.Store) error
} {
	return []struct {
		name  string
		write bool
		call  func(ctx context.Context, s gatehouse.Store) error
	}{
		{"Ping", false, func(ctx context.Context, s gatehouse.Store) error { return s.Ping(ctx) }},
		{"UserByID", false, func(ctx context.Context, s gatehouse.Store) error { _, err := s.UserByID(ctx, u.ID); return err }},
		{"UserByEmail", false, func(ctx context.Context, s gatehouse.Store) error { _, err := s.UserByEmail(ctx, u.Email); return err }},
		{"ListUsers", false, func(ctx context.Context, s gatehouse.Store) error { _, err := s.ListUsers(ctx, "", 10); return err }},
		{"SessionBySecretHash", false, func(ctx context.Context, s gatehouse.Store) error {
			_, _, err := s.SessionBySecretHash(ctx, l.SecretHash)
			return err
		}},
		{"LoginByID", false, func(ctx context.Context, s gatehouse.Store) error { _, err := s.LoginByID(ctx, l.ID); return err }},
		{"ListLogins", false, func(ctx context.Context, s gatehouse.Store) error { _, err := s.ListLogins(ctx, u.ID, t0); return err }},
		{"ListAudit", false, func(ctx context.Context, s gatehouse.Store) error { _, err := s.ListAudit(ctx, "", 10); return err }},
		{"RefreshToken", false, func(ctx context.Context, s gatehouse.Store) error {
			_, _, _, err := s.RefreshToken(ctx, refresh("first", "login-token", t0).Hash)
			return err
		}},
		{"ListKeys", false, func(ctx context.Context, s gatehouse.Store) error { _, err := s.ListKeys(ctx); return err }},
		{"RevocationsAfter", false, func(ctx context.Context, s gatehouse.Store) error {
			_, err := s.RevocationsAfter(ctx, 1, t0, 10)
			return err
		}},
		{"RevocationsAfter without a position", false, func(ctx context.Context, s gatehouse.Store) error {
			_, err := s.RevocationsAfter(ctx, 0, t0, 10)
			return err
		}},
		{"CreateUser", true, func(ctx context.Context, s gatehouse.Store) error {
			return s.CreateUser(ctx, user("user-new"), event(gatehouse.EventUserCreated, "user-new"))
		}},
		{"UpdateUser", true, func(ctx context.Context, s gatehouse.Store) error {
			_, err := s.UpdateUser(ctx, u, nil, event(gatehouse.EventPasswordChanged, u.ID))
			return err
		}},
		{"CreateLogin", true, func(ctx context.Context, s gatehouse.Store) error {
			return s.CreateLogin(ctx, session("login-new", u.ID), event(gatehouse.EventLoginSucceeded, u.ID))
		}},
		{"TouchLogin", true, func(ctx context.Context, s gatehouse.Store) error {
			return s.TouchLogin(ctx, l.ID, t0.Add(time.Minute), t0.Add(time.Hour))
		}},
		{"RevokeLogins", true, func(ctx context.Context, s gatehouse.Store) error {
			r := gatehouse.Revocation{UserID: u.ID, Reason: gatehouse.ReasonRevoked, At: t0}
			_, err := s.RevokeLogins(ctx, r, event(gatehouse.EventSessionRevoked, u.ID))
			return err
		}},
		{"DeleteExpiredLogins", true, func(ctx context.Context, s gatehouse.Store) error {
			_, err := s.DeleteExpiredLogins(ctx, t0.Add(48*time.Hour))
			return err
		}},
		{"RecordAudit", true, func(ctx context.Context, s gatehouse.Store) error {
			return s.RecordAudit(ctx, event(gatehouse.EventLoginFailed, u.ID))
		}},
		{"CreateTokenLogin", true, func(ctx context.Context, s gatehouse.Store) error {
			l := tokenLogin("login-token-new", u.ID)
			return s.CreateTokenLogin(ctx, l, refresh("new", l.ID, t0), event(gatehouse.EventLoginSucceeded, u.ID))
		}},
		{"RotateRefreshToken", true, func(ctx context.Context, s gatehouse.Store) error {
			next := refresh("next", "login-token", t0.Add(time.Minute))
			_, err := s.RotateRefreshToken(ctx, refresh("first", "login-token", t0).Hash, next, event(gatehouse.EventTokenRefreshed, u.ID))
			return err
		}},
		{"CreateKey", true, func(ctx context.Context, s gatehouse.Store) error {
			k := gatehouse.SigningKey{ID: "key-new", Alg: "EdDSA", Sealed: []byte("sealed"), CreatedAt: t0}
			return s.CreateKey(ctx, k, event(gatehouse.EventKeysRotated, ""))
		}},
		{"DeleteKey", true, func(ctx context.Context, s gatehouse.Store) error { return s.DeleteKey(ctx, "key-1") }},
	}
}

// filled returns the path of a closed database with one user, her session
// l, her token login "login-token" with the refresh token "first", a
// signing key "key-1", a revocation and audit events.
func filled(t *testing.T) (path string, u gatehouse.User, l gatehouse.Login) {
	t.Helper()
	path = newPath(t)
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open = %v, want nil", err)
	}
	u, l = user("user-alice"), session("login-1", "user-alice")
	if err := s.CreateUser(t.Context(), u, event(gatehouse.EventUserCreated, u.ID)); err != nil {
		t.Fatalf("CreateUser = %v, want nil", err)
	}
	if err := s.CreateLogin(t.Context(), l, event(gatehouse.EventLoginSucceeded, u.ID)); err != nil {
		t.Fatalf("CreateLogin = %v, want nil", err)
	}
	tok := tokenLogin("login-token", u.ID)
	if err := s.CreateTokenLogin(t.Context(), tok, refresh("first", tok.ID, t0), event(gatehouse.EventLoginSucceeded, u.ID)); err != nil {
		t.Fatalf("CreateTokenLogin = %v, want nil", err)
	}
	k := gatehouse.SigningKey{ID: "key-1", Alg: "EdDSA", Sealed: []byte("sealed"), CreatedAt: t0}
	if err := s.CreateKey(t.Context(), k, event(gatehouse.EventKeysRotated, "")); err != nil {
		t.Fatalf("CreateKey = %v, want nil", err)
	}
	r := gatehouse.Revocation{UserID: u.ID, Reason: gatehouse.ReasonRolesChanged, At: t0}
	if _, err := s.RevokeLogins(t.Context(), r, event(gatehouse.EventUserRolesChanged, u.ID)); err != nil {
		t.Fatalf("RevokeLogins = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
	return path, u, l
}

func TestReadOnly(t *testing.T) {
	for _, writerOpen := range []bool{false, true} {
		t.Run(fmt.Sprintf("writer open %t", writerOpen), func(t *testing.T) {
			path, u, l := filled(t)
			if writerOpen {
				open(t, path)
			}
			s, err := sqlite.OpenReadOnly(t.Context(), path)
			if err != nil {
				t.Fatalf("OpenReadOnly = %v, want nil", err)
			}
			t.Cleanup(func() { s.Close() })

			for _, c := range calls(u, l) {
				err := c.call(t.Context(), s)
				switch got := gatehouse.ErrorCode(err); {
				case !c.write && err != nil:
					t.Errorf("%s on a read-only store = %v, want nil", c.name, err)
				case c.write && got != gatehouse.CodeUnavailable:
					t.Errorf("%s on a read-only store: error %v has code %q, want %q", c.name, err, got, gatehouse.CodeUnavailable)
				}
			}
			if _, err := s.LoginByID(t.Context(), l.ID); err != nil {
				t.Errorf("LoginByID after the refused writes = %v, want nil", err)
			}
		})
	}

	if _, err := sqlite.OpenReadOnly(t.Context(), newPath(t)); err == nil {
		t.Error("OpenReadOnly of a missing file = nil, want an error")
	}
}

func TestClosed(t *testing.T) {
	path, u, l := filled(t)
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
	for _, c := range calls(u, l) {
		err := c.call(t.Context(), s)
		if got := gatehouse.ErrorCode(err); got != gatehouse.CodeUnavailable {
			t.Errorf("%s on a closed store: error %v has code %q, want %q", c.name, err, got, gatehouse.CodeUnavailable)
		}
	}
}

// TestTwoStoresOneFile writes from two stores on one file at once, as two
// processes would: they wait for each other instead of failing busy.
func TestTwoStoresOneFile(t *testing.T) {
	path := newPath(t)
	stores := []*sqlite.Store{open(t, path), open(t, path)}
	u := user("user-alice")
	if err := stores[0].CreateUser(t.Context(), u, event(gatehouse.EventUserCreated, u.ID)); err != nil {
		t.Fatalf("CreateUser = %v, want nil", err)
	}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			s := stores[i%2]
			l := session(fmt.Sprintf("login-%02d", i), u.ID)
			if err := s.CreateLogin(t.Context(), l, event(gatehouse.EventLoginSucceeded, u.ID)); err != nil {
				t.Errorf("CreateLogin = %v, want nil", err)
				return
			}
			r := gatehouse.Revocation{UserID: u.ID, LoginID: l.ID, Reason: gatehouse.ReasonLogout, At: t0}
			if _, err := s.RevokeLogins(t.Context(), r, event(gatehouse.EventLogout, u.ID)); err != nil {
				t.Errorf("RevokeLogins = %v, want nil", err)
			}
		})
	}
	wg.Wait()
}

// fillForBench returns a store at path holding one user with n sessions.
func fillForBench(b *testing.B, path string, n int) (*sqlite.Store, []gatehouse.Login) {
	b.Helper()
	s := open(b, path)
	u := user("user-alice")
	u.Roles = []string{"member", "admin"}
	if err := s.CreateUser(b.Context(), u, event(gatehouse.EventUserCreated, u.ID)); err != nil {
		b.Fatal(err)
	}
	logins := make([]gatehouse.Login, n)
	for i := range logins {
		logins[i] = session(fmt.Sprintf("login-%06d", i), u.ID)
	}
	if err := s.InsertLogins(b.Context(), logins); err != nil {
		b.Fatal(err)
	}
	return s, logins
}

func BenchmarkSessionBySecretHash(b *testing.B) {
	s, logins := fillForBench(b, newPath(b), 100_000)
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := s.SessionBySecretHash(ctx, logins[i%len(logins)].SecretHash); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSessionBySecretHashFloor is the floor of
// BenchmarkSessionBySecretHash: the same index lookup in the same file,
// returning only the login id, through database/sql and the driver alone.
func BenchmarkSessionBySecretHashFloor(b *testing.B) {
	path := newPath(b)
	_, logins := fillForBench(b, path, 100_000)
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
