package postgres_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/jackc/pgx/v5"
)

// TestMain shares one PostgreSQL server among the tests; each test has a
// database of its own.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) gatehouse.Store {
		return open(t, pgtest.NewDatabase(t))
	})
}

func TestStoreDB(t *testing.T) {
	storetest.RunDB(t, func(t *testing.T) storetest.DB {
		url := pgtest.NewDatabase(t)
		return storetest.DB{
			Open: func(t testing.TB) gatehouse.Store { return open(t, url) },
			Exec: func(t testing.TB, query string, args ...any) {
				t.Helper()
				if _, err := rawDB(t, url).Exec(t.Context(), query, args...); err != nil {
					t.Fatalf("%s: %v", query, err)
				}
			},
			Int: func(t testing.TB, query string, args ...any) int64 { return count(t, rawDB(t, url), query, args...) },
		}
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) gatehouse.Store {
		return open(b, pgtest.NewDatabase(b))
	})
}

func open(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url)
	return storetest.Opened(t, s, err)
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

// count returns the result of a count(*) query on the raw database.
func count(t testing.TB, db *pgx.Conn, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func checkSchemaVersion(t *testing.T, db *pgx.Conn) {
	t.Helper()
	if got, want := count(t, db, `SELECT MAX(version_id) FROM goose_db_version`), storetest.LastMigration(t); got != want {
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
	for _, table := range []string{"users", "logins", "revocations", "audit_events", "refresh_tokens", "signing_keys", "apps", "consents"} {
		if n := count(t, db, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1`, table); n != 1 {
			t.Errorf("table %s: count %d, want 1", table, n)
		}
	}
	for _, index := range []string{"refresh_tokens_login_id", "revocations_at", "logins_user_created", "audit_events_user_id", "logins_app_id", "consents_app_id"} {
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
	if n, want := count(t, db, `SELECT count(*) FROM goose_db_version`), storetest.LastMigration(t)+1; n != want {
		t.Errorf("goose_db_version has %d rows, want %d (each migration once, and version 0)", n, want)
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
		storetest.CreateUser(t, s, storetest.User(id))
	}
	users, err := s.ListUsers(ctx, gatehouse.UserQuery{After: "user-B", Limit: 10})
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
		storetest.CreateLogin(t, s, storetest.Session(id, "user-a", storetest.T0))
	}
	logins, err := s.ListLogins(ctx, "user-a", storetest.T0)
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
	storetest.CreateUser(t, s, storetest.User("user-alice"))
	if n := count(t, db, `SELECT count(*) FROM gatehouse.users`); n != 1 {
		t.Errorf("users in schema gatehouse = %d, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`); n != 0 {
		t.Errorf("tables in schema public = %d, want none", n)
	}
}

// TestOutage stops the server under an open store: every method fails
// closed with CodeUnavailable, and once the server is back the same store
// works again, its pool having reconnected.
func TestOutage(t *testing.T) {
	srv := pgtest.Start(t) // of its own: stopping the shared one would fail other tests
	s := open(t, srv.NewDatabase(t))
	calls := storetest.Fill(t, s)

	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop = %v, want nil", err)
	}
	for _, c := range calls {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		storetest.CheckCode(t, c.Name+" with the server stopped", c.Do(ctx, s), gatehouse.CodeUnavailable)
		cancel()
	}

	if err := srv.Start(); err != nil {
		t.Fatalf("Start = %v, want nil", err)
	}
	for _, c := range calls {
		if err := c.Do(t.Context(), s); err != nil {
			t.Errorf("%s after the server restarted = %v, want nil", c.Name, err)
		}
	}
	if _, err := s.UserByID(t.Context(), "user-new"); err != nil {
		t.Errorf("UserByID of the user created after the restart = %v, want nil", err)
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
		storetest.CreateUser(t, s, storetest.User(fmt.Sprintf("user-%02d", w)))
	}

	var wg sync.WaitGroup
	start := make(chan struct{})
	want := make([]int, writers) // entries each writer added
	for w := range writers {
		wg.Go(func() {
			<-start
			u := storetest.User(fmt.Sprintf("user-%02d", w))
			for i := range rounds {
				// One, two or three logins revoked, or a roles_changed entry.
				n := i % 4
				for j := range n {
					if err := s.CreateLogin(ctx, storetest.Session(fmt.Sprintf("login-%02d-%02d-%d", w, i, j), u.ID, storetest.T0), storetest.Event(gatehouse.EventLoginSucceeded, u.ID)); err != nil {
						t.Errorf("CreateLogin = %v, want nil", err)
						return
					}
				}
				at := storetest.T0.Add(time.Duration(i) * time.Second)
				r := gatehouse.Revocation{UserID: u.ID, Reason: gatehouse.ReasonRevoked, At: at}
				var err error
				switch {
				case n == 0:
					feed := &gatehouse.RevocationEvent{UserID: u.ID, Reason: gatehouse.ReasonRolesChanged, At: at}
					_, err = s.UpdateUser(ctx, gatehouse.UserChange{User: u, Feed: feed, Events: []gatehouse.AuditEvent{storetest.Event(gatehouse.EventUserRolesChanged, u.ID)}})
					n = 1
				case i%2 == 0:
					_, err = s.UpdateUser(ctx, gatehouse.UserChange{User: u, Revoke: &r, Events: []gatehouse.AuditEvent{storetest.Event(gatehouse.EventPasswordChanged, u.ID)}})
				default:
					_, err = s.RevokeLogins(ctx, r, storetest.Event(gatehouse.EventSessionRevoked, u.ID))
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
		FROM generate_series(1, 52560) AS i`, storetest.T0.UnixNano()); err != nil {
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
		{name: "by since", after: 0, from: storetest.T0.Add(-time.Hour).UnixNano(), want: "revocations_at"},
	} {
		rows, err := db.Query(ctx, "EXPLAIN "+sqlstore.RevocationsQuery, pgx.QueryExecModeExec, tt.after, tt.from, 100)
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

// BenchmarkSessionBySecretHashFloor is the floor of
// BenchmarkStore/SessionBySecretHash: the same index lookup in a database
// of as many sessions, returning only the login id, through one pgx
// connection with its statement cache, without the pool or the join.
func BenchmarkSessionBySecretHashFloor(b *testing.B) {
	url := pgtest.NewDatabase(b)
	logins := storetest.Sessions(b, open(b, url), 100_000)
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

// TestRacingWrites runs writes that touch the same rows in different
// orders at once: rotations of a login's token racing its revocation (as
// when a stolen token is presented while its owner refreshes), and
// revocations of every login of a user racing the deletion of expired
// ones. None may fail: PostgreSQL would abort one of two deadlocked
// transactions, which the store must avoid or run again.
func TestRacingWrites(t *testing.T) {
	const rounds = 30
	ctx := t.Context()
	url := pgtest.NewDatabase(t)
	a, b := open(t, url), open(t, url)
	u := storetest.User("user-alice")
	storetest.CreateUser(t, a, u)

	for i := range rounds {
		l := storetest.Token(fmt.Sprintf("login-%02d", i), u.ID, storetest.T0)
		first := storetest.RefreshToken(l.ID, l.ID, storetest.T0)
		if err := a.CreateTokenLogin(ctx, l, first, storetest.Event(gatehouse.EventLoginSucceeded, u.ID)); err != nil {
			t.Fatalf("CreateTokenLogin = %v, want nil", err)
		}
		// Sessions, half of them expired, for the revoke-all and the
		// deletion of expired logins to fight over.
		for j := range 6 {
			sl := storetest.Session(fmt.Sprintf("login-%02d-s%d", i, j), u.ID, storetest.T0)
			if j%2 == 0 {
				sl.ExpiresAt = storetest.T0.Add(-time.Minute)
			}
			storetest.CreateLogin(t, a, sl)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			next := storetest.RefreshToken(l.ID+" next", l.ID, storetest.T0.Add(time.Minute))
			if _, err := a.RotateRefreshToken(ctx, first.Hash, next, storetest.Event(gatehouse.EventTokenRefreshed, u.ID)); err != nil {
				t.Errorf("RotateRefreshToken racing a revocation = %v, want nil", err)
			}
		})
		wg.Go(func() {
			<-start
			r := gatehouse.Revocation{UserID: u.ID, LoginID: l.ID, Reason: gatehouse.ReasonRefreshTokenReused, At: storetest.T0}
			if _, err := b.RevokeLogins(ctx, r, storetest.Event(gatehouse.EventRefreshTokenReused, u.ID)); err != nil {
				t.Errorf("RevokeLogins racing a rotation = %v, want nil", err)
			}
		})
		wg.Go(func() {
			<-start
			r := gatehouse.Revocation{UserID: u.ID, Reason: gatehouse.ReasonPasswordChanged, At: storetest.T0}
			if _, err := a.UpdateUser(ctx, gatehouse.UserChange{User: u, Revoke: &r, Events: []gatehouse.AuditEvent{storetest.Event(gatehouse.EventPasswordChanged, u.ID)}}); err != nil {
				t.Errorf("UpdateUser revoking all racing DeleteExpiredLogins = %v, want nil", err)
			}
		})
		wg.Go(func() {
			<-start
			if _, err := b.DeleteExpiredLogins(ctx, storetest.T0); err != nil {
				t.Errorf("DeleteExpiredLogins racing a revocation = %v, want nil", err)
			}
		})
		close(start)
		wg.Wait()
		if t.Failed() {
			return
		}
		if _, err := a.LoginByID(ctx, l.ID); gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
			t.Fatalf("LoginByID of the revoked login = %v, want CodeNotFound", err)
		}
	}
}
