package e2e_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// TestCluster runs several `gatehouse serve` processes on one real
// PostgreSQL database and one real Redis, as a deployment behind a load
// balancer would: what one server does, the others honour within the
// bounds the README gives (at once with Redis, within about a second
// without), through a crash, a store outage and a Redis outage.
//
// The subtests share one PostgreSQL server, started here so that the
// other tests of the package do not pay for it (pgtest's own shared
// server would need pgtest.Main in TestMain), each with a database and a
// Redis of its own; the outage subtest stops a server of its own. Login
// rate limits across servers are not tested here.
func TestCluster(t *testing.T) {
	// A binary built with -race waits a second at exit for late race
	// reports: a stopped server or a CLI command would take a second more,
	// and the CLI's exit would lag its commit by as much.
	t.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	pg := pgtest.Start(t)
	t.Run("SharedState", func(t *testing.T) { testClusterSharedState(t, pg) })
	t.Run("WithoutRedis", func(t *testing.T) { testClusterWithoutRedis(t, pg) })
	t.Run("KillUnderLoad", func(t *testing.T) { testClusterKillUnderLoad(t, pg) })
	t.Run("PostgresOutage", func(t *testing.T) { testClusterPostgresOutage(t, pgtest.Start(t)) })
	t.Run("RedisOutage", func(t *testing.T) { testClusterRedisOutage(t, pg) })
	t.Run("Restart", func(t *testing.T) { testClusterRestart(t, pg) })
	t.Run("ThrottleAcrossServers", func(t *testing.T) { testClusterThrottle(t, pg) })
	t.Run("OpenIDConnect", func(t *testing.T) { testClusterOIDC(t, pg) })
}

// fastPath checks that changes travelled through Redis rather than the
// one-second poll: each delay is already checked against the contract's
// bound; their median says which path carried most of them. Polling alone
// has a median of half a second (the poll's phase is random), Redis of a
// few milliseconds; the median, unlike the mean, is not moved by the odd
// change that a loaded machine delays.
func fastPath(t *testing.T, delays ...map[string]time.Duration) {
	t.Helper()
	var all []time.Duration
	for _, m := range delays {
		for _, d := range m {
			all = append(all, d)
		}
	}
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	median := all[len(all)/2]
	t.Logf("propagation over %d changes: median %v, slowest %v", len(all), median.Round(time.Millisecond), all[len(all)-1].Round(time.Millisecond))
	if median >= 250*time.Millisecond {
		t.Errorf("median propagation %v over %d changes, want under 250ms with Redis (polling alone is about 500ms)", median.Round(time.Millisecond), len(all))
	}
}

func testClusterSharedState(t *testing.T, pg *pgtest.Server) {
	c := newCluster(t, pg, true)
	a, b, cc := c.start(), c.start(), c.start()
	all := []*server{a, b, cc}
	root := c.admin(a)
	a.register("ada@example.com", "bob@example.com", "carol@example.com")

	// A login made on A works on every server, in both modes.
	cookie := a.cookieLogin("ada@example.com")
	login := a.signIn("ada@example.com", "token").body
	access := login["access_token"].(string)
	adaID := login["user"].(map[string]any)["id"].(string)
	for i, s := range all {
		for mode, me := range map[string]reply{"cookie": s.withCookie("GET", "/v1/me", cookie), "bearer": s.bearer("GET", "/v1/me", access)} {
			s.want(me, 200, "")
			if email := me.body["user"].(map[string]any)["email"]; email != "ada@example.com" {
				t.Errorf("server %d, %s: me is %v, want ada@example.com", i, mode, email)
			}
		}
	}

	// Signing out on B: A and C refuse the cookie, then the token, within
	// a second. Their caches are warm, so only a notice can stop them
	// sooner than the cache's second.
	var delays []map[string]time.Duration
	for _, s := range all {
		s.want(s.withCookie("GET", "/v1/verify", cookie), 200, "")
	}
	delays = append(delays, propagation(t, time.Second, b.signOut(cookie, false), map[string]func() bool{
		"cookie signed out on B, refused by A": func() bool { return a.verifyCookie(cookie) == 401 },
		"cookie signed out on B, refused by C": func() bool { return cc.verifyCookie(cookie) == 401 },
	}))
	for _, s := range all {
		s.want(s.bearer("GET", "/v1/verify", access), 200, "")
	}
	delays = append(delays, propagation(t, time.Second, b.signOut(access, true), map[string]func() bool{
		"token signed out on B, refused by A": func() bool { return a.verifyBearer(access) == 401 },
		"token signed out on B, refused by C": func() bool { return cc.verifyBearer(access) == 401 },
	}))

	// keys rotate from the CLI reaches every server's JWKS. The CLI does not
	// ring Redis: the servers find the key at their next poll of the store
	// (each second), so the bound is that second plus the poll's own time,
	// counted from the CLI's exit (its commit is a little earlier).
	bob := b.accessLogin("bob@example.com") // signed by the old key
	oldKid := kidOf(t, bob)
	out := c.cli("", true, "keys", "rotate")
	fields := strings.Fields(out)
	if len(fields) < 4 || !strings.HasPrefix(out, "new active key ") {
		t.Fatalf("keys rotate printed %q, want the new key", out)
	}
	kid := fields[3]
	has := func(s *server) func() bool { return func() bool { return slices.Contains(s.kids(), kid) } }
	propagation(t, time.Second+250*time.Millisecond, nil, map[string]func() bool{
		"rotated key in A's JWKS": has(a), "rotated key in B's JWKS": has(b), "rotated key in C's JWKS": has(cc),
	})
	// A server that publishes the key also signs with it (both are swapped
	// together): a token issued by B verifies everywhere, and so does one
	// signed by the old key.
	carol := b.accessLogin("carol@example.com")
	if got := kidOf(t, carol); got != kid {
		t.Errorf("a token issued after the rotation is signed by %s, want %s", got, kid)
	}
	for i, s := range all {
		if got := s.kids(); len(got) != 2 || !slices.Contains(got, oldKid) {
			t.Errorf("server %d JWKS kids = %v, want the new %s and the old %s", i, got, kid, oldKid)
		}
		s.want(s.bearer("GET", "/v1/verify", carol), 200, "")
		s.want(s.bearer("GET", "/v1/verify", bob), 200, "")
	}

	// A role change made on A: B and C refuse the token that carries the
	// old roles, and the session sees the new ones, within a second.
	cookie = a.cookieLogin("ada@example.com")
	login = a.signIn("ada@example.com", "token").body
	access, refresh := login["access_token"].(string), login["refresh_token"].(string)
	for _, s := range all {
		s.want(s.bearer("GET", "/v1/verify", access), 200, "")
		if r := s.withCookie("GET", "/v1/verify", cookie); r.status != 200 || r.header.Get("X-Gatehouse-Roles") != "customer" {
			t.Fatalf("cookie verify = %d roles %q, want 200 customer", r.status, r.header.Get("X-Gatehouse-Roles"))
		}
	}
	patch := func(body string) func() error {
		return a.expect(200, "PATCH", "/v1/admin/users/"+adaID, body, "Authorization", "Bearer "+root)
	}
	newRoles := func(s *server) func() bool {
		return func() bool {
			return s.withCookie("GET", "/v1/verify", cookie).header.Get("X-Gatehouse-Roles") == "customer,service"
		}
	}
	nextSecond() // a change in the token's own second would not stale it
	delays = append(delays, propagation(t, time.Second, patch(`{"roles":["customer","service"]}`), map[string]func() bool{
		"token with old roles refused by B": func() bool { return b.verifyBearer(access) == 401 },
		"token with old roles refused by C": func() bool { return cc.verifyBearer(access) == 401 },
		"session with new roles on B":       newRoles(b),
		"session with new roles on C":       newRoles(cc),
	}))
	// The client refreshes (on B) and its new token carries the new roles
	// and their permissions everywhere.
	r := b.call(newClient(), "POST", "/v1/token/refresh", map[string]string{"refresh_token": refresh})
	b.want(r, 200, "")
	access = r.body["access_token"].(string)
	for _, s := range all {
		r := s.bearer("GET", "/v1/verify?permission=revocations:read", access)
		s.want(r, 200, "")
		if got := r.header.Get("X-Gatehouse-Roles"); got != "customer,service" {
			t.Errorf("refreshed token's roles = %q, want customer,service", got)
		}
	}

	// Disabling the user on A ends both logins on B and C within a second.
	delays = append(delays, propagation(t, time.Second, patch(`{"disabled":true}`), map[string]func() bool{
		"cookie of a disabled user refused by B": func() bool { return b.verifyCookie(cookie) == 401 },
		"token of a disabled user refused by B":  func() bool { return b.verifyBearer(access) == 401 },
		"cookie of a disabled user refused by C": func() bool { return cc.verifyCookie(cookie) == 401 },
		"token of a disabled user refused by C":  func() bool { return cc.verifyBearer(access) == 401 },
	}))
	b.want(b.call(newClient(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "token"}), 403, "account_disabled")
	fastPath(t, delays...)
}

func testClusterWithoutRedis(t *testing.T, pg *pgtest.Server) {
	c := newCluster(t, pg, false)
	a, b := c.start(), c.start()
	a.want(a.ready(), 200, "")

	// Without Redis a server learns of a change made elsewhere at its next
	// poll of the store (each second), and a cached session is trusted for
	// a second at most: the documented bound.
	const bound = 2500 * time.Millisecond
	a.register("ada@example.com")
	cookie := a.cookieLogin("ada@example.com")
	access := a.accessLogin("ada@example.com")
	a.want(a.withCookie("GET", "/v1/verify", cookie), 200, "")
	propagation(t, bound, b.signOut(cookie, false), map[string]func() bool{
		"cookie signed out on B, refused by A (no Redis)": func() bool { return a.verifyCookie(cookie) == 401 },
	})
	a.want(a.bearer("GET", "/v1/verify", access), 200, "")
	propagation(t, bound, b.signOut(access, true), map[string]func() bool{
		"token signed out on B, refused by A (no Redis)": func() bool { return a.verifyBearer(access) == 401 },
	})
}

// testClusterThrottle: with Redis the login limits count across servers:
// failures spread over A and B lock the account at this address as one
// server would, and the owner's right password from elsewhere still works.
func testClusterThrottle(t *testing.T, pg *pgtest.Server) {
	c := newCluster(t, pg, true)
	a, b := c.start(), c.start()
	a.register("ada@example.com")
	wrong := func(s *server) reply {
		return s.call(newClient(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": "wrong guess", "mode": "session"})
	}
	for i := range 9 {
		s := []*server{a, b}[i%2]
		s.want(wrong(s), 401, "invalid_credentials")
	}
	// The tenth failure, whichever server sees it, locks the account here.
	r := b.call(newClient(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": "tenth guess", "mode": "session"})
	b.want(r, 429, "too_many_attempts")
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	a.want(a.call(newClient(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}), 429, "too_many_attempts")
}

// loadTally counts the answers of a load run.
type loadTally struct {
	mu        sync.Mutex
	answers   map[*server]int // answers, right or wrong
	afterKill map[*server]int // right answers to requests sent after the kill
	errors    map[*server]int // transport errors (no answer)
	wrong     []string        // what went wrong, for the failure message
}

func testClusterKillUnderLoad(t *testing.T, pg *pgtest.Server) {
	c := newCluster(t, pg, true)
	a, b, victim := c.start(), c.start(), c.start()
	all := []*server{a, b, victim}

	// A valid and a revoked credential of each kind, the revocations seen by
	// every server before the load starts.
	a.register("ada@example.com", "bob@example.com")
	valid := a.cookieLogin("ada@example.com")
	validAccess := b.accessLogin("ada@example.com")
	revoked := a.cookieLogin("bob@example.com")
	revokedAccess := b.accessLogin("bob@example.com")
	a.want(a.withCookie("POST", "/v1/logout", revoked), 204, "")
	b.want(b.bearer("POST", "/v1/logout", revokedAccess), 204, "")
	conds := map[string]func() bool{}
	for i, s := range all {
		conds[fmt.Sprintf("revoked cookie refused by server %d", i)] = func() bool { return s.verifyCookie(revoked) == 401 }
		conds[fmt.Sprintf("revoked token refused by server %d", i)] = func() bool { return s.verifyBearer(revokedAccess) == 401 }
	}
	propagation(t, time.Second, nil, conds)

	type credential struct {
		name          string
		header, value string
		valid         bool
	}
	creds := []credential{
		{"valid cookie", "Cookie", "gatehouse=" + valid, true},
		{"valid token", "Authorization", "Bearer " + validAccess, true},
		{"revoked cookie", "Cookie", "gatehouse=" + revoked, false},
		{"revoked token", "Authorization", "Bearer " + revokedAccess, false},
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}

	// Workers ask every server in turn about every credential for three
	// seconds; a third of the way in, the victim is killed.
	tally := &loadTally{answers: map[*server]int{}, afterKill: map[*server]int{}, errors: map[*server]int{}}
	killed := make(chan struct{})
	const workers, duration = 6, 3 * time.Second
	begin := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for n := w; time.Since(begin) < duration; n++ {
				s, cred := all[n%len(all)], creds[(n/len(all))%len(creds)]
				afterKill := false
				select {
				case <-killed:
					afterKill = true
				default:
				}
				req, _ := http.NewRequest("GET", s.url+"/v1/verify", nil)
				req.Header.Set(cred.header, cred.value)
				res, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				tally.mu.Lock()
				switch {
				case err != nil:
					tally.errors[s]++
				case cred.valid && res.StatusCode != 200, !cred.valid && res.StatusCode != 401:
					tally.answers[s]++
					tally.wrong = append(tally.wrong, fmt.Sprintf("%s → %d from %s", cred.name, res.StatusCode, s.url))
				default:
					tally.answers[s]++
					if afterKill {
						tally.afterKill[s]++
					}
				}
				tally.mu.Unlock()
			}
		})
	}
	time.Sleep(duration / 3)
	victim.kill()
	killedAt := time.Since(begin)
	close(killed)
	wg.Wait()
	t.Logf("victim killed after %v; answers A/B/victim %d/%d/%d, A/B after the kill %d/%d; transport errors %d/%d/%d",
		killedAt.Round(time.Millisecond), tally.answers[a], tally.answers[b], tally.answers[victim],
		tally.afterKill[a], tally.afterKill[b], tally.errors[a], tally.errors[b], tally.errors[victim])

	// Connection errors to the victim are expected; anything else is not.
	if len(tally.wrong) > 0 {
		t.Errorf("%d wrong answers, for example %v", len(tally.wrong), tally.wrong[:min(5, len(tally.wrong))])
	}
	for i, s := range []*server{a, b} {
		if tally.errors[s] > 0 {
			t.Errorf("server %d (alive) failed to answer %d times", i, tally.errors[s])
		}
		if tally.afterKill[s] < 20 {
			t.Errorf("server %d answered %d requests after the kill, want it to keep answering", i, tally.afterKill[s])
		}
		if !s.alive() {
			t.Errorf("server %d exited:\n%s", i, s.logs)
		}
	}
	if tally.answers[victim] == 0 {
		t.Error("the victim answered nothing before it was killed: the load did not reach it")
	}

	// The survivors still tell each other: a sign-out on A reaches B.
	propagation(t, time.Second, a.signOut(valid, false), map[string]func() bool{
		"cookie signed out on A after the kill, refused by B": func() bool { return b.verifyCookie(valid) == 401 },
	})
}

func testClusterPostgresOutage(t *testing.T, pg *pgtest.Server) {
	c := newCluster(t, pg, true)
	a, b := c.start(), c.start()
	both := []*server{a, b}

	a.register("ada@example.com", "bob@example.com")
	cookie := a.cookieLogin("ada@example.com")
	login := a.signIn("ada@example.com", "token").body
	access, refresh := login["access_token"].(string), login["refresh_token"].(string)
	revoked := a.cookieLogin("bob@example.com")
	revokedAccess := a.accessLogin("bob@example.com")
	a.want(a.withCookie("POST", "/v1/logout", revoked), 204, "")
	propagation(t, time.Second, a.signOut(revokedAccess, true), map[string]func() bool{
		"revoked cookie refused by B": func() bool { return b.verifyCookie(revoked) == 401 },
		"revoked token refused by B":  func() bool { return b.verifyBearer(revokedAccess) == 401 },
	})
	pids := []int{a.cmd.Process.Pid, b.cmd.Process.Pid}

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	for _, s := range both {
		s.readyzWithin(5*time.Second, 503, "unavailable")
	}
	// Once the revocation feed has gone unread for 3 s, cached sessions are
	// trusted for a second only; past that, a session check needs the
	// store: it fails closed, for the valid and the revoked cookie alike.
	time.Sleep(time.Until(down.Add(4100 * time.Millisecond)))
	for _, s := range both {
		s.want(s.withCookie("GET", "/v1/verify", cookie), 503, "unavailable")
		s.want(s.withCookie("GET", "/v1/me", cookie), 503, "unavailable")
		s.want(s.withCookie("GET", "/v1/verify", revoked), 503, "unavailable")
		// The bearer check reads no store: a revoked token stays refused
		// from memory, a valid one keeps working.
		s.want(s.bearer("GET", "/v1/verify", revokedAccess), 401, "invalid_token")
		s.want(s.bearer("GET", "/v1/verify", access), 200, "")
		s.want(s.call(newClient(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}), 503, "unavailable")
		s.want(s.call(newClient(), "POST", "/v1/token/refresh", map[string]string{"refresh_token": refresh}), 503, "unavailable")
	}

	// PostgreSQL comes back: the same processes recover by themselves.
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	for i, s := range both {
		eventually(t, 15*time.Second, fmt.Sprintf("server %d ready and signing in again", i), func() bool {
			return s.ready().status == 200 && s.call(newClient(), "POST", "/v1/login",
				map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}).status == 200
		})
		t.Logf("server %d ready and signing in %v after PostgreSQL came back", i, time.Since(up).Round(time.Millisecond))
		if !s.alive() || s.cmd.Process.Pid != pids[i] {
			t.Errorf("server %d was restarted or exited", i)
		}
		s.want(s.withCookie("GET", "/v1/verify", cookie), 200, "")
		s.want(s.withCookie("GET", "/v1/verify", revoked), 401, "unauthenticated")
		s.want(s.bearer("GET", "/v1/verify", revokedAccess), 401, "invalid_token")
	}
	// And they tell each other again.
	propagation(t, time.Second, a.signOut(cookie, false), map[string]func() bool{
		"cookie signed out on A after the outage, refused by B": func() bool { return b.verifyCookie(cookie) == 401 },
	})
}

func testClusterRedisOutage(t *testing.T, pg *pgtest.Server) {
	c := newCluster(t, pg, true)
	a, b := c.start(), c.start()
	both := []*server{a, b}
	const unreachable, back = "Redis is unreachable", "Redis is reachable again"

	a.register("ada@example.com")
	cookie := a.cookieLogin("ada@example.com")
	access := a.accessLogin("ada@example.com")
	for _, s := range both {
		s.want(s.ready(), 200, "")
		s.want(s.withCookie("GET", "/v1/verify", cookie), 200, "")
		s.want(s.bearer("GET", "/v1/verify", access), 200, "")
	}

	c.redis.Stop()
	// Readiness reports Redis but stays 200: a server without Redis goes
	// on answering correctly, only slower to see the others' changes.
	for _, s := range both {
		s.readyRedis(10*time.Second, "unreachable")
	}
	// A sign-out on A still reaches B, through the poll of the store.
	const bound = 2500 * time.Millisecond
	propagation(t, bound, a.signOut(cookie, false), map[string]func() bool{
		"cookie signed out on A, refused by B (Redis down)": func() bool { return b.verifyCookie(cookie) == 401 },
	})
	propagation(t, bound, a.signOut(access, true), map[string]func() bool{
		"token signed out on A, refused by B (Redis down)": func() bool { return b.verifyBearer(access) == 401 },
	})
	b.want(b.withCookie("GET", "/v1/verify", a.cookieLogin("ada@example.com")), 200, "") // signing in needs no Redis
	// The outage is logged once, however many requests met it.
	for i, s := range both {
		if n := strings.Count(s.logs.String(), unreachable); n != 1 {
			t.Errorf("server %d logged %q %d times during the outage, want once", i, unreachable, n)
		}
	}

	c.redis.Restart()
	for _, s := range both {
		s.readyRedis(5*time.Second, "ok")
	}
	// The subscription is retried every half second: give it two tries.
	// Then the fast path is back: sign-outs in either direction are seen
	// within a second, and on average far sooner.
	time.Sleep(time.Second)
	var delays []map[string]time.Duration
	for round := range 2 {
		for i, from := range both {
			to := both[1-i]
			cookie, access := from.cookieLogin("ada@example.com"), from.accessLogin("ada@example.com")
			to.want(to.withCookie("GET", "/v1/verify", cookie), 200, "")
			to.want(to.bearer("GET", "/v1/verify", access), 200, "")
			name := fmt.Sprintf("signed out on server %d, refused by server %d (Redis back, round %d)", i, 1-i, round+1)
			delays = append(delays, propagation(t, time.Second, from.signOut(cookie, false), map[string]func() bool{
				"cookie " + name: func() bool { return to.verifyCookie(cookie) == 401 },
			}))
			delays = append(delays, propagation(t, time.Second, from.signOut(access, true), map[string]func() bool{
				"token " + name: func() bool { return to.verifyBearer(access) == 401 },
			}))
		}
	}
	fastPath(t, delays...)

	// One outage, one pair of lines: unreachable, then reachable again.
	for i, s := range both {
		logs := s.logs.String()
		if n, m := strings.Count(logs, unreachable), strings.Count(logs, back); n != 1 || m != 1 || strings.Index(logs, back) < strings.Index(logs, unreachable) {
			t.Errorf("server %d logged %q %d times and %q %d times; want each once, in that order", i, unreachable, n, back, m)
		}
	}
}

func testClusterRestart(t *testing.T, pg *pgtest.Server) {
	c := newCluster(t, pg, true)
	a, b := c.start(), c.start()

	// Logins of each kind, a revoked one of each kind, and a rotated key,
	// so that the store holds an old and a new signing key.
	a.register("ada@example.com", "bob@example.com", "carol@example.com")
	cookie := a.cookieLogin("ada@example.com")
	login := b.signIn("ada@example.com", "token").body
	access, refresh := login["access_token"].(string), login["refresh_token"].(string)
	revoked := a.cookieLogin("bob@example.com")
	revokedAccess := b.accessLogin("bob@example.com")
	a.want(a.withCookie("POST", "/v1/logout", revoked), 204, "")
	b.want(b.bearer("POST", "/v1/logout", revokedAccess), 204, "")
	c.cli("", true, "keys", "rotate")
	eventually(t, 5*time.Second, "the rotated key on both servers", func() bool { return len(a.kids()) == 2 && len(b.kids()) == 2 })
	carol := a.accessLogin("carol@example.com")
	kids := a.kids()
	if kidOf(t, carol) == kidOf(t, access) {
		t.Fatalf("tokens before and after the rotation share kid %s", kidOf(t, access))
	}

	// Every server stops; while none runs, the CLI revokes carol's login.
	for _, s := range []*server{a, b} {
		if err := s.stop(); err != nil {
			t.Fatal(err)
		}
	}
	c.cli("", false, "sessions", "revoke", "--email", "carol@example.com")

	// A new server on the same database knows everything.
	s := c.start()
	if got := s.kids(); !sameSet(got, kids) {
		t.Errorf("JWKS kids after the restart = %v, want %v", got, kids)
	}
	me := s.withCookie("GET", "/v1/me", cookie)
	s.want(me, 200, "")
	if me.body["user"].(map[string]any)["email"] != "ada@example.com" {
		t.Errorf("me = %s", me.raw)
	}
	s.want(s.bearer("GET", "/v1/me", access), 200, "") // signed by the old key
	s.want(s.withCookie("GET", "/v1/verify", revoked), 401, "unauthenticated")
	s.want(s.bearer("GET", "/v1/verify", revokedAccess), 401, "invalid_token")
	s.want(s.bearer("GET", "/v1/verify", carol), 401, "invalid_token") // revoked while no server ran
	r := s.call(newClient(), "POST", "/v1/token/refresh", map[string]string{"refresh_token": refresh})
	s.want(r, 200, "")
	if kidOf(t, r.body["access_token"].(string)) != kidOf(t, carol) {
		t.Errorf("a token issued after the restart is not signed by the newest key")
	}
	s.want(s.bearer("GET", "/v1/me", r.body["access_token"].(string)), 200, "")
	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}), 409, "email_taken")
	s.signIn("bob@example.com", "session")
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// nextSecond waits for the next whole second. A role change makes stale
// the tokens issued before it, the change time taken to its second
// (gatehouse.RolesStale: iat has whole seconds), so a test that expects a
// token to go stale changes the roles in a later second than the token's.
func nextSecond() {
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second).Sub(now))
}
