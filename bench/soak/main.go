// Command soak holds one Gatehouse server under a steady mix of requests
// for a long time and says whether it stays healthy: its memory levels
// off, no request fails, latency does not drift and never stalls.
// bench/soak.sh (make soak) builds gatehouse and this program and runs it:
//
//	soak -gatehouse ./gatehouse -dir /tmp/soak -d 10m -rate 500 -md soak.md
//
// # The server
//
// One `gatehouse serve --dev` on a fresh SQLite file in -dir, on
// 127.0.0.1, with /metrics on a private port, Go's profiler on another
// (its address is logged, to look inside during a run) and
// GODEBUG=gctrace=1. Every request comes from 127.0.0.1, so the
// per-address limits on registrations and refreshes are raised out of the
// way. Access tokens live -access-ttl, 1 minute rather than the default
// 10, so that what the server keeps for a token's lifetime (verified
// tokens, the revocations a token check must know) reaches its steady
// size within the first minutes: with 10-minute tokens it grows until
// about 12 minutes, past the end of a 10-minute run. The server's
// standard error (its log and the GC trace) is written to -dir/server.log.
//
// # The load
//
// An open loop: request i is due at start + i/rate whatever happened to
// the ones before it, and is sent by a goroutine of its own, so that a
// slow answer never delays the next request, over at most 64 keep-alive
// connections (as a reverse proxy keeps a pool; past them a request
// waits for one). A request's latency runs from when it was due to when
// its whole answer was read, so a stall of the load generator counts
// against it too; "send delay" is how late it left. The kinds are spread
// evenly over each second; at the defaults (-rate 500, -logins 4,
// -refreshes 20), per second:
//
//   - 2 sign-ins in session mode and 2 in token mode (POST /v1/login),
//     each about 45 ms of argon2id CPU;
//   - as many sign-outs (POST /v1/logout) of the oldest login of each mode,
//     so that logins are made and ended all the time while about -pool
//     (100) of each mode stay live;
//   - 20 refreshes (POST /v1/token/refresh) of the token logins in turn;
//   - 472 checks (GET /v1/verify), half with a session cookie and half
//     with a bearer token, cycling through the live logins.
//
// No request uses a login the run has ended: a sign-out first takes its
// login out of the pool and waits for the checks and the refresh in
// flight on it (its latency counts from then), and one refresh at a time
// uses a token login. Expected answers are 200 (204 for sign-outs); any
// other status, transport error or time-out (10 s) is a failure. Before
// the measured -d, the users are registered, the pools filled, and the
// same load runs for -warmup unmeasured.
//
// # What it reports
//
// Every -sample (5 s; less for runs under 5 minutes, so that a third of
// the run holds 20 samples): the server's RSS (VmRSS of
// /proc/PID/status), its Go heap in use, goroutines and live logins
// (go_memstats_heap_inuse_bytes, go_goroutines and gatehouse_live_logins
// of /metrics), the connections open to it, and how many of its requests other than sign-ins took
// over 50 ms by its own clock (the gatehouse_http_request_duration_seconds
// histogram: the handler's time, without the kernel's queues or the
// client). Every second: how long runnable work waited for a CPU, on the
// machine (/proc/pressure/cpu) and in the threads of the server and of
// this program (/proc/PID/task/*/schedstat). From the server's GC trace:
// each collection's stop-the-world phases, mark and live heap.
//
// Per interval (-interval, a minute, or a third of -d if shorter) it
// reports requests, failures, the latency of the quick requests (checks,
// refreshes, sign-outs: p50, p99, max) and of sign-ins apart, memory, the
// server's collections and the generator's own, the longest send delay
// and the waits for a CPU; then the memory by third of the run, the
// slowest quick requests (one per second) beside what overlapped them,
// and the verdicts:
//
//   - memory levels off: the median RSS sample of the last third of the
//     run is at most 10% above the median of the middle third, and the
//     goroutines beyond one per open connection (a server has a goroutine
//     per connection, and a stall makes the generator open more) at most
//     10% + 10 above (medians, so that growth fails and a passing peak
//     does not); the least heap a GC of the last
//     third found live is at most 10% + 1 MiB above the middle third's.
//     The least, because each password hash in flight holds a 19 MiB
//     buffer: the largest live heaps and heap-in-use samples measure the
//     sign-ins in flight, the least what the server keeps;
//   - no request failed (warm-up included);
//   - p99 does not drift: the last interval's p99 of the quick requests
//     is at most -drift (1.5) times the first interval's, plus
//     -drift-slack (1 ms) for timer and scheduler noise;
//   - no stall: every quick request took less than -max (100 ms).
//
// Sign-ins are left out of the latency verdicts: their ~45 ms of argon2id
// is by design, and their figures are in the table. The report is a
// markdown section ("## Soak") on standard output and in -md; soak exits
// 1 when a verdict fails.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/bench/internal/stats"
)

const (
	password = "soak test passphrase 41d9"
	maxConns = 64 // connections to the server at most
)

// config is what the flags set.
type config struct {
	gatehouse, dir, md, command, commit string
	dur, warmup, every, sample          time.Duration
	accessTTL, maxLatency, driftSlack   time.Duration
	rate, logins, refreshes             float64
	pool, users                         int
	drift                               float64
}

func main() {
	var c config
	flag.StringVar(&c.gatehouse, "gatehouse", "", "the gatehouse binary to run")
	flag.StringVar(&c.dir, "dir", "", "directory for the database and the server's log (it must exist)")
	flag.StringVar(&c.md, "md", "", "also write the report to this file")
	flag.StringVar(&c.command, "command", "", "the command to name in the report (default: this one)")
	flag.StringVar(&c.commit, "commit", "", "the commit to name in the report")
	flag.DurationVar(&c.dur, "d", 10*time.Minute, "measured duration")
	flag.DurationVar(&c.warmup, "warmup", 30*time.Second, "unmeasured load before it")
	flag.DurationVar(&c.every, "interval", time.Minute, "reporting interval (at most a third of -d)")
	flag.DurationVar(&c.sample, "sample", 0, "how often to sample the server's memory (default 5s, less for runs under 5 minutes: 20 samples a third)")
	flag.DurationVar(&c.accessTTL, "access-ttl", time.Minute, "the server's --access-ttl")
	flag.DurationVar(&c.maxLatency, "max", 100*time.Millisecond, "verdict: the longest a quick request may take")
	flag.Float64Var(&c.drift, "drift", 1.5, "verdict: the last interval's p99 at most this times the first's")
	flag.DurationVar(&c.driftSlack, "drift-slack", time.Millisecond, "verdict: plus this")
	flag.Float64Var(&c.rate, "rate", 500, "requests per second, all kinds together")
	flag.Float64Var(&c.logins, "logins", 4, "sign-ins per second, half in each mode (and as many sign-outs)")
	flag.Float64Var(&c.refreshes, "refreshes", 20, "refreshes per second")
	flag.IntVar(&c.pool, "pool", 100, "live logins of each mode to keep")
	flag.IntVar(&c.users, "users", 20, "users to sign in as")
	flag.Parse()
	if c.gatehouse == "" || c.dir == "" || c.dur <= 0 || c.rate <= 2*c.logins+c.refreshes || c.pool < 2 || c.users < 1 {
		fmt.Fprintln(os.Stderr, "soak: needs -gatehouse, -dir, -d > 0, -pool >= 2, -users >= 1, and -rate above twice -logins plus -refreshes")
		os.Exit(2)
	}
	if c.sample <= 0 {
		c.sample = max(time.Second, min(5*time.Second, c.dur/60))
	}
	if c.command == "" {
		c.command = strings.Join(os.Args, " ")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := soak(ctx, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "soak: "+format+"\n", args...)
}

// soak runs the whole thing and reports whether every verdict holds.
func soak(ctx context.Context, c config) (bool, error) {
	loadBefore := loadavg()
	srv, err := startServer(ctx, c)
	if err != nil {
		return false, err
	}
	defer srv.stop()
	g := newGenerator(c, srv.api)

	logf("registering %d users, signing in %d times in each mode", c.users, c.pool)
	if err := g.prepare(ctx); err != nil {
		return false, err
	}
	// The intervals: -interval, but at least three in the run, and all of
	// the same length.
	n := max(3, int((c.dur+c.every/2)/c.every))
	every := c.dur / time.Duration(n)
	start := time.Now().Add(c.warmup)
	g.rec = newRecorder(start, every, n)
	logf("load: %.0f requests/s, %v of warm-up, then %v measured in %d intervals of %v", c.rate, c.warmup, c.dur, n, every)

	sctx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan []sample, 1)
	go func() { sampled <- sampleServer(sctx, srv, start, c.sample, g.rec, g.conns.Load) }()
	waits := make(chan []cpuWait, 1)
	go func() { waits <- sampleCPUWait(sctx, srv.cmd.Process.Pid) }()
	go g.rec.progress(sctx)
	g.run(ctx, start.Add(-c.warmup), start.Add(c.dur))
	stopSampling()
	samples := <-sampled
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	loadAfter := loadavg()

	r := report{c: c, rec: g.rec, samples: samples, waits: <-waits, gcs: srv.gcs(), loadBefore: loadBefore, loadAfter: loadAfter, mix: g.mix}
	var b bytes.Buffer
	ok := r.write(&b)
	os.Stdout.Write(b.Bytes())
	if c.md != "" {
		if err := os.WriteFile(c.md, b.Bytes(), 0o644); err != nil {
			return false, err
		}
	}
	return ok, nil
}

// ---- the server ----

type server struct {
	cmd     *exec.Cmd
	started time.Time // when the process was started, about
	api     string    // http://127.0.0.1:port
	metrics string    // http://127.0.0.1:port/metrics
	done    chan struct{}

	mu        sync.Mutex
	gcEvents  []gcEvent
	logClosed chan struct{}
}

// gcEvent is one garbage collection of the server, from its GC trace:
// when it ended (its start as the trace gives it, from the start of the
// process, plus its phases), the two stop-the-world phases and the
// concurrent mark between them (wall clock), the CPU time goroutines
// spent assisting the mark, and the heap it found live (bytes, to the
// MiB).
type gcEvent struct {
	at                    time.Time
	stw1, mark, stw2, cpu time.Duration
	live                  float64
}

func startServer(ctx context.Context, c config) (*server, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	addr := func(p int) string { return "127.0.0.1:" + strconv.Itoa(p) }
	db := filepath.Join(c.dir, "soak.db")
	args := []string{"serve", "--dev", "--addr", addr(ports[0]), "--db", db,
		"--metrics-addr", addr(ports[1]), "--pprof-addr", addr(ports[2]),
		"--limit-refreshes", "1000000", "--limit-registrations", "1000000",
		"--access-ttl", c.accessTTL.String()}
	cmd := exec.Command(c.gatehouse, args...)
	cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive soak
	logFile, err := os.Create(filepath.Join(c.dir, "server.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout = logFile
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, started: started, api: "http://" + addr(ports[0]), metrics: "http://" + addr(ports[1]) + "/metrics",
		done: make(chan struct{}), logClosed: make(chan struct{})}
	go s.readLog(stderr, logFile)
	go func() { cmd.Wait(); close(s.done) }()
	logf("server pid %d on %s (log %s; pprof on %s)", cmd.Process.Pid, s.api, logFile.Name(), addr(ports[2]))
	for range 300 {
		if res, err := http.Get(s.api + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("the server exited: %v (see %s)", cmd.ProcessState, logFile.Name())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	s.stop()
	return nil, errors.New("the server did not answer /healthz within 30 s")
}

// gcLine matches a line of GODEBUG=gctrace=1, for instance
// "gc 12 @3.456s 1%: 0.021+1.5+0.032 ms clock, 0.08+0.2/1.1/0.5+0.13 ms cpu, 4->4->1 MB, ...".
var gcLine = regexp.MustCompile(`^gc \d+ @([\d.]+)s \d+%: ([\d.]+)\+([\d.]+)\+([\d.]+) ms clock, [\d.]+\+([\d.]+)/\S* ms cpu, \d+->\d+->(\d+) MB`)

// readLog copies the server's standard error to the log file, noting each
// garbage collection as it is reported.
func (s *server) readLog(r io.Reader, f *os.File) {
	defer close(s.logClosed)
	defer f.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	dur := func(v string, unit time.Duration) time.Duration {
		x, _ := strconv.ParseFloat(v, 64)
		return time.Duration(x * float64(unit))
	}
	for sc.Scan() {
		line := sc.Text()
		if m := gcLine.FindStringSubmatch(line); m != nil {
			s.mu.Lock()
			e := gcEvent{stw1: dur(m[2], time.Millisecond), mark: dur(m[3], time.Millisecond),
				stw2: dur(m[4], time.Millisecond), cpu: dur(m[5], time.Millisecond)}
			e.live, _ = strconv.ParseFloat(m[6], 64)
			e.live *= 1 << 20
			e.at = s.started.Add(dur(m[1], time.Second) + e.stw1 + e.mark + e.stw2)
			s.gcEvents = append(s.gcEvents, e)
			s.mu.Unlock()
		}
		f.WriteString(line + "\n")
	}
}

func (s *server) gcs() []gcEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.gcEvents)
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	<-s.logClosed
}

func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// ---- the load ----

// kind is what a request does.
type kind int

const (
	checkCookie kind = iota
	checkBearer
	signInSession
	signInToken
	refresh
	signOutSession
	signOutToken
	kinds
)

var kindNames = [kinds]string{"check, cookie", "check, bearer", "sign-in, session", "sign-in, token",
	"refresh", "sign-out, session", "sign-out, token"}

func (k kind) signIn() bool { return k == signInSession || k == signInToken }

// login is one live login of the run. cred is the header that proves it
// ("Cookie: gatehouse=..." or "Authorization: Bearer ..."), refreshed in
// token mode.
type login struct {
	mu              sync.Mutex
	header, cred    string
	refreshToken    string
	refreshing      atomic.Bool
	inUse           sync.WaitGroup // requests of this run that use it
	inPool, removed bool           // guarded by the pool's lock
}

func (l *login) credential() (string, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.header, l.cred
}

// pool holds the live logins of one mode, oldest first.
type pool struct {
	mu     sync.RWMutex
	logins []*login
	next   atomic.Uint64
}

// take returns a live login, marked in use, or nil for none.
func (p *pool) take() *login {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if len(p.logins) == 0 {
		return nil
	}
	l := p.logins[p.next.Add(1)%uint64(len(p.logins))]
	l.inUse.Add(1)
	return l
}

// takeForRefresh returns a live login no refresh is using, marked in use
// and refreshing, or nil for none.
func (p *pool) takeForRefresh(from *atomic.Uint64) *login {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for range len(p.logins) {
		l := p.logins[from.Add(1)%uint64(len(p.logins))]
		if l.refreshing.CompareAndSwap(false, true) {
			l.inUse.Add(1)
			return l
		}
	}
	return nil
}

func (p *pool) add(l *login) {
	p.mu.Lock()
	p.logins = append(p.logins, l)
	p.mu.Unlock()
}

// removeOldest takes the oldest login out of the pool, unless that would
// leave fewer than keep.
func (p *pool) removeOldest(keep int) *login {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.logins) <= keep {
		return nil
	}
	l := p.logins[0]
	p.logins = slices.Delete(p.logins, 0, 1)
	return l
}

type generator struct {
	c                 config
	api               string
	client            *http.Client
	sessions          pool
	tokens            pool
	refreshRR, userRR atomic.Uint64
	mix               [kinds]float64 // requests per second of each kind
	rec               *recorder
	conns             atomic.Int64 // connections open to the server
}

// countedConn takes itself off a count of open connections when closed.
type countedConn struct {
	net.Conn
	open   *atomic.Int64
	closed sync.Once
}

func (c *countedConn) Close() error {
	c.closed.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}

func newGenerator(c config, api string) *generator {
	// At most maxConns connections, kept alive, as a reverse proxy keeps a
	// pool: past them, a request waits for one (and its latency, counted
	// from when it was due, shows it).
	g := &generator{c: c, api: api}
	// The server runs a goroutine per open connection: count them, so that
	// goroutines can be told from connections.
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		g.conns.Add(1)
		return &countedConn{Conn: conn, open: &g.conns}, nil
	}
	tr := &http.Transport{DialContext: dial, MaxConnsPerHost: maxConns, MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout: 5 * time.Minute, DisableCompression: true}
	g.client = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	checks := c.rate - 2*c.logins - c.refreshes
	g.mix = [kinds]float64{
		checkCookie: checks / 2, checkBearer: checks / 2,
		signInSession: c.logins / 2, signInToken: c.logins / 2,
		refresh:        c.refreshes,
		signOutSession: c.logins / 2, signOutToken: c.logins / 2,
	}
	return g
}

func (g *generator) email(i uint64) string {
	return fmt.Sprintf("soak-%d@example.com", i%uint64(g.c.users))
}

// send makes one request and reads its whole answer.
func (g *generator) send(ctx context.Context, method, path string, body any, header, cred string) (int, []byte, http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.api+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("User-Agent", "gatehouse-soak")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if header != "" {
		req.Header.Set(header, cred)
	}
	res, err := g.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, res.Header, err
}

// signIn makes a login of the mode and adds it to its pool.
func (g *generator) signIn(ctx context.Context, mode string) error {
	email := g.email(g.userRR.Add(1))
	status, raw, h, err := g.send(ctx, "POST", "/v1/login", map[string]string{"email": email, "password": password, "mode": mode}, "", "")
	if err != nil {
		return err
	}
	if status != 200 {
		return fmt.Errorf("sign-in: %d %.200s", status, raw)
	}
	l := &login{}
	if mode == "token" {
		var tr struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		if err := json.Unmarshal(raw, &tr); err != nil || tr.AccessToken == "" || tr.RefreshToken == "" {
			return fmt.Errorf("sign-in: no tokens in %.200s", raw)
		}
		l.header, l.cred, l.refreshToken = "Authorization", "Bearer "+tr.AccessToken, tr.RefreshToken
		g.tokens.add(l)
		return nil
	}
	res := http.Response{Header: h}
	for _, ck := range res.Cookies() {
		if ck.Name == "gatehouse" && ck.Value != "" {
			l.header, l.cred = "Cookie", ck.Name+"="+ck.Value
			g.sessions.add(l)
			return nil
		}
	}
	return fmt.Errorf("sign-in: no session cookie in %q", h.Values("Set-Cookie"))
}

// prepare registers the users and fills the pools, two requests at a
// time (about one per CPU: each is an argon2id hash).
func (g *generator) prepare(ctx context.Context) error {
	for i := range g.c.users {
		status, raw, _, err := g.send(ctx, "POST", "/v1/users", map[string]string{"email": g.email(uint64(i)), "password": password}, "", "")
		if err != nil {
			return err
		}
		if status != 201 {
			return fmt.Errorf("registering %s: %d %.200s", g.email(uint64(i)), status, raw)
		}
	}
	errs := make(chan error, 2)
	for _, mode := range []string{"session", "token"} {
		go func() {
			for range g.c.pool {
				if err := g.signIn(ctx, mode); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	return cmp.Or(<-errs, <-errs)
}

// run sends requests at the fixed rate from first to end, then waits for
// the answers.
func (g *generator) run(ctx context.Context, first, end time.Time) {
	period := time.Duration(float64(time.Second) / g.c.rate)
	m := mixer{rates: g.mix}
	var wg sync.WaitGroup
	for i := 0; ; i++ {
		due := first.Add(time.Duration(i) * period)
		if !due.Before(end) || ctx.Err() != nil {
			break
		}
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func(k kind, due time.Time) {
			defer wg.Done()
			g.do(ctx, k, due)
		}(m.next(), due)
	}
	wg.Wait()
}

// mixer picks the kind of each request by smooth weighted round robin:
// at every request each kind's credit grows by its rate, and the kind
// with the most credit goes and pays the total rate, so that the kinds
// come at their rates, evenly interleaved.
type mixer struct {
	rates, credit [kinds]float64
}

func (m *mixer) next() kind {
	best, total := kind(0), 0.0
	for k := range kinds {
		m.credit[k] += m.rates[k]
		total += m.rates[k]
		if m.credit[k] > m.credit[best] {
			best = k
		}
	}
	m.credit[best] -= total
	return best
}

// do makes one request of kind k, due at due, and records it.
func (g *generator) do(ctx context.Context, k kind, due time.Time) {
	from := due // where its latency counts from
	var l *login
	var p *pool
	switch k {
	case signOutSession, signOutToken:
		p = &g.sessions
		if k == signOutToken {
			p = &g.tokens
		}
		// Keep at least half the pool: if sign-ins lag, check instead.
		if l = p.removeOldest(g.c.pool / 2); l == nil {
			k = map[kind]kind{signOutSession: checkCookie, signOutToken: checkBearer}[k]
			break
		}
		l.inUse.Wait() // no check or refresh of this run is using it any more
		from = later(due, time.Now())
	case refresh:
		if l = g.tokens.takeForRefresh(&g.refreshRR); l == nil {
			k = checkBearer
		}
	}
	if k == checkCookie || k == checkBearer {
		p = &g.sessions
		if k == checkBearer {
			p = &g.tokens
		}
		l = p.take()
	}

	sent := time.Now()
	err := g.request(ctx, k, l)
	done := time.Now()
	if (k == checkCookie || k == checkBearer || k == refresh) && l != nil {
		if k == refresh {
			l.refreshing.Store(false)
		}
		l.inUse.Done()
	}
	g.rec.add(k, due, from, sent, done, err)
}

// request sends the request of kind k with login l and checks the
// answer.
func (g *generator) request(ctx context.Context, k kind, l *login) error {
	switch k {
	case signInSession:
		return g.signIn(ctx, "session")
	case signInToken:
		return g.signIn(ctx, "token")
	}
	if l == nil {
		return errors.New("no live login to use")
	}
	header, cred := l.credential()
	want := 200
	var status int
	var raw []byte
	var err error
	switch k {
	case checkCookie, checkBearer:
		status, raw, _, err = g.send(ctx, "GET", "/v1/verify", nil, header, cred)
	case refresh:
		l.mu.Lock()
		rt := l.refreshToken
		l.mu.Unlock()
		status, raw, _, err = g.send(ctx, "POST", "/v1/token/refresh", map[string]string{"refresh_token": rt}, "", "")
		if err == nil && status == 200 {
			var tr struct {
				AccessToken  string `json:"access_token"`
				RefreshToken string `json:"refresh_token"`
			}
			if json.Unmarshal(raw, &tr) != nil || tr.AccessToken == "" || tr.RefreshToken == "" {
				return fmt.Errorf("refresh: no tokens in %.200s", raw)
			}
			l.mu.Lock()
			l.cred, l.refreshToken = "Bearer "+tr.AccessToken, tr.RefreshToken
			l.mu.Unlock()
		}
	case signOutSession:
		want = 204
		status, raw, _, err = g.send(ctx, "POST", "/v1/logout", nil, header, cred)
	case signOutToken:
		want = 204
		l.mu.Lock()
		rt := l.refreshToken
		l.mu.Unlock()
		status, raw, _, err = g.send(ctx, "POST", "/v1/logout", map[string]string{"refresh_token": rt}, header, cred)
	}
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("%d %.200s", status, bytes.TrimSpace(raw))
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ---- what was measured ----

// recorder collects what the requests took, by interval of the measured
// run (requests due in the warm-up count only as failures).
type recorder struct {
	start time.Time
	every time.Duration

	mu             sync.Mutex
	iv             []*interval
	failures       []string // the first few
	failed         int      // all of them, warm-up included
	warmupFailures int
	slowest        []slow // the slowest quick requests, one per second, slowest first
	genGCs         []genGC
}

// interval is what one interval of the run saw.
type interval struct {
	count    [kinds]int
	failed   int
	quick    []time.Duration // latency of checks, refreshes and sign-outs
	signIns  []time.Duration
	maxDelay time.Duration // the latest a request left after it was due
}

// slow is one slow request: when it was due (from the start of the
// measured run), how long it took and how late it left.
type slow struct {
	at, latency, delay time.Duration
	k                  kind
}

// genGC is one garbage collection pause of this program.
type genGC struct {
	at    time.Time
	pause time.Duration
}

const keepSlowest = 10

func newRecorder(start time.Time, every time.Duration, n int) *recorder {
	r := &recorder{start: start, every: every}
	for range n {
		r.iv = append(r.iv, &interval{})
	}
	return r
}

func (r *recorder) add(k kind, due, from, sent, done time.Time, err error) {
	lat, delay := done.Sub(from), max(0, sent.Sub(due))
	i := int(due.Sub(r.start) / r.every)
	if due.Before(r.start) {
		i = -1
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.failed++
		if i < 0 {
			r.warmupFailures++
		}
		if len(r.failures) < 10 {
			r.failures = append(r.failures, fmt.Sprintf("%s due at %v: %v", kindNames[k], due.Sub(r.start).Round(time.Millisecond), err))
		}
	}
	if i < 0 || i >= len(r.iv) {
		return
	}
	iv := r.iv[i]
	iv.count[k]++
	iv.maxDelay = max(iv.maxDelay, delay)
	if err != nil {
		iv.failed++
		return
	}
	if k.signIn() {
		iv.signIns = append(iv.signIns, lat)
		return
	}
	iv.quick = append(iv.quick, lat)
	r.noteSlow(slow{at: due.Sub(r.start), latency: lat, delay: delay, k: k})
}

// progress logs each interval's figures a second after it ends, until
// ctx ends.
func (r *recorder) progress(ctx context.Context) {
	for i := range r.iv {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(r.start.Add(time.Duration(i+1)*r.every + time.Second))):
		}
		r.mu.Lock()
		iv := r.iv[i]
		quick := slices.Clone(iv.quick)
		n, failed := 0, iv.failed
		for _, k := range iv.count {
			n += k
		}
		r.mu.Unlock()
		slices.Sort(quick)
		logf("interval %d of %d: %d requests, %d failed; quick requests p50 %v, p99 %v, max %v", i+1, len(r.iv), n, failed,
			stats.Percentile(quick, 0.5).Round(time.Microsecond), stats.Percentile(quick, 0.99).Round(time.Microsecond),
			stats.Percentile(quick, 1).Round(time.Microsecond))
	}
}

// noteSlow keeps s if it is among the keepSlowest slowest quick requests
// so far, at most one per second (due), so that one stall, which slows
// every request in flight, takes one row.
func (r *recorder) noteSlow(s slow) {
	sec := s.at.Truncate(time.Second)
	for i, o := range r.slowest {
		if o.at.Truncate(time.Second) == sec {
			if s.latency > o.latency {
				r.slowest[i] = s
				slices.SortFunc(r.slowest, func(a, b slow) int { return cmp.Compare(b.latency, a.latency) })
			}
			return
		}
	}
	if len(r.slowest) < keepSlowest || s.latency > r.slowest[len(r.slowest)-1].latency {
		r.slowest = append(r.slowest, s)
		slices.SortFunc(r.slowest, func(a, b slow) int { return cmp.Compare(b.latency, a.latency) })
		r.slowest = r.slowest[:min(len(r.slowest), keepSlowest)]
	}
}

// sample is the server's state at one moment, at from the start of the
// measured run. slowServer and served are running totals of its
// requests other than sign-ins and registrations: those that took over
// 50 ms by its own clock, and all.
type sample struct {
	at                          time.Duration
	rss, heap, goroutines, live float64
	conns                       float64 // the generator's connections to the server
	slowServer, served          float64
}

// sampleServer samples the server every `every` from start until ctx
// ends, and notes this program's own GC pauses as it goes.
func sampleServer(ctx context.Context, s *server, start time.Time, every time.Duration, rec *recorder, conns func() int64) []sample {
	var out []sample
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	lastGC := ms.NumGC
	tick := func(t time.Time) {
		runtime.ReadMemStats(&ms)
		rec.mu.Lock()
		// The last 256 pauses are kept, GC n's at index (n+255)%256.
		for n := max(int64(lastGC)+1, int64(ms.NumGC)-255); n <= int64(ms.NumGC); n++ {
			rec.genGCs = append(rec.genGCs, genGC{at: time.Unix(0, int64(ms.PauseEnd[(n+255)%256])), pause: time.Duration(ms.PauseNs[(n+255)%256])})
		}
		rec.mu.Unlock()
		lastGC = ms.NumGC
		smp, err := s.sampleOnce()
		if err != nil {
			logf("sampling the server: %v", err)
			return
		}
		smp.at, smp.conns = t.Sub(start), float64(conns())
		out = append(out, smp)
	}
	select { // the first sample as the measured run starts
	case <-ctx.Done():
		return out
	case <-time.After(time.Until(start)):
	}
	t := time.NewTicker(every)
	defer t.Stop()
	tick(time.Now())
	for {
		select {
		case <-ctx.Done():
			tick(time.Now())
			return out
		case now := <-t.C:
			tick(now)
		}
	}
}

func (s *server) sampleOnce() (sample, error) {
	var smp sample
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return smp, err
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			smp.rss = kb * 1024
		}
	}
	res, err := http.Get(s.metrics)
	if err != nil {
		return smp, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		name, v := line[:i], line[i+1:]
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch {
		case name == "go_memstats_heap_inuse_bytes":
			smp.heap = x
		case name == "go_goroutines":
			smp.goroutines = x
		case name == "gatehouse_live_logins":
			smp.live = x
		case strings.HasPrefix(name, "gatehouse_http_request_duration_seconds_") && !strings.Contains(name, "/v1/login") && !strings.Contains(name, "/v1/users"):
			if strings.HasPrefix(name, "gatehouse_http_request_duration_seconds_count{") {
				smp.served += x
				smp.slowServer += x
			} else if strings.HasPrefix(name, "gatehouse_http_request_duration_seconds_bucket{") && strings.Contains(name, `le="0.05"`) {
				smp.slowServer -= x
			}
		}
	}
	return smp, sc.Err()
}

// cpuWait is how long, up to a moment, runnable work waited for a CPU:
// on the whole machine, the time during which some task waited (the
// "some" line of /proc/pressure/cpu), and the time the threads of the
// server and of this program spent on a run queue (the second field of
// /proc/PID/task/*/schedstat). A stall with a busy run queue is the
// machine's, not the server's.
type cpuWait struct {
	at                time.Time
	machine           time.Duration // -1 without /proc/pressure/cpu
	server, generator time.Duration
}

// sampleCPUWait samples the CPU waits every second until ctx ends.
func sampleCPUWait(ctx context.Context, serverPID int) []cpuWait {
	var out []cpuWait
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		out = append(out, cpuWait{at: time.Now(), machine: machineCPUWait(),
			server: runQueueWait(serverPID), generator: runQueueWait(os.Getpid())})
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
		}
	}
}

func machineCPUWait() time.Duration {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if !strings.HasPrefix(line, "some ") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "total="); ok {
				us, _ := strconv.ParseInt(v, 10, 64)
				return time.Duration(us) * time.Microsecond
			}
		}
	}
	return -1
}

// runQueueWait sums the run-queue time of a process's threads.
func runQueueWait(pid int) time.Duration {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, _ := os.ReadDir(dir)
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if f := strings.Fields(string(b)); err == nil && len(f) >= 2 {
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			sum += time.Duration(ns)
		}
	}
	return sum
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
