package postgres_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/jackc/pgx/v5"
)

// TestMain shares one PostgreSQL server among the tests; each test has a
// database of its own.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var t0 = time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) gatehouse.Store {
		return open(t, pgtest.NewDatabase(t))
	})
}

func open(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url)
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

// rawDB connects to the database without the store, to look under it.
func rawDB(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
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
func count(t *testing.T, db *pgx.Conn, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func createUser(t testing.TB, s gatehouse.Store, u gatehouse.User) {
	t.Helper()
	if err := s.CreateUser(t.Context(), u, event(gatehouse.EventUserCreated, u.ID)); err != nil {
		t.Fatalf("CreateUser(%q) = %v, want nil", u.ID, err)
	}
}

func createLogin(t testing.TB, s gatehouse.Store, l gatehouse.Login) {
	t.Helper()
	if err := s.CreateLogin(t.Context(), l, event(gatehouse.EventLoginSucceeded, l.UserID)); err != nil {
		t.Fatalf("CreateLogin(%q) = %v, want nil", l.ID, err)
	}
}

func checkCode(t *testing.T, call string, err error, want gatehouse.Code) {
	t.Helper()
	if got := gatehouse.ErrorCode(err); got != want {
		t.Errorf("%s: error %v has code %q, want %q", call, err, got, want)
	}
}

// schemaVersion returns the number of the last migration file.
func schemaVersion(t *testing.T) int64 {
	t.Helper()
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files = %q, %v", files, err)
	}
	last, _, _ := strings.Cut(filepath.Base(files[len(files)-1]), "_")
	v, err := strconv.ParseInt(last, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func checkSchemaVersion(t *testing.T, db *pgx.Conn) {
	t.Helper()
	var got int64
	if err := db.QueryRow(t.Context(), `SELECT MAX(version_id) FROM goose_db_version`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := schemaVersion(t); got != want {
		t.Errorf("schema version = %d, want %d", got, want)
	}
}

func TestMigrate(t *testing.T) {
	ctx := t.Context()
	url := pgtest.NewDatabase(t)
	if err := postgres.Migrate(ctx, url); err != nil {
		t.Fatalf("Migrate on an empty database = %v, want nil", err)
	}
	if err := postgres.Migrate(ctx, url); err != nil {
		t.Fatalf("Migrate on an up-to-date database = %v, want nil", err)
	}
	db := rawDB(t, url)
	checkSchemaVersion(t, db)
	for _, table := range []string{"users", "logins", "revocations", "audit_events", "refresh_tokens", "signing_keys"} {
		if n := count(t, db, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1`, table); n != 1 {
			t.Errorf("table %s: count %d, want 1", table, n)
		}
	}
	for _, index := range []string{"refresh_tokens_login_id", "revocations_at", "logins_user_id", "audit_events_user_id"} {
		if n := count(t, db, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1`, index); n != 1 {
			t.Errorf("index %s: count %d, want 1", index, n)
		}
	}
	// Times keep nanoseconds, which timestamptz would not.
	if n := count(t, db, `SELECT count(*) FROM information_schema.columns
		WHERE table_schema = current_schema() AND (column_name = 'at' OR column_name LIKE '%\_at') AND data_type <> 'bigint'`); n != 0 {
		t.Errorf("%d time columns are not bigint, want none", n)
	}
	// The feed's Seq is never cached by a connection (see 00001).
	if n := count(t, db, `SELECT count(*) FROM pg_sequences WHERE sequencename = 'revocations_id_seq' AND cache_size = 1`); n != 1 {
		t.Errorf("revocations_id_seq with cache 1: count %d, want 1", n)
	}
}

func TestReopen(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open = %v, want nil", err)
	}
	u := user("user-alice")
	createUser(t, s, u)
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}

	s = open(t, url)
	if _, err := s.UserByID(t.Context(), u.ID); err != nil {
		t.Errorf("UserByID after reopening = %v, want nil", err)
	}
}

// TestOpenAtOnce opens one empty database from several stores at once, as
// servers of one deployment starting together would: the migrations run
// once, under the lock, and every Open succeeds.
func TestOpenAtOnce(t *testing.T) {
	const servers = 4
	url := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range servers {
		wg.Go(func() {
			<-start
			s, err := postgres.Open(t.Context(), url)
			if err != nil {
				t.Errorf("Open %d = %v, want nil", i, err)
				return
			}
			defer s.Close()
			if err := s.Ping(t.Context()); err != nil {
				t.Errorf("Ping %d = %v, want nil", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	db := rawDB(t, url)
	checkSchemaVersion(t, db)
	if n := count(t, db, `SELECT count(*) FROM goose_db_version`); n != int(schemaVersion(t))+1 {
		t.Errorf("goose_db_version has %d rows, want %d (each migration once, and version 0)", n, schemaVersion(t)+1)
	}
}

// TestCollation lists users and logins in a database whose default
// collation is not byte order, as production databases' (en_US.UTF-8)
// often is not: the order is still the byte order that SQLite uses.
func TestCollation(t *testing.T) {
	ctx := t.Context()
	srv := pgtest.Shared(t)
	admin := rawDB(t, srv.URL())
	name := "collation_en"
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'UTF8'
		LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'`); err != nil {
		t.Fatalf("creating a database with an ICU collation: %v", err)
	}
	t.Cleanup(func() { srv.DropDatabase(context.Background(), name) })
	url := srv.DatabaseURL(name)
	var linguistic bool
	if err := rawDB(t, url).QueryRow(ctx, `SELECT 'user-a' < 'user-B'`).Scan(&linguistic); err != nil || !linguistic {
		t.Fatalf("'user-a' < 'user-B' in the default collation = %t, %v; want true (not byte order)", linguistic, err)
	}

	s := open(t, url)
	ids := []string{"user-a", "user-B", "user-_", "user-A"} // byte order: A B _ a
	for _, id := range ids {
		createUser(t, s, user(id))
	}
	users, err := s.ListUsers(ctx, "user-B", 10)
	if err != nil {
		t.Fatalf("ListUsers = %v, want nil", err)
	}
	var got []string
	for _, u := range users {
		got = append(got, u.ID)
	}
	if want := []string{"user-_", "user-a"}; !slices.Equal(got, want) {
		t.Errorf("ListUsers after user-B = %q, want %q", got, want)
	}
	for _, id := range []string{"login-a", "login-B"} {
		createLogin(t, s, session(id, "user-a"))
	}
	logins, err := s.ListLogins(ctx, "user-a", t0)
	if err != nil || len(logins) != 2 || logins[0].ID != "login-a" {
		t.Errorf("ListLogins of logins created at once = %+v, %v; want login-a then login-B (descending byte order)", logins, err)
	}
}

// TestSchema keeps the store in a schema of its own, named by search_path
// in the URL, as in a database shared with other applications.
func TestSchema(t *testing.T) {
	ctx := t.Context()
	url := pgtest.NewDatabase(t)
	db := rawDB(t, url)
	if _, err := db.Exec(ctx, `CREATE SCHEMA gatehouse`); err != nil {
		t.Fatal(err)
	}
	s := open(t, url+"&search_path=gatehouse")
	createUser(t, s, user("user-alice"))
	if n := count(t, db, `SELECT count(*) FROM gatehouse.users`); n != 1 {
		t.Errorf("users in schema gatehouse = %d, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`); n != 0 {
		t.Errorf("tables in schema public = %d, want none", n)
	}
}

// calls returns one call of every Store method, reads first.
func calls(u gatehouse.User, l gatehouse.Login) []struct {
	name string
	call func(ctx context.Context, s gatehouse.Store) error
} {
	return []struct {
		name string
		call func(ctx context.Context, s gatehouse.Store) error
	}{
		{"Ping", func(ctx context.Context, s gatehouse.Store) error { return s.Ping(ctx) }},
		{"UserByID", func(ctx context.Context, s gatehouse.Store) error { _, err := s.UserByID(ctx, u.ID); return err }},
		{"UserByEmail", func(ctx context.Context, s gatehouse.Store) error { _, err := s.UserByEmail(ctx, u.Email); return err }},
		{"ListUsers", func(ctx context.Context, s gatehouse.Store) error { _, err := s.ListUsers(ctx, "", 10); return err }},
		{"SessionBySecretHash", func(ctx context.Context, s gatehouse.Store) error {
			_, _, err := s.SessionBySecretHash(ctx, l.SecretHash)
			return err
		}},
		{"LoginByID", func(ctx context.Context, s gatehouse.Store) error { _, err := s.LoginByID(ctx, l.ID); return err }},
		{"ListLogins", func(ctx context.Context, s gatehouse.Store) error { _, err := s.ListLogins(ctx, u.ID, t0); return err }},
		{"ListAudit", func(ctx context.Context, s gatehouse.Store) error { _, err := s.ListAudit(ctx, "", 10); return err }},
		{"RefreshToken", func(ctx context.Context, s gatehouse.Store) error {
			_, _, _, err := s.RefreshToken(ctx, refresh("first", "login-token", t0).Hash)
			return err
		}},
		{"ListKeys", func(ctx context.Context, s gatehouse.Store) error { _, err := s.ListKeys(ctx); return err }},
		{"RevocationsAfter", func(ctx context.Context, s gatehouse.Store) error {
			_, err := s.RevocationsAfter(ctx, 1, t0, 10)
			return err
		}},
		{"RevocationsAfter without a position", func(ctx context.Context, s gatehouse.Store) error {
			_, err := s.RevocationsAfter(ctx, 0, t0, 10)
			return err
		}},
		{"CreateUser", func(ctx context.Context, s gatehouse.Store) error {
			return s.CreateUser(ctx, user("user-new"), event(gatehouse.EventUserCreated, "user-new"))
		}},
		{"UpdateUser", func(ctx context.Context, s gatehouse.Store) error {
			_, err := s.UpdateUser(ctx, u, nil, event(gatehouse.EventPasswordChanged, u.ID))
			return err
		}},
		{"CreateLogin", func(ctx context.Context, s gatehouse.Store) error {
			return s.CreateLogin(ctx, session("login-new", u.ID), event(gatehouse.EventLoginSucceeded, u.ID))
		}},
		{"TouchLogin", func(ctx context.Context, s gatehouse.Store) error {
			return s.TouchLogin(ctx, l.ID, t0.Add(time.Minute), t0.Add(time.Hour))
		}},
		{"RotateRefreshToken", func(ctx context.Context, s gatehouse.Store) error {
			next := refresh("next", "login-token", t0.Add(time.Minute))
			_, err := s.RotateRefreshToken(ctx, refresh("first", "login-token", t0).Hash, next, event(gatehouse.EventTokenRefreshed, u.ID))
			return err
		}},
		{"RevokeLogins", func(ctx context.Context, s gatehouse.Store) error {
			r := gatehouse.Revocation{UserID: u.ID, Reason: gatehouse.ReasonRevoked, At: t0}
			_, err := s.RevokeLogins(ctx, r, event(gatehouse.EventSessionRevoked, u.ID))
			return err
		}},
		{"DeleteExpiredLogins", func(ctx context.Context, s gatehouse.Store) error {
			_, err := s.DeleteExpiredLogins(ctx, t0.Add(48*time.Hour))
			return err
		}},
		{"RecordAudit", func(ctx context.Context, s gatehouse.Store) error {
			return s.RecordAudit(ctx, event(gatehouse.EventLoginFailed, u.ID))
		}},
		{"CreateTokenLogin", func(ctx context.Context, s gatehouse.Store) error {
			l := tokenLogin("login-token-new", u.ID)
			return s.CreateTokenLogin(ctx, l, refresh("new", l.ID, t0), event(gatehouse.EventLoginSucceeded, u.ID))
		}},
		{"CreateKey", func(ctx context.Context, s gatehouse.Store) error {
			k := gatehouse.SigningKey{ID: "key-new", Alg: "EdDSA", Sealed: []byte("sealed"), CreatedAt: t0}
			return s.CreateKey(ctx, k, event(gatehouse.EventKeysRotated, ""))
		}},
		{"DeleteKey", func(ctx context.Context, s gatehouse.Store) error { return s.DeleteKey(ctx, "key-1") }},
	}
}

// fill gives s one user, her session l, her token login "login-token"
// with the refresh token "first", a signing key "key-1", a revocation and
// audit events.
func fill(t *testing.T, s gatehouse.Store) (u gatehouse.User, l gatehouse.Login) {
	t.Helper()
	u, l = user("user-alice"), session("login-1", "user-alice")
	createUser(t, s, u)
	createLogin(t, s, l)
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
	return u, l
}

// TestOutage stops the server under an open store: every method fails
// closed with CodeUnavailable, and once the server is back the same store
// works again, its pool having reconnected.
func TestOutage(t *testing.T) {
	srv := pgtest.Start(t) // of its own: stopping the shared one would fail other tests
	s := open(t, srv.NewDatabase(t))
	u, l := fill(t, s)

	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop = %v, want nil", err)
	}
	for _, c := range calls(u, l) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		checkCode(t, c.name+" with the server stopped", c.call(ctx, s), gatehouse.CodeUnavailable)
		cancel()
	}

	if err := srv.Start(); err != nil {
		t.Fatalf("Start = %v, want nil", err)
	}
	for _, c := range calls(u, l) {
		if err := c.call(t.Context(), s); err != nil {
			t.Errorf("%s after the server restarted = %v, want nil", c.name, err)
		}
	}
	if _, err := s.UserByID(t.Context(), "user-new"); err != nil {
		t.Errorf("UserByID of the user created after the restart = %v, want nil", err)
	}
}

func TestClosed(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open = %v, want nil", err)
	}
	u, l := fill(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
	for _, c := range calls(u, l) {
		checkCode(t, c.name+" on a closed store", c.call(t.Context(), s), gatehouse.CodeUnavailable)
	}
}

func TestOpenFails(t *testing.T) {
	for _, tt := range []struct{ name, url string }{
		{name: "a malformed URL", url: "postgres://%zz"},
		{name: "no server", url: "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=5"},
		{name: "a missing database", url: strings.Replace(pgtest.NewDatabase(t), "/test_", "/missing_", 1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := postgres.Open(t.Context(), tt.url); err == nil {
				s.Close()
				t.Errorf("Open = nil, want an error")
			}
			if err := postgres.Migrate(t.Context(), tt.url); err == nil {
				t.Errorf("Migrate = nil, want an error")
			}
		})
	}
}

// TestRevocationFeed checks the rows that revoking adds to the feed, under
// the store, which storetest checks through RevocationsAfter.
func TestRevocationFeed(t *testing.T) {
	ctx := t.Context()
	url := pgtest.NewDatabase(t)
	s := open(t, url)
	u := user("user-alice")
	createUser(t, s, u)
	for _, id := range []string{"login-3", "login-1", "login-2"} {
		createLogin(t, s, session(id, u.ID))
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
	createLogin(t, s, session("login-4", u.ID))
	if _, err := s.DeleteExpiredLogins(ctx, t0.Add(48*time.Hour)); err != nil {
		t.Fatalf("DeleteExpiredLogins = %v, want nil", err)
	}

	rows, err := rawDB(t, url).Query(ctx, `SELECT login_id, user_id, reason, at FROM revocations ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (string, error) {
		var login, userID, reason string
		var at int64
		err := row.Scan(&login, &userID, &reason, &at)
		return fmt.Sprintf("%s %s %s %d", login, userID, reason, at), err
	})
	if err != nil {
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

// TestFeedOrder revokes from many goroutines at once while a reader on
// another pool (another server) follows the feed as the service does:
// resuming after the last Seq it saw. The reader must see every entry
// exactly once, in Seq order. Were entries visible out of Seq order (a
// sequence alone allows it), the reader would move past one not yet
// committed and never see it.
func TestFeedOrder(t *testing.T) {
	const writers, rounds = 12, 20
	ctx := t.Context()
	url := pgtest.NewDatabase(t)
	s, reader := open(t, url), open(t, url)
	for w := range writers {
		createUser(t, s, user(fmt.Sprintf("user-%02d", w)))
	}

	var wg sync.WaitGroup
	start := make(chan struct{})
	want := make([]int, writers) // entries each writer added
	for w := range writers {
		wg.Go(func() {
			<-start
			u := user(fmt.Sprintf("user-%02d", w))
			for i := range rounds {
				// One, two or three logins revoked, or a roles_changed entry.
				n := i % 4
				for j := range n {
					if err := s.CreateLogin(ctx, session(fmt.Sprintf("login-%02d-%02d-%d", w, i, j), u.ID), event(gatehouse.EventLoginSucceeded, u.ID)); err != nil {
						t.Errorf("CreateLogin = %v, want nil", err)
						return
					}
				}
				r := gatehouse.Revocation{UserID: u.ID, Reason: gatehouse.ReasonRevoked, At: t0.Add(time.Duration(i) * time.Second)}
				if n == 0 {
					r.Reason = gatehouse.ReasonRolesChanged
					n = 1
				}
				var err error
				if i%2 == 0 {
					_, err = s.UpdateUser(ctx, u, &r, event(gatehouse.EventUserRolesChanged, u.ID))
				} else {
					_, err = s.RevokeLogins(ctx, r, event(gatehouse.EventSessionRevoked, u.ID))
				}
				if err != nil {
					t.Errorf("revoking = %v, want nil", err)
					return
				}
				want[w] += n
			}
		})
	}

	// The follower reads in small pages until the writers are done and a
	// last read finds nothing new.
	var followed []gatehouse.RevocationEvent
	var after int64
	read := func() int {
		page, err := reader.RevocationsAfter(ctx, after, time.Time{}, 7)
		if err != nil {
			t.Fatalf("RevocationsAfter = %v, want nil", err)
		}
		for _, ev := range page {
			if ev.Seq <= after {
				t.Fatalf("RevocationsAfter(%d) returned Seq %d", after, ev.Seq)
			}
			after = ev.Seq
		}
		followed = append(followed, page...)
		return len(page)
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	close(start)
	for following := true; following; {
		select {
		case <-done:
			following = false
		default:
			read()
		}
	}
	for read() > 0 {
	}

	total := 0
	for _, n := range want {
		total += n
	}
	all, err := reader.RevocationsAfter(ctx, 0, time.Time{}, 1_000_000)
	if err != nil {
		t.Fatalf("RevocationsAfter = %v, want nil", err)
	}
	if len(all) != total {
		t.Fatalf("feed has %d entries, want %d", len(all), total)
	}
	if len(followed) != total {
		t.Errorf("the follower saw %d entries of %d: it skipped some", len(followed), total)
	}
	seen := map[int64]bool{}
	for _, ev := range followed {
		if seen[ev.Seq] {
			t.Errorf("the follower saw Seq %d twice", ev.Seq)
		}
		seen[ev.Seq] = true
	}
	for _, ev := range all {
		if !seen[ev.Seq] {
			t.Errorf("the follower never saw %+v", ev)
		}
	}

	// Read again in pages: every entry once, in Seq order.
	var paged []gatehouse.RevocationEvent
	for after := int64(0); ; {
		page, err := reader.RevocationsAfter(ctx, after, time.Time{}, 10)
		if err != nil {
			t.Fatalf("RevocationsAfter = %v, want nil", err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].Seq
	}
	if !slices.EqualFunc(paged, all, func(a, b gatehouse.RevocationEvent) bool { return a == b }) {
		t.Errorf("pages of ten differ from one read of all: %d entries, want %d", len(paged), len(all))
	}
}

// TestRevocationsAfterPlan checks that RevocationsAfter reads what it
// needs of a long feed: by Seq for a reader with a position, by time for
// one without.
func TestRevocationsAfterPlan(t *testing.T) {
	ctx := t.Context()
	url := pgtest.NewDatabase(t)
	open(t, url)
	db := rawDB(t, url)
	// A year of history, one entry every ten minutes.
	if _, err := db.Exec(ctx, `INSERT INTO revocations (login_id, user_id, reason, at)
		SELECT 'login-' || i, 'user-alice', 'logout', $1::bigint - (52560 - i) * 600000000000
		FROM generate_series(1, 52560) AS i`, t0.UnixNano()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `ANALYZE revocations`); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		after int64
		from  int64 // At in Unix nanoseconds; math.MinInt64 for the zero since
		want  string
	}{
		{name: "by seq", after: 52000, from: math.MinInt64, want: "revocations_pkey"},
		{name: "by since", after: 0, from: t0.Add(-time.Hour).UnixNano(), want: "revocations_at"},
	} {
		rows, err := db.Query(ctx, "EXPLAIN "+postgres.RevocationsQuery, pgx.QueryExecModeExec, tt.after, tt.from, 100)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(plan, "\n"); !strings.Contains(got, tt.want) {
			t.Errorf("plan %s =\n%s\nwant it to use %s", tt.name, got, tt.want)
		}
	}
}

// fillForBench returns a store holding one user with n sessions.
func fillForBench(b *testing.B, url string, n int) (*postgres.Store, []gatehouse.Login) {
	b.Helper()
	s := open(b, url)
	u := user("user-alice")
	u.Roles = []string{"member", "admin"}
	createUser(b, s, u)
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
	s, logins := fillForBench(b, pgtest.NewDatabase(b), 100_000)
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
// BenchmarkSessionBySecretHash: the same index lookup in the same
// database, returning only the login id, through one pgx connection with
// its statement cache, without the pool or the join.
func BenchmarkSessionBySecretHashFloor(b *testing.B) {
	url := pgtest.NewDatabase(b)
	_, logins := fillForBench(b, url, 100_000)
	conn := rawDB(b, url)
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	var id string
	for b.Loop() {
		if err := conn.QueryRow(ctx, `SELECT id FROM logins WHERE secret_hash = $1`, logins[i%len(logins)].SecretHash).Scan(&id); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
