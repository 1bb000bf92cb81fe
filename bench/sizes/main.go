// Command sizes measures what differs in size between the two modes: the
// bytes a client sends with each request (the cookie against the bearer
// header), the bytes the SQLite store keeps per login (and per refresh in
// token mode), and the heap a server spends per credential it has cached
// (a checked session against a verified access token). bench/run.sh runs
// it and puts its output in docs/performance.md:
//
//	go run ./bench/sizes -logins 10000 > sizes.json
//
// Logins go through gatehouse.Service on a real SQLite file, exactly as
// the server makes them, with a cheap argon2id setting because the
// password hash is one fixed-size column whatever its cost. Stored bytes
// come from SQLite's dbstat table (pages in use, indexes included), after a
// checkpoint, as the growth between before and after the logins, divided
// by their number.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	_ "modernc.org/sqlite"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/sqlite"
)

// Result is the JSON the command prints.
type Result struct {
	Logins int `json:"logins"`
	// Bytes a browser or client sends per request for its credential: the
	// whole header line, name and CRLF included.
	CookieHeaderBytes int `json:"cookie_header_bytes"`
	BearerHeaderBytes int `json:"bearer_header_bytes"`
	// The same for a user with every built-in role, whose token carries
	// more roles and permissions.
	BearerHeaderBytesAdmin int `json:"bearer_header_bytes_admin"`
	// Bytes stored per login, by table (indexes counted with their table),
	// and per refresh of a token login.
	SessionStored map[string]float64 `json:"session_stored_bytes"`
	TokenStored   map[string]float64 `json:"token_stored_bytes"`
	RefreshStored map[string]float64 `json:"refresh_stored_bytes"`
	// Heap bytes per credential held in the server's caches.
	SessionCachedBytes float64 `json:"session_cached_heap_bytes"`
	TokenCachedBytes   float64 `json:"token_cached_heap_bytes"`
}

func main() {
	logins := flag.Int("logins", 10_000, "logins of each mode")
	flag.Parse()
	res, err := measure(context.Background(), *logins)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sizes:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.Encode(res)
}

const pw = "correct horse battery staple"

func measure(ctx context.Context, n int) (*Result, error) {
	dir, err := os.MkdirTemp("", "gatehouse-sizes")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "sizes.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	svc, err := gatehouse.NewService(st, gatehouse.Config{
		Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0, 0),
		Tokens: &gatehouse.TokenConfig{Issuer: "https://gatehouse.example.com", Secret: []byte(rand.Text() + rand.Text())},
		// The sign-ups and refreshes all come from one address.
		Limits: gatehouse.Limits{Registrations: 1 << 30, Refreshes: 1 << 30},
	})
	if err != nil {
		return nil, err
	}
	if err := svc.Start(ctx); err != nil {
		return nil, err
	}

	// Enough users that no one reaches the cap on live logins per user.
	users := make([]string, max(1, n/gatehouse.MaxLoginsPerUser*2))
	for i := range users {
		users[i] = fmt.Sprintf("user%05d@example.com", i)
		if _, err := svc.Register(ctx, users[i], pw, gatehouse.Client{IP: "192.0.2.1"}); err != nil {
			return nil, err
		}
	}
	client := gatehouse.Client{IP: "192.0.2.1", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"}
	login := func(i int, mode gatehouse.Mode) (gatehouse.LoginResult, error) {
		return svc.Login(ctx, gatehouse.LoginRequest{Email: users[i%len(users)], Password: pw, Mode: mode, Client: client})
	}
	res := &Result{Logins: n}

	before, err := tableBytes(raw)
	if err != nil {
		return nil, err
	}
	secrets := make([]string, n)
	for i := range n {
		r, err := login(i, gatehouse.ModeSession)
		if err != nil {
			return nil, err
		}
		secrets[i] = r.Secret
	}
	afterSessions, err := tableBytes(raw)
	if err != nil {
		return nil, err
	}
	res.SessionStored = perLogin(before, afterSessions, n)
	res.CookieHeaderBytes = len("Cookie: __Host-gatehouse=" + secrets[0] + "\r\n")

	pairs := make([]gatehouse.TokenPair, n)
	for i := range n {
		r, err := login(i, gatehouse.ModeToken)
		if err != nil {
			return nil, err
		}
		pairs[i] = r.Tokens
	}
	afterTokens, err := tableBytes(raw)
	if err != nil {
		return nil, err
	}
	res.TokenStored = perLogin(afterSessions, afterTokens, n)
	res.BearerHeaderBytes = len("Authorization: Bearer " + pairs[0].AccessToken + "\r\n")

	for i := range pairs {
		r, err := svc.Refresh(ctx, pairs[i].RefreshToken, client)
		if err != nil {
			return nil, err
		}
		pairs[i] = r.Tokens
	}
	afterRefresh, err := tableBytes(raw)
	if err != nil {
		return nil, err
	}
	res.RefreshStored = perLogin(afterTokens, afterRefresh, n)

	u, err := svc.UserByEmail(ctx, users[0])
	if err != nil {
		return nil, err
	}
	if _, err := svc.SetRoles(ctx, u.ID, []string{gatehouse.RoleAdmin, gatehouse.RoleCustomer, gatehouse.RoleService}, gatehouse.Client{IP: "cli"}); err != nil {
		return nil, err
	}
	r, err := login(0, gatehouse.ModeToken)
	if err != nil {
		return nil, err
	}
	res.BearerHeaderBytesAdmin = len("Authorization: Bearer " + r.Tokens.AccessToken + "\r\n")

	// Heap per cached credential: every credential checked once. The
	// first user's are skipped: the role change above revoked its tokens.
	skip := func(i int) bool { return i%len(users) == 0 }
	res.SessionCachedBytes, err = heapPer(n, func(i int) error {
		if skip(i) {
			return nil
		}
		_, err := svc.AuthenticateSession(ctx, secrets[i])
		return err
	})
	if err != nil {
		return nil, err
	}
	res.TokenCachedBytes, err = heapPer(n, func(i int) error {
		if skip(i) {
			return nil
		}
		_, err := svc.AuthenticateToken(ctx, pairs[i].AccessToken)
		return err
	})
	// The heap is measured only while everything it should count is
	// still referenced.
	runtime.KeepAlive(svc)
	runtime.KeepAlive(secrets)
	runtime.KeepAlive(pairs)
	res.SessionCachedBytes *= float64(n) / float64(n-countSkipped(n, skip))
	res.TokenCachedBytes *= float64(n) / float64(n-countSkipped(n, skip))
	return res, err
}

func countSkipped(n int, skip func(int) bool) int {
	c := 0
	for i := range n {
		if skip(i) {
			c++
		}
	}
	return c
}

// heapPer returns the heap growth per call of f(0..n-1), measured after
// collections on both sides (two, so that sync.Pool's victim caches are
// empty too).
func heapPer(n int, f func(i int) error) (float64, error) {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m0)
	for i := range n {
		if err := f(i); err != nil {
			return 0, err
		}
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	return float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / float64(n), nil
}

// tableBytes returns the bytes of pages in use per table, each index
// counted with its table, after a checkpoint moves the WAL into the file.
func tableBytes(db *sql.DB) (map[string]int64, error) {
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return nil, err
	}
	rows, err := db.Query(`SELECT s.tbl_name, SUM(d.pgsize)
		FROM dbstat d JOIN sqlite_schema s ON s.name = d.name
		GROUP BY s.tbl_name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		out[name] = n
	}
	return out, rows.Err()
}

// perLogin is the growth of each table from a to b per login, with the
// total under "total"; tables that did not grow are left out.
func perLogin(a, b map[string]int64, n int) map[string]float64 {
	out := map[string]float64{}
	var total int64
	for name, size := range b {
		if d := size - a[name]; d > 0 {
			out[name] = float64(d) / float64(n)
			total += d
		}
	}
	out["total"] = float64(total) / float64(n)
	return out
}
