package gatehouse_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlite"
)

// BenchmarkSessionCheckScale measures the session check with 10,000,
// 100,000 and 1,000,000 live logins in one SQLite file, which grows from
// one size to the next. At each size:
//
//   - cached: AuthenticateSession on sessions already in the cache, cycling
//     over up to 100,000 distinct ones (what most requests cost);
//   - floor-sha256-map: what a cached check cannot go below, the SHA-256
//     of the secret and a lookup in a map of as many entries;
//   - store: AuthenticateSession on sessions this server has not cached,
//     spread over the whole table, so each one reads the store;
//   - heap: the Go heap the cache holds per cached login (B/login), after
//     a garbage collection, with up to 100,000 logins cached.
//
// The clock is injected and stands still, so cached entries stay fresh for
// the whole run and no check is due to record activity. Run it with (about
// four minutes on two cores, a minute of it filling the store):
//
//	go test -run '^$' -bench 'SessionCheckScale' -benchmem -count 3 .
//
// -short stops at 100,000 logins.
func BenchmarkSessionCheckScale(b *testing.B) {
	ss := newScaleStore(b)
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		if n > 100_000 && testing.Short() {
			break
		}
		b.Run(fmt.Sprintf("logins=%d", n), func(b *testing.B) {
			ss.growTo(b, n)
			probes := ss.probes(min(n, maxProbes))
			hits := probes[:min(len(probes), maxCached)]
			b.Run("cached", func(b *testing.B) { benchCached(b, ss.st, hits) })
			b.Run("floor-sha256-map", func(b *testing.B) { benchFloor(b, hits) })
			b.Run("store", func(b *testing.B) { benchStore(b, ss.st, probes) })
			b.Run("heap", func(b *testing.B) { benchHeap(b, ss.st, hits) })
		})
	}
}

// Bounds of the scale benchmark: how many distinct sessions the store
// checks cycle over, and how many sessions are cached at once (half the
// cache's bound, so that no eviction happens).
const (
	maxProbes = 150_000
	maxCached = 100_000
)

// scaleT0 is the scale benchmark's time: every login was created and last
// seen then, and the clock stands a second later.
var scaleT0 = time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)

// scaleClock is the benchmark's clock: a second after the logins were
// last seen, so that they are live and none is due to be touched.
func scaleClock() time.Time { return scaleT0.Add(time.Second) }

// newScaleService returns a service over st with the benchmark's clock,
// having read the revocation feed once, as Start does before serving.
func newScaleService(b *testing.B, st *sqlite.Store) *gatehouse.Service {
	b.Helper()
	svc, err := gatehouse.NewService(st, gatehouse.Config{Now: scaleClock})
	if err != nil {
		b.Fatal(err)
	}
	if err := svc.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	return svc
}

// check runs one session check and fails the benchmark unless it passes.
func check(b *testing.B, svc *gatehouse.Service, secret string) {
	if _, err := svc.AuthenticateSession(context.Background(), secret); err != nil {
		b.Fatal(err)
	}
}

func benchCached(b *testing.B, st *sqlite.Store, secrets []string) {
	svc := newScaleService(b, st)
	for _, s := range secrets {
		check(b, svc, s)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		check(b, svc, secrets[i%len(secrets)])
		i++
	}
}

func benchFloor(b *testing.B, secrets []string) {
	m := make(map[[32]byte]*gatehouse.Principal)
	for _, s := range secrets {
		m[sha256.Sum256([]byte(s))] = &gatehouse.Principal{}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		var buf [64]byte // hashing []byte(secret) would allocate
		if m[sha256.Sum256(append(buf[:0], secrets[i%len(secrets)]...))] == nil {
			b.Fatal("missing from the map")
		}
		i++
	}
}

// benchStore checks sessions the service has not cached: it starts a new
// service (outside the timer) each time it has been through them all.
func benchStore(b *testing.B, st *sqlite.Store, secrets []string) {
	var svc *gatehouse.Service
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%len(secrets) == 0 {
			b.StopTimer()
			svc = newScaleService(b, st)
			b.StartTimer()
		}
		check(b, svc, secrets[i%len(secrets)])
		i++
	}
}

// benchHeap caches every session of secrets in a new service and reports
// how much the live heap grew, per cached login.
func benchHeap(b *testing.B, st *sqlite.Store, secrets []string) {
	check(b, newScaleService(b, st), secrets[0]) // open the store's connections
	var perLogin float64
	for b.Loop() {
		svc := newScaleService(b, st)
		before := liveHeap()
		for _, s := range secrets {
			check(b, svc, s)
		}
		perLogin = float64(liveHeap()-before) / float64(len(secrets))
		runtime.KeepAlive(svc)
	}
	b.ReportMetric(perLogin, "B/login")
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// scaleStore is a SQLite file that grows by bulk inserts, with sessions
// of two per user whose secrets derive from their index.
type scaleStore struct {
	st   *sqlite.Store
	path string
	key  [32]byte
	n    int // logins so far
}

func newScaleStore(b *testing.B) *scaleStore {
	path := filepath.Join(b.TempDir(), "scale.db")
	st, err := sqlite.Open(b.Context(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ss := &scaleStore{st: st, path: path}
	copy(ss.key[:], path)
	return ss
}

// secret returns the cookie secret of login i.
func (ss *scaleStore) secret(i int) string {
	var buf [40]byte
	copy(buf[:], ss.key[:])
	binary.BigEndian.PutUint64(buf[32:], uint64(i))
	raw := sha256.Sum256(buf[:])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// probes returns the secrets of k logins spread evenly over the table.
func (ss *scaleStore) probes(k int) []string {
	out := make([]string, k)
	for j := range out {
		out[j] = ss.secret(j * (ss.n / k))
	}
	return out
}

// What the seeded rows hold, shaped like real ones.
const (
	scalePasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	scaleUserAgent    = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)

// growTo inserts logins (and a user for every two) until the store holds
// n, in one transaction through database/sql: CreateLogin one by one,
// with its audit event, would take many minutes for a million. Every
// hundredth user is an admin, the others customers.
func (ss *scaleStore) growTo(b *testing.B, n int) {
	if n <= ss.n {
		return
	}
	db, err := sql.Open("sqlite", ss.path+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	users, err := tx.Prepare(`INSERT INTO users (id, email, password_hash, roles, disabled, created_at) VALUES (?, ?, ?, ?, 0, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	logins, err := tx.Prepare(`INSERT INTO logins (id, user_id, mode, secret_hash, device, ip, user_agent, remember,
		created_at, last_seen_at, expires_at, idle_expires_at) VALUES (?, ?, 'session', ?, ?, ?, ?, 0, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	t0 := scaleT0.UnixNano()
	for i := ss.n; i < n; i++ {
		u := i / 2
		userID := fmt.Sprintf("00000000-0000-7000-8000-%012d", u)
		if i%2 == 0 {
			roles := `["customer"]`
			if u%100 == 0 {
				roles = `["admin"]`
			}
			if _, err := users.Exec(userID, fmt.Sprintf("user%07d@example.com", u), scalePasswordHash, roles, t0); err != nil {
				b.Fatal(err)
			}
		}
		hash := sha256.Sum256([]byte(ss.secret(i)))
		if _, err := logins.Exec(fmt.Sprintf("00000000-0000-7000-9000-%012d", i), userID, hash[:],
			"Chrome on Linux", "203.0.113.7", scaleUserAgent, t0, t0,
			t0+int64(24*time.Hour), t0+int64(30*time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	ss.n = n
}
