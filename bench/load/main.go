// Command load is Gatehouse's load generator for GET /v1/verify, the check
// a reverse proxy makes on every request, optionally with sign-ins running
// beside it. bench/load.sh drives it; it can also be run alone:
//
//	load prep  -url http://127.0.0.1:8080 -mode session -users 100 -logins 1000 -out cookies.txt
//	load run   -url http://127.0.0.1:8080 -creds cookies.txt -c 64 -d 15s -label "SQLite, cookie"
//	load run   -url http://127.0.0.1:8080 -creds cookies.txt -c 16 -d 10s -label "SQLite, cookie" \
//	           -login-conns 4 -login-email bench-0@example.com -login-password "load test passphrase 7f3c"
//	load floor -addr 127.0.0.1:9000
//
// prep registers users and signs in through the API, writing one
// credential a line ("cookie NAME=VALUE" or "bearer TOKEN"). run holds a
// fixed number of keep-alive connections for a fixed time, each sending
// one request after the other (a closed loop, like wrk), cycling through
// the credentials, and prints one markdown table row: requests per second,
// latency percentiles from every sample sorted, and the CPU time the
// server cores spent per request. Any answer but 200, and any connection
// error, is an error: run prints the row and exits 1. floor serves the
// trivial handler that bounds what net/http can do on this machine, with
// the http.Server settings of gatehouse serve.
//
// # Sign-ins beside the checks
//
// With -login-conns N, run also holds N more keep-alive connections, each
// signing in (POST /v1/login, -login-mode session by default) as
// -login-email with -login-password one after the other, in a closed loop
// for the same warm-up and window, split over the servers like the
// checks. This is how to see whether argon2id starves the checks: compare
// the checks' p99 with and without it. run then prints a second row for
// the sign-ins (label ", sign-ins"; the connections column holds N, the
// req/s column sign-ins per second) and labels the first ", checks"; since
// the server's CPU cannot be split between the two, both rows show "–" for
// CPU per request (only "cores busy" is given). With -c 0 run signs in
// only, and the sign-in row shows the server CPU per sign-in. A sign-in
// answered with anything but 200 (503 from a full hashing queue
// included) is an error like any other.
//
// # JSON
//
// -json appends one line per run with these fields (latencies in µs):
//
//	label, servers, connections, seconds   what was run (seconds: the window)
//	requests, sent                         checks in the window; all responses read, warm-up included
//	rps, p50_us, p90_us, p99_us, p999_us, max_us
//	errors, network_errors, statuses       errors count network errors and non-200 answers
//	first_error                            the first error, if any
//	server_side_cores_busy                 CPU of -server-pids and -store-pids per second of window
//	server_cpu_us_per_request              server CPU per check (with sign-ins, theirs included)
//	store_cpu_us_per_request               store CPU per check
//
// and, with -login-conns (omitted otherwise):
//
//	login_connections, login_requests      N; sign-ins started in the window and answered
//	login_rps, login_p50_us, login_p90_us, login_p99_us, login_max_us
//	login_errors, login_statuses           as errors and statuses, for the sign-ins
//	server_cpu_us_per_login                server CPU per sign-in, only with -c 0
//
// Only loopback targets are accepted: the tool is for measuring on one
// machine, never for loading someone else's server.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
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

	"github.com/gatehouse/gatehouse/bench/internal/stats"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "prep":
		err = prep(os.Args[2:])
	case "run":
		err = run(os.Args[2:])
	case "floor":
		err = floor(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: load prep|run|floor [flags] (see the package documentation)")
	os.Exit(2)
}

// targets parses a comma-separated list of http://127.0.0.1:port URLs.
func targets(list string) ([]*url.URL, error) {
	var out []*url.URL
	for _, s := range strings.Split(list, ",") {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		if u.Scheme != "http" {
			return nil, fmt.Errorf("%s: only plain http on loopback", s)
		}
		ap, err := netip.ParseAddrPort(u.Host)
		if err != nil || !ap.Addr().IsLoopback() {
			return nil, fmt.Errorf("%s: the target must be a loopback ip:port", s)
		}
		out = append(out, u)
	}
	if len(out) == 0 {
		return nil, errors.New("no -url")
	}
	return out, nil
}

// ---- prep: sign in through the API ----

const benchPassword = "load test passphrase 7f3c"

func prep(args []string) error {
	fs := flag.NewFlagSet("prep", flag.ExitOnError)
	urls := fs.String("url", "", "comma-separated server URLs; sign-ins are spread over them")
	mode := fs.String("mode", "session", "session (cookie) or token (bearer)")
	users := fs.Int("users", 100, "users to sign in as (registering an existing one is fine)")
	register := fs.Bool("register", true, "register the users first (false: they exist already)")
	logins := fs.Int("logins", 1000, "logins to make, cycling through the users")
	parallel := fs.Int("p", 4, "sign-ins in flight at once")
	prefix := fs.String("prefix", "bench", "email prefix of the users")
	out := fs.String("out", "", "credentials file to write")
	fs.Parse(args)
	if *mode != "session" && *mode != "token" {
		return fmt.Errorf("-mode must be session or token")
	}
	if *out == "" || *users < 1 || *logins < 1 {
		return fmt.Errorf("prep needs -out, -users >= 1 and -logins >= 1")
	}
	tg, err := targets(*urls)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *parallel}}
	email := func(i int) string { return fmt.Sprintf("%s-%d@example.com", *prefix, i) }
	// Each user and each login comes from an address of its own, as real
	// clients do, so the per-address limits on registrations and failed
	// logins do not count them all as one. The server believes
	// X-Forwarded-For only from --trusted-proxies (127.0.0.1 in load.sh).
	forwarded := func(i int) string { return fmt.Sprintf("10.%d.%d.%d", 1+i>>16&0xff, i>>8&0xff, i&0xff) }
	post := func(base *url.URL, path string, body any, from string) (*http.Response, []byte, error) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base.String()+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", from)
		req.Header.Set("User-Agent", "gatehouse-bench")
		res, err := client.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		return res, raw, err
	}

	start := time.Now()
	creds := make([]string, *logins)
	n := *users
	if !*register {
		n = 0
	}
	err = parallelDo(n, *parallel, func(i int) error {
		res, raw, err := post(tg[i%len(tg)], "/v1/users", map[string]string{"email": email(i), "password": benchPassword}, forwarded(i))
		if err != nil {
			return err
		}
		if res.StatusCode != 201 && res.StatusCode != 409 {
			return fmt.Errorf("register %s: %d %s", email(i), res.StatusCode, raw)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = parallelDo(*logins, *parallel, func(i int) error {
		res, raw, err := post(tg[i%len(tg)], "/v1/login",
			map[string]any{"email": email(i % *users), "password": benchPassword, "mode": *mode}, forwarded(1<<20+i))
		if err != nil {
			return err
		}
		if res.StatusCode != 200 {
			return fmt.Errorf("login %s: %d %s", email(i%*users), res.StatusCode, raw)
		}
		if *mode == "token" {
			var body struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(raw, &body); err != nil || body.AccessToken == "" {
				return fmt.Errorf("login %s: no access_token in %s", email(i%*users), raw)
			}
			creds[i] = "bearer " + body.AccessToken
			return nil
		}
		for _, c := range res.Cookies() {
			if strings.HasSuffix(c.Name, "gatehouse") && c.Value != "" {
				creds[i] = "cookie " + c.Name + "=" + c.Value
				return nil
			}
		}
		return fmt.Errorf("login %s: no session cookie in %q", email(i%*users), res.Header.Values("Set-Cookie"))
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, []byte(strings.Join(creds, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "prep: %d users, %d %s logins over %d server(s) in %v\n",
		*users, *logins, *mode, len(tg), time.Since(start).Round(time.Millisecond))
	return nil
}

// parallelDo runs f(0..n-1) on p goroutines and returns the first error.
func parallelDo(n, p int, f func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range max(p, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n)) // stop the others
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// ---- run: the load itself ----

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	urls := fs.String("url", "", "comma-separated server URLs; connections are split evenly over them")
	credsFile := fs.String("creds", "", "credentials file written by prep (or by bench/store fill)")
	path := fs.String("path", "/v1/verify", "request path")
	conns := fs.Int("c", 64, "connections, each with one request in flight (0: sign-ins only, with -login-conns)")
	dur := fs.Duration("d", 15*time.Second, "measured duration")
	warmup := fs.Duration("warmup", 2*time.Second, "unmeasured warm-up before it")
	label := fs.String("label", "", "first cell of the table row")
	serverPIDs := fs.String("server-pids", "", "comma-separated pids of the servers under test: report the CPU time they and their children spent per request")
	storePIDs := fs.String("store-pids", "", "the same for the stores behind them (PostgreSQL, Redis), reported apart")
	jsonOut := fs.String("json", "", "also append the result as a JSON line to this file")
	loginConns := fs.Int("login-conns", 0, "connections signing in (POST /v1/login) in a closed loop beside the checks, split over the servers like the others")
	loginEmail := fs.String("login-email", "", "with -login-conns: the account to sign in as (it must exist)")
	loginPassword := fs.String("login-password", "", "with -login-conns: its password")
	loginMode := fs.String("login-mode", "session", "with -login-conns: session or token")
	fs.Parse(args)
	if *dur > 10*time.Minute || *warmup > time.Minute || *conns < 0 || *conns > 10000 || *loginConns < 0 || *loginConns > 1000 || *conns+*loginConns == 0 {
		return errors.New("-d at most 10m, -warmup at most 1m, -c between 0 and 10000, -login-conns between 0 and 1000, and at least one connection")
	}
	if *loginConns > 0 && (*loginEmail == "" || *loginPassword == "") {
		return errors.New("-login-conns needs -login-email and -login-password")
	}
	if *loginMode != "session" && *loginMode != "token" {
		return errors.New("-login-mode must be session or token")
	}
	tg, err := targets(*urls)
	if err != nil {
		return err
	}
	var creds []string
	if *conns > 0 {
		if creds, err = readCreds(*credsFile); err != nil {
			return err
		}
	}
	pids, err := parsePIDs(*serverPIDs)
	if err != nil {
		return err
	}
	storePids, err := parsePIDs(*storePIDs)
	if err != nil {
		return err
	}
	// One prepared request per target and credential, and one sign-in per
	// target.
	reqs := make([][][]byte, len(tg))
	logins := make([][][]byte, len(tg))
	body, _ := json.Marshal(map[string]string{"email": *loginEmail, "password": *loginPassword, "mode": *loginMode})
	for t, u := range tg {
		reqs[t] = make([][]byte, len(creds))
		for i, c := range creds {
			reqs[t][i] = []byte("GET " + *path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: gatehouse-bench\r\n" + c + "\r\n\r\n")
		}
		logins[t] = [][]byte{fmt.Appendf(nil, "POST /v1/login HTTP/1.1\r\nHost: %s\r\nUser-Agent: gatehouse-bench\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", u.Host, len(body), body)}
	}

	// One counter for all connections, so that every credential goes to
	// every server in turn (a credential signed in on one server is
	// checked on the others too).
	var next, nextLogin atomic.Int64
	workers := make([]*worker, *conns)
	for w := range workers {
		t := w % len(tg)
		workers[w] = &worker{addr: tg[t].Host, reqs: reqs[t], next: &next, samples: make([]int64, 0, 1<<16)}
	}
	loginWorkers := make([]*worker, *loginConns)
	for w := range loginWorkers {
		t := w % len(tg)
		loginWorkers[w] = &worker{addr: tg[t].Host, reqs: logins[t], next: &nextLogin, samples: make([]int64, 0, 1<<10)}
	}
	start := time.Now()
	measureFrom := start.Add(*warmup)
	end := measureFrom.Add(*dur)
	var cpuBefore, cpuAfter, storeBefore, storeAfter uint64
	var wg sync.WaitGroup
	for _, w := range append(workers, loginWorkers...) {
		wg.Add(1)
		go func() { defer wg.Done(); w.loop(measureFrom, end) }()
	}
	time.Sleep(time.Until(measureFrom))
	cpuBefore, _ = processTicks(pids)
	storeBefore, _ = processTicks(storePids)
	time.Sleep(time.Until(end))
	cpuAfter, _ = processTicks(pids)
	storeAfter, _ = processTicks(storePids)
	wg.Wait()

	r := result{Label: *label, Conns: *conns, Servers: len(tg), Seconds: dur.Seconds(), HasStore: storePids != nil}
	s := summarize(workers, *dur)
	r.Requests, r.Sent, r.RPS, r.Errors, r.NetErrors, r.Statuses, r.FirstError = s.requests, s.sent, s.rps, s.errors, s.netErrors, s.statuses, s.firstErr
	r.P50, r.P90, r.P99, r.P999, r.Max = s.p50, s.p90, s.p99, s.p999, s.max
	if *loginConns > 0 {
		l := summarize(loginWorkers, *dur)
		r.LoginConns, r.LoginRequests, r.LoginRPS, r.LoginErrors, r.LoginStatuses = *loginConns, l.requests, l.rps, l.errors, l.statuses
		r.LoginP50, r.LoginP90, r.LoginP99, r.LoginMax = l.p50, l.p90, l.p99, l.max
		if r.FirstError == "" && l.firstErr != "" {
			r.FirstError = "login: " + l.firstErr
		}
	}
	// USER_HZ ticks are 10 ms on Linux.
	ticks := float64(cpuAfter - cpuBefore)
	r.Busy = (ticks + float64(storeAfter-storeBefore)) / 100 / dur.Seconds()
	if r.Requests > 0 {
		r.ServerCPUPerReq = ticks * 10_000 / float64(r.Requests)
		r.StoreCPUPerReq = float64(storeAfter-storeBefore) * 10_000 / float64(r.Requests)
	}
	if r.Requests == 0 && r.LoginRequests > 0 {
		r.ServerCPUPerLogin = ticks * 10_000 / float64(r.LoginRequests)
	}

	fmt.Println(r.row())
	if *conns > 0 {
		fmt.Fprintf(os.Stderr, "run %q: %d requests in %v over %d connections to %d server(s): %.0f req/s, p50 %.0f µs, p99 %.0f µs, max %.0f µs, statuses %v, network errors %d\n",
			r.Label, r.Requests, dur, r.Conns, r.Servers, r.RPS, r.P50, r.P99, r.Max, r.Statuses, r.NetErrors)
	}
	if *loginConns > 0 {
		fmt.Fprintf(os.Stderr, "run %q: %d %s sign-ins in %v over %d connections: %.1f logins/s, p50 %.0f µs, p99 %.0f µs, max %.0f µs, statuses %v; server side %.2f cores busy\n",
			r.Label, r.LoginRequests, *loginMode, dur, r.LoginConns, r.LoginRPS, r.LoginP50, r.LoginP99, r.LoginMax, r.LoginStatuses, r.Busy)
	}
	if *jsonOut != "" {
		b, _ := json.Marshal(r)
		f, err := os.OpenFile(*jsonOut, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		f.Write(append(b, '\n'))
		f.Close()
	}
	if r.Errors > 0 || r.LoginErrors > 0 {
		return fmt.Errorf("run %q: %d errors (statuses %v, network errors %d), %d sign-in errors (statuses %v); first: %s",
			r.Label, r.Errors, r.Statuses, r.NetErrors, r.LoginErrors, r.LoginStatuses, r.FirstError)
	}
	if *conns > 0 && r.Requests == 0 || *loginConns > 0 && r.LoginRequests == 0 {
		return fmt.Errorf("run %q: no request completed", r.Label)
	}
	return nil
}

// summary sums up what a set of workers saw in the measured window.
type summary struct {
	requests, sent, errors, netErrors int
	statuses                          map[int]int
	firstErr                          string
	rps, p50, p90, p99, p999, max     float64 // per second; µs
}

// summarize reads percentiles from every sample of ws, sorted; any answer
// but 200, and any network error, counts as an error.
func summarize(ws []*worker, dur time.Duration) summary {
	s := summary{statuses: map[int]int{}}
	var all []int64
	for _, w := range ws {
		all = append(all, w.samples...)
		s.sent += w.sent
		s.netErrors += w.netErrors
		for code, n := range w.statuses {
			s.statuses[code] += n
		}
		if w.firstErr != "" && s.firstErr == "" {
			s.firstErr = w.firstErr
		}
	}
	slices.Sort(all)
	s.requests = len(all)
	s.rps = float64(len(all)) / dur.Seconds()
	us := func(p float64) float64 { return float64(stats.Percentile(all, p)) / 1e3 }
	s.p50, s.p90, s.p99, s.p999, s.max = us(0.50), us(0.90), us(0.99), us(0.999), us(1)
	for code, n := range s.statuses {
		if code != 200 {
			s.errors += n
		}
	}
	s.errors += s.netErrors
	return s
}

// result is one run; its JSON field names are listed in the package
// documentation.
type result struct {
	Label           string      `json:"label"`
	Servers         int         `json:"servers"`
	Conns           int         `json:"connections"`
	Seconds         float64     `json:"seconds"`
	Requests        int         `json:"requests"` // in the measured window
	Sent            int         `json:"sent"`     // warm-up included
	RPS             float64     `json:"rps"`
	P50             float64     `json:"p50_us"`
	P90             float64     `json:"p90_us"`
	P99             float64     `json:"p99_us"`
	P999            float64     `json:"p999_us"`
	Max             float64     `json:"max_us"`
	Errors          int         `json:"errors"`
	NetErrors       int         `json:"network_errors"`
	Statuses        map[int]int `json:"statuses"`
	FirstError      string      `json:"first_error,omitempty"`
	Busy            float64     `json:"server_side_cores_busy"`
	ServerCPUPerReq float64     `json:"server_cpu_us_per_request"`
	StoreCPUPerReq  float64     `json:"store_cpu_us_per_request"`
	HasStore        bool        `json:"-"`

	LoginConns    int         `json:"login_connections,omitempty"`
	LoginRequests int         `json:"login_requests,omitempty"`
	LoginRPS      float64     `json:"login_rps,omitempty"`
	LoginP50      float64     `json:"login_p50_us,omitempty"`
	LoginP90      float64     `json:"login_p90_us,omitempty"`
	LoginP99      float64     `json:"login_p99_us,omitempty"`
	LoginMax      float64     `json:"login_max_us,omitempty"`
	LoginErrors   int         `json:"login_errors,omitempty"`
	LoginStatuses map[int]int `json:"login_statuses,omitempty"`
	// ServerCPUPerLogin is set only with -c 0, when sign-ins are all the
	// server does.
	ServerCPUPerLogin float64 `json:"server_cpu_us_per_login,omitempty"`
}

// row is the result as markdown table rows, with the columns of the
// header bench/load.sh writes: one for the checks (unless -c 0) and one
// for the sign-ins (with -login-conns). The CPU of sign-ins and checks
// cannot be told apart, so with both the per-request CPU cells are "–"
// and only "cores busy" is given.
func (r result) row() string {
	cpu, store := fmt.Sprintf("%.0f", r.ServerCPUPerReq), "–" // no store behind the server
	if r.HasStore {
		store = fmt.Sprintf("%.0f", r.StoreCPUPerReq)
	}
	var rows []string
	if r.LoginConns > 0 {
		cpu, store = "–", "–"
	}
	if r.Conns > 0 {
		label := r.Label
		if r.LoginConns > 0 {
			label += ", checks"
		}
		rows = append(rows, fmt.Sprintf("| %s | %d | %d | %s | %s | %s | %s | %s | %s | %.2f | %d |",
			label, r.Servers, r.Conns, thousands(r.RPS), thousands(r.P50), thousands(r.P90), thousands(r.P99),
			cpu, store, r.Busy, r.Errors))
	}
	if r.LoginConns > 0 {
		if r.Conns == 0 {
			cpu = fmt.Sprintf("%.0f", r.ServerCPUPerLogin)
		}
		rows = append(rows, fmt.Sprintf("| %s, sign-ins | %d | %d | %.1f | %s | %s | %s | %s | – | %.2f | %d |",
			r.Label, r.Servers, r.LoginConns, r.LoginRPS, thousands(r.LoginP50), thousands(r.LoginP90), thousands(r.LoginP99),
			cpu, r.Busy, r.LoginErrors))
	}
	return strings.Join(rows, "\n")
}

func thousands(f float64) string {
	s := strconv.FormatInt(int64(f+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// readCreds reads "cookie NAME=VALUE" and "bearer TOKEN" lines and returns
// them as request header lines.
func readCreds(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for n, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		kind, v, _ := strings.Cut(line, " ")
		if v == "" || strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("%s:%d: malformed credential", path, n+1)
		}
		switch kind {
		case "cookie":
			out = append(out, "Cookie: "+v)
		case "bearer":
			out = append(out, "Authorization: Bearer "+v)
		default:
			return nil, fmt.Errorf("%s:%d: want cookie or bearer, got %q", path, n+1, kind)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no credentials", path)
	}
	return out, nil
}

// worker is one connection with one request in flight at a time.
type worker struct {
	addr string
	reqs [][]byte
	next *atomic.Int64 // the credential to send next, shared

	conn net.Conn
	br   *bufio.Reader

	sent      int     // responses read, warm-up included
	samples   []int64 // latencies in ns of requests started in the window
	statuses  map[int]int
	netErrors int
	firstErr  string
}

const requestTimeout = 10 * time.Second

func (w *worker) loop(measureFrom, end time.Time) {
	w.statuses = map[int]int{}
	defer func() {
		if w.conn != nil {
			w.conn.Close()
		}
	}()
	for {
		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		req := w.reqs[int(w.next.Add(1)-1)%len(w.reqs)]
		status, err := w.do(req, t0)
		measured := !t0.Before(measureFrom)
		if err != nil {
			if measured {
				w.netErrors++
				if w.firstErr == "" {
					w.firstErr = err.Error()
				}
			}
			if w.conn != nil {
				w.conn.Close()
				w.conn = nil
			}
			time.Sleep(10 * time.Millisecond) // do not spin on a refused connection
			continue
		}
		w.sent++
		if measured {
			w.samples = append(w.samples, int64(time.Since(t0)))
			w.statuses[status]++
			if status != 200 && w.firstErr == "" {
				w.firstErr = fmt.Sprintf("status %d", status)
			}
		}
	}
}

// do sends one request on the worker's keep-alive connection, dialling
// when there is none, and reads the whole response.
func (w *worker) do(req []byte, t0 time.Time) (int, error) {
	if w.conn == nil {
		c, err := net.DialTimeout("tcp", w.addr, requestTimeout)
		if err != nil {
			return 0, err
		}
		w.conn = c
		if w.br == nil {
			w.br = bufio.NewReaderSize(c, 16<<10)
		} else {
			w.br.Reset(c)
		}
	}
	w.conn.SetDeadline(t0.Add(requestTimeout))
	if _, err := w.conn.Write(req); err != nil {
		return 0, err
	}
	return w.readResponse()
}

// readResponse reads a status line, headers and a Content-Length body.
// Gatehouse and the floor always send Content-Length for these answers;
// anything else is reported as an error rather than guessed at.
func (w *worker) readResponse() (int, error) {
	line, err := w.br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("malformed status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("malformed status line %q", line)
	}
	length, closeAfter := -1, false
	for {
		line, err = w.br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(line) <= 2 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, fmt.Errorf("malformed header %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, fmt.Errorf("malformed Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, fmt.Errorf("unsupported Transfer-Encoding %q", value)
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			closeAfter = true
		}
	}
	if length < 0 {
		return 0, errors.New("response without Content-Length")
	}
	if _, err := w.br.Discard(length); err != nil {
		return 0, err
	}
	if closeAfter {
		w.conn.Close()
		w.conn = nil
	}
	return status, nil
}

// ---- CPU accounting of the servers ----

// processTicks returns the CPU time (user and system, in USER_HZ ticks of
// 10 ms) of the given processes and of all their descendants (PostgreSQL's
// backends are children of its postmaster), read from /proc. Counting
// processes rather than cores keeps whatever else runs on the machine out
// of the figure.
func processTicks(roots []int) (uint64, error) {
	if len(roots) == 0 {
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
			continue // exited meanwhile
		}
		// The command name, in parentheses, may hold spaces: split after it.
		i := bytes.LastIndexByte(raw, ')')
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
	in := map[int]bool{}
	for _, r := range roots {
		in[r] = true
	}
	// Descendants: repeat until no new process joins (the tree is shallow).
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

// parsePIDs parses a comma-separated list of process ids.
func parsePIDs(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		pid, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("-server-pids %q: %v", s, err)
		}
		out = append(out, pid)
	}
	return out, nil
}

// ---- floor: the trivial handler ----

func floor(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to listen on")
	fs.Parse(args)
	ap, err := netip.ParseAddrPort(*addr)
	if err != nil || !ap.Addr().IsLoopback() {
		return fmt.Errorf("-addr must be a loopback ip:port")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := floorServer()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Printf("http://%s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// floorServer is the floor's server. Its settings are those of gatehouse
// serve (the constants at the top of cmd/gatehouse/serve.go, copied, since
// a command cannot import another), so that the floor and the server
// differ only in the handler.
func floorServer() *http.Server {
	return &http.Server{
		// What every server must do at least: parse the request, headers
		// and cookie included, and answer 200 with an empty body.
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
	}
}
