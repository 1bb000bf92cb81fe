// Command store prepares and measures the PostgreSQL side of
// bench/load.sh:
//
//	store postgres -url-file F      start a private PostgreSQL (postgres/pgtest) on
//	                                127.0.0.1, write its URL to F, stop it on SIGTERM
//	store createdb -server URL -name N
//	                                create database N and print its URL
//	store fill -db URL -logins N -sample M -creds F
//	                                migrate, then COPY N users with one session each;
//	                                write the cookies of M of them, spread evenly, to F
//	store lookup -db URL -creds F -n 20000 -label L
//	                                time postgres.Store.SessionBySecretHash, one call
//	                                after the other, for the sessions in F; print a row
//	store reads -db URL             print how many times the session index was read
//	store writes -db URL -logins N -pg-pid P
//	                                time the store's writes (the once-a-minute touch,
//	                                a session and a token sign-in, a refresh, a sign-out)
//	                                on a database filled with N, one call after the
//	                                other, with PostgreSQL's CPU time per call; print rows
//
// The sessions fill writes are what a sign-in writes (the columns of
// postgres/migrations), with secrets derived from their number so that
// the cookies of any of them can be written without keeping a million in
// memory. They never expire during a run, and their last_seen_at is set
// at the end of the fill so that a check made within the next minute does
// not write (the once-a-minute touch is counted in docs/scaling.md).
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/bench/internal/stats"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "postgres":
		err = startPostgres(ctx, os.Args[2:])
	case "createdb":
		err = createDB(ctx, os.Args[2:])
	case "fill":
		err = fill(ctx, os.Args[2:])
	case "lookup":
		err = lookup(ctx, os.Args[2:])
	case "reads":
		err = reads(ctx, os.Args[2:])
	case "writes":
		err = writes(ctx, os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "store:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: store postgres|createdb|fill|lookup|reads|writes [flags] (see the package documentation)")
	os.Exit(2)
}

// startPostgres runs a private server until ctx ends. Should this process
// die instead, the kernel stops the server (pgtest sets a parent-death
// signal).
func startPostgres(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("postgres", flag.ExitOnError)
	urlFile := fs.String("url-file", "", "file to write the maintenance database's URL to")
	fs.Parse(args)
	if *urlFile == "" {
		return errors.New("postgres needs -url-file")
	}
	srv, err := pgtest.NewServer()
	if err != nil {
		return err
	}
	defer srv.Close()
	tmp := *urlFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(srv.URL()+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, *urlFile); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "store: PostgreSQL on 127.0.0.1:%d in %s\n", srv.Port(), srv.Dir())
	<-ctx.Done()
	return nil
}

func createDB(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("createdb", flag.ExitOnError)
	server := fs.String("server", "", "URL of the server's maintenance database")
	name := fs.String("name", "", "database to create")
	fs.Parse(args)
	if *server == "" || *name == "" {
		return errors.New("createdb needs -server and -name")
	}
	conn, err := pgx.Connect(ctx, *server)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{*name}.Sanitize()); err != nil {
		return err
	}
	u, err := url.Parse(*server)
	if err != nil {
		return err
	}
	u.Path = "/" + *name
	fmt.Println(u.String())
	return nil
}

// secret returns the cookie secret of bench session i: 256 bits, encoded
// as the server encodes its own.
func secret(i int) string {
	b := sha256.Sum256([]byte("gatehouse-bench-session-" + strconv.Itoa(i)))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func fill(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fill", flag.ExitOnError)
	db := fs.String("db", "", "database URL")
	n := fs.Int("logins", 1_000_000, "users to insert, each with one session login")
	sample := fs.Int("sample", 10_000, "sessions whose cookies go to -creds, spread evenly over all")
	credsFile := fs.String("creds", "", "file to write the sampled cookies to")
	cookie := fs.String("cookie", "__Host-gatehouse", "cookie name (gatehouse with serve --dev)")
	fs.Parse(args)
	if *db == "" || *credsFile == "" || *n < 1 || *sample < 1 || *sample > *n {
		return errors.New("fill needs -db, -creds and 1 <= -sample <= -logins")
	}
	if err := postgres.Migrate(ctx, *db); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, *db)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))

	// One real argon2id hash, shared: nobody signs in as these users.
	// The rows are consistent by construction (login i belongs to user
	// i), so the foreign key's per-row check, half the time of the load,
	// is skipped for this connection, as bulk loads do. Needs the
	// superuser, which pgtest's URL is.
	if _, err := conn.Exec(ctx, "SET session_replication_role = replica"); err != nil {
		return err
	}
	pw, err := password.NewHasher(password.DefaultParams, 1, 0).Hash(ctx, rand.Text())
	if err != nil {
		return err
	}
	start := time.Now()
	now := start.UTC().UnixNano()
	i := 0
	users, err := conn.CopyFrom(ctx, pgx.Identifier{"users"},
		[]string{"id", "email", "password_hash", "roles", "disabled", "created_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == *n {
				return nil, nil
			}
			i++
			return []any{fmt.Sprintf("bench-user-%07d", i-1), fmt.Sprintf("bench-%07d@example.com", i-1), pw,
				[]string{"customer"}, false, now}, nil
		}))
	if err != nil {
		return fmt.Errorf("COPY users: %w", err)
	}
	fmt.Fprintf(os.Stderr, "store: users copied in %v\n", time.Since(start).Round(time.Millisecond))
	i = 0
	logins, err := conn.CopyFrom(ctx, pgx.Identifier{"logins"},
		[]string{"id", "user_id", "mode", "secret_hash", "device", "ip", "user_agent", "remember",
			"created_at", "last_seen_at", "expires_at", "idle_expires_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == *n {
				return nil, nil
			}
			i++
			h := sha256.Sum256([]byte(secret(i - 1)))
			return []any{fmt.Sprintf("bench-login-%07d", i-1), fmt.Sprintf("bench-user-%07d", i-1), "session", h[:],
				"bench", "10.0.0.1", "gatehouse-bench", false,
				now, now, now + int64(24*time.Hour), now + int64(30*time.Minute)}, nil
		}))
	if err != nil {
		return fmt.Errorf("COPY logins: %w", err)
	}
	copied := time.Since(start)

	stride := *n / *sample
	var lines []string
	var ids []string
	for k := range *sample {
		lines = append(lines, "cookie "+*cookie+"="+secret(k*stride))
		ids = append(ids, fmt.Sprintf("bench-login-%07d", k*stride))
	}
	if _, err := conn.Exec(ctx, `UPDATE logins SET last_seen_at = $1 WHERE id = ANY($2)`, time.Now().UTC().UnixNano(), ids); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE users, logins`); err != nil {
		return err
	}
	var usersSize, loginsSize int64
	if err := conn.QueryRow(ctx, `SELECT pg_total_relation_size('users'), pg_total_relation_size('logins')`).Scan(&usersSize, &loginsSize); err != nil {
		return err
	}
	if err := os.WriteFile(*credsFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "store: %s users and %s logins copied in %v, ready in %v; with their indexes, users take %d MiB (%d bytes a user), logins %d MiB (%d bytes a login)\n",
		thousands(int(users)), thousands(int(logins)), copied.Round(time.Millisecond), time.Since(start).Round(time.Millisecond),
		usersSize>>20, usersSize/users, loginsSize>>20, loginsSize/logins)
	return nil
}

// lookup times the store's own session read, the one a check makes when
// its cache entry is older than a second.
func lookup(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("lookup", flag.ExitOnError)
	db := fs.String("db", "", "database URL")
	credsFile := fs.String("creds", "", "cookies written by fill")
	n := fs.Int("n", 20_000, "lookups")
	label := fs.String("label", "", "first cell of the row")
	fs.Parse(args)
	raw, err := os.ReadFile(*credsFile)
	if err != nil {
		return err
	}
	var hashes [][]byte
	for _, line := range strings.Split(string(raw), "\n") {
		_, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok {
			h := sha256.Sum256([]byte(v))
			hashes = append(hashes, h[:])
		}
	}
	if len(hashes) == 0 {
		return fmt.Errorf("%s: no cookies", *credsFile)
	}
	st, err := postgres.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	var count int
	if conn, err := pgx.Connect(ctx, *db); err != nil {
		return err
	} else {
		err = conn.QueryRow(ctx, `SELECT count(*) FROM logins`).Scan(&count)
		conn.Close(ctx)
		if err != nil {
			return err
		}
	}
	// Warm the pool's connection and its prepared statement.
	for _, h := range hashes[:min(100, len(hashes))] {
		if _, _, err := st.SessionBySecretHash(ctx, h); err != nil {
			return err
		}
	}
	samples := make([]time.Duration, *n)
	start := time.Now()
	for i := range samples {
		t0 := time.Now()
		if _, _, err := st.SessionBySecretHash(ctx, hashes[(i*7919)%len(hashes)]); err != nil {
			return err
		}
		samples[i] = time.Since(t0)
	}
	total := time.Since(start)
	slices.Sort(samples)
	us := func(p float64) string {
		return thousands(int(stats.Percentile(samples, p) / time.Microsecond))
	}
	fmt.Printf("| %s | %s | %s | %s | %s | %s | %s |\n", *label, thousands(count), thousands(*n),
		us(0.5), us(0.9), us(0.99), fmt.Sprintf("%.0f", float64(total.Microseconds())/float64(*n)))
	return nil
}

// reads prints how many index scans the session index has served: the
// session reads of every server on this database. PostgreSQL publishes a
// backend's counts when its transaction ends at most once a second, and
// when it exits: stop the servers before reading.
func reads(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("reads", flag.ExitOnError)
	db := fs.String("db", "", "database URL")
	fs.Parse(args)
	conn, err := pgx.Connect(ctx, *db)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var scans int64
	err = conn.QueryRow(ctx, `SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes
		WHERE relname = 'logins' AND indexrelname = 'logins_secret_hash_key'`).Scan(&scans)
	if err != nil {
		return err
	}
	fmt.Println(scans)
	return nil
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// writes times what a deployment writes, through the store's own methods,
// each call after the previous one, and reports PostgreSQL's CPU time per
// call (every process under -pg-pid) and the WAL it wrote beside the
// latency. The server runs with fsync and full_page_writes off (pgtest),
// so a commit here costs no disk flush and the WAL holds no page images:
// on a real server add the WAL flush to the latencies, and the page
// images written after each checkpoint to the WAL.
func writes(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("writes", flag.ExitOnError)
	db := fs.String("db", "", "database URL, filled by fill")
	n := fs.Int("logins", 1_000_000, "users and sessions fill inserted")
	calls := fs.Int("n", 2000, "calls of each write")
	pgPID := fs.Int("pg-pid", 0, "pid above PostgreSQL's processes (store postgres's)")
	fs.Parse(args)
	if *db == "" || *calls < 1 || *calls > *n {
		return errors.New("writes needs -db and 1 <= -n <= -logins")
	}
	st, err := postgres.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	stride := *n / *calls
	userOf := func(k int) string { return fmt.Sprintf("bench-user-%07d", k*stride) }
	hash := func(kind string, k int) []byte {
		h := sha256.Sum256([]byte("gatehouse-bench-write-" + kind + "-" + strconv.Itoa(k)))
		return h[:]
	}
	// WAL written per call: what a replica replays and the disk takes.
	conn, err := pgx.Connect(ctx, *db)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	walPos := func() (string, error) {
		var lsn string
		err := conn.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&lsn)
		return lsn, err
	}
	row := func(name, what string, f func(k int, now time.Time) error) error {
		samples := make([]time.Duration, *calls)
		wal0, err := walPos()
		if err != nil {
			return err
		}
		before, _ := processTicks(*pgPID)
		for k := range samples {
			t0 := time.Now()
			if err := f(k, t0.UTC()); err != nil {
				return fmt.Errorf("%s %d: %w", name, k, err)
			}
			samples[k] = time.Since(t0)
		}
		after, _ := processTicks(*pgPID)
		var wal int64
		if err := conn.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::bigint`, wal0).Scan(&wal); err != nil {
			return err
		}
		slices.Sort(samples)
		us := func(p float64) float64 { return float64(stats.Percentile(samples, p)) / 1e3 }
		cpu := "n/a"
		if *pgPID != 0 {
			cpu = fmt.Sprintf("%.0f", float64(after-before)*10_000/float64(*calls))
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s |\n", name, what, thousands(*calls), thousands(int(us(0.5))), thousands(int(us(0.99))), cpu,
			thousands(int(wal/int64(*calls))))
		return nil
	}
	ev := func(typ, user string, at time.Time) gatehouse.AuditEvent {
		return gatehouse.AuditEvent{At: at, Type: typ, UserID: user, IP: "10.0.0.1"}
	}
	var cursor int64
	steps := []struct {
		name, what string
		f          func(k int, now time.Time) error
	}{
		{"touch (a session's activity, at most once a minute)", "UPDATE logins", func(k int, now time.Time) error {
			return st.TouchLogin(ctx, fmt.Sprintf("bench-login-%07d", k*stride), now, now.Add(30*time.Minute))
		}},
		{"session sign-in (after argon2id)", "INSERT logins, audit", func(k int, now time.Time) error {
			l := gatehouse.Login{ID: fmt.Sprintf("w-session-%d", k), UserID: userOf(k), Mode: gatehouse.ModeSession,
				SecretHash: hash("session", k), Device: "bench", IP: "10.0.0.1", UserAgent: "gatehouse-bench",
				CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(24 * time.Hour), IdleExpiresAt: now.Add(30 * time.Minute)}
			return st.CreateLogin(ctx, l, ev(gatehouse.EventLoginSucceeded, l.UserID, now))
		}},
		{"token sign-in (after argon2id)", "INSERT logins, refresh_tokens, audit", func(k int, now time.Time) error {
			l := gatehouse.Login{ID: fmt.Sprintf("w-token-%d", k), UserID: userOf(k), Mode: gatehouse.ModeToken,
				Device: "bench", IP: "10.0.0.1", UserAgent: "gatehouse-bench",
				CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(720 * time.Hour)}
			rt := gatehouse.RefreshToken{Hash: hash("refresh0", k), LoginID: l.ID, CreatedAt: now, ExpiresAt: l.ExpiresAt}
			return st.CreateTokenLogin(ctx, l, rt, ev(gatehouse.EventLoginSucceeded, l.UserID, now))
		}},
		{"refresh (every access-token lifetime per active token user)", "SELECT token+login+user; UPDATE logins, refresh_tokens; INSERT refresh_tokens, audit", func(k int, now time.Time) error {
			old := hash("refresh0", k)
			if _, _, _, err := st.RefreshToken(ctx, old); err != nil {
				return err
			}
			next := gatehouse.RefreshToken{Hash: hash("refresh1", k), LoginID: fmt.Sprintf("w-token-%d", k), CreatedAt: now, ExpiresAt: now.Add(720 * time.Hour)}
			ok, err := st.RotateRefreshToken(ctx, old, next, ev(gatehouse.EventTokenRefreshed, userOf(k), now))
			if err == nil && !ok {
				err = errors.New("the refresh token was used already")
			}
			return err
		}},
		{"sign-out (revocation)", "DELETE logins; INSERT revocations (feed lock), audit", func(k int, now time.Time) error {
			ids, err := st.RevokeLogins(ctx, gatehouse.Revocation{UserID: userOf(k), LoginID: fmt.Sprintf("w-session-%d", k), Reason: gatehouse.ReasonLogout, At: now},
				ev(gatehouse.EventLogout, userOf(k), now))
			if err == nil && len(ids) != 1 {
				err = fmt.Errorf("revoked %v, want one login", ids)
			}
			return err
		}},
		{"feed poll (each server, every second and on every Redis ring)", "SELECT revocations after the cursor; SELECT signing_keys", func(k int, now time.Time) error {
			if k == 0 {
				// Start at the end of the feed, where a server that keeps up is.
				events, err := st.RevocationsAfter(ctx, 0, now.Add(-time.Hour), 1_000_000)
				if err != nil {
					return err
				}
				if len(events) > 0 {
					cursor = events[len(events)-1].Seq
				}
			}
			if _, err := st.RevocationsAfter(ctx, cursor, now.Add(-11*time.Minute), 1000); err != nil {
				return err
			}
			_, err := st.ListKeys(ctx)
			return err
		}},
	}
	for _, s := range steps {
		if err := row(s.name, s.what, s.f); err != nil {
			return err
		}
	}

	// Sign-outs from many servers at once: the feed lock lets one
	// revocation commit at a time, so this is the ceiling of the whole
	// deployment, whatever the number of servers.
	const writers = 16
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	start := time.Now()
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= *calls {
					return
				}
				now := time.Now().UTC()
				_, err := st.RevokeLogins(ctx, gatehouse.Revocation{UserID: userOf(k), LoginID: fmt.Sprintf("w-token-%d", k), Reason: gatehouse.ReasonLogout, At: now},
					ev(gatehouse.EventLogout, userOf(k), now))
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	took := time.Since(start)
	fmt.Fprintf(os.Stderr, "store: %d sign-outs from %d writers at once in %v: %.0f/s\n", *calls, writers, took.Round(time.Millisecond), float64(*calls)/took.Seconds())
	fmt.Printf("\nSign-outs from %d writers at once: %s in %v, %.0f per second. The revocation feed's lock admits\none revocation transaction at a time, so this is the rate of the whole deployment, whatever the number of servers.\n",
		writers, thousands(*calls), took.Round(time.Millisecond), float64(*calls)/took.Seconds())
	return nil
}

// processTicks returns the CPU time, in 10 ms ticks, of process root and
// all its descendants, from /proc (bench/load has the same for several).
func processTicks(root int) (uint64, error) {
	if root == 0 {
		return 0, nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	type proc struct {
		ppid  int
		ticks uint64
	}
	procs := map[int]proc{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(raw), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(raw[i+1:]))
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		utime, _ := strconv.ParseUint(f[11], 10, 64)
		stime, _ := strconv.ParseUint(f[12], 10, 64)
		procs[pid] = proc{ppid, utime + stime}
	}
	in := map[int]bool{root: true}
	for changed := true; changed; {
		changed = false
		for pid, p := range procs {
			if !in[pid] && in[p.ppid] {
				in[pid], changed = true, true
			}
		}
	}
	var total uint64
	for pid := range in {
		total += procs[pid].ticks
	}
	return total, nil
}
