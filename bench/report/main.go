// Command report turns what bench/run.sh measured into docs/performance.md.
// Each subcommand prints markdown:
//
//	report budgets BENCH.txt     each hot path beside its floor, and the budgets
//	report scale SCALE.txt       the session check at 10,000 to 1,000,000 logins
//	report load LOAD.jsonl       load results as a share of the floor's
//	report saturate SAT.jsonl    checks while logins saturate the CPUs
//	report sizes SIZES.json      the sizes that differ between the modes
//	report page DIR              the whole page, from the files in DIR and
//	                             the variables bench/run.sh exports, and the
//	                             Soak section of the last page (DIR/soak.md)
//
// BENCH.txt is `go test -bench` output, with -count repetitions: a figure
// is the median of its repetitions.
package main

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/gatehouse/gatehouse/bench/internal/stats"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: report budgets|scale|load|saturate|sizes|page FILE")
		os.Exit(2)
	}
	cmds := map[string]func(w io.Writer, path string) error{
		"budgets": budgets, "scale": scale, "load": load, "saturate": saturate, "sizes": sizes, "page": page,
	}
	cmd, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintln(os.Stderr, "report: unknown command", os.Args[1])
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	err := cmd(w, os.Args[2])
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// results maps "pkg.BenchmarkName/sub" (pkg the last element of the import
// path, the -N suffix dropped) to unit to the values of its repetitions.
type results map[string]map[string][]float64

// parseBench reads go test -bench output.
func parseBench(path string) (results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := results{}
	pkg := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = p[strings.LastIndexByte(p, '/')+1:]
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := fields[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		key := pkg + "." + name
		if out[key] == nil {
			out[key] = map[string][]float64{}
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				break
			}
			out[key][fields[i+1]] = append(out[key][fields[i+1]], v)
		}
	}
	return out, sc.Err()
}

// median of a benchmark's unit, and whether it was measured.
func (r results) median(key, unit string) (float64, bool) {
	return stats.Median(r[key][unit])
}

// pair is one hot path beside its floor. The floor is the sum of its
// benchmarks (a signature check plus a trivial handler, say).
type pair struct {
	path   string
	bench  string
	floor  string
	floors []string
	// budget, when set, says whether the figures meet the budget,
	// and how it reads.
	budget func(ns, allocs, floor float64) (bool, string)
}

func ratioAtMost(max float64) func(ns, allocs, floor float64) (bool, string) {
	return func(ns, _, floor float64) (bool, string) {
		return ns <= max*floor, fmt.Sprintf("≤ %.2f× the floor", max)
	}
}

// pairs are the hot paths of docs/performance.md's first table.
var pairs = []pair{
	{path: "session check in the service, cached", bench: "gatehouse.BenchmarkSessionCheckScale/logins=10000/cached",
		floor: "SHA-256 of the secret + a map lookup", floors: []string{"gatehouse.BenchmarkSessionCheckScale/logins=10000/floor-sha256-map"}},
	{path: "/v1/verify with a cookie, through the handler", bench: "httpapi.BenchmarkSessionCheck/cached",
		floor: "trivial handler, same request", floors: []string{"httpapi.BenchmarkSessionCheck/floor"}},
	{path: "/v1/verify with a cookie, 1,000 sessions re-read once a second", bench: "httpapi.BenchmarkSessionCheck/spread",
		floor: "trivial handler, same request", floors: []string{"httpapi.BenchmarkSessionCheck/floor"}},
	{path: "token check in the service, token seen before", bench: "httpapi.BenchmarkTokenCheck/service",
		floor: "SHA-256 + a map lookup (as for sessions)", floors: []string{"gatehouse.BenchmarkSessionCheckScale/logins=10000/floor-sha256-map"}},
	{path: "/v1/verify with a bearer token seen before", bench: "httpapi.BenchmarkTokenCheck/handler",
		floor: "trivial handler, same request", floors: []string{"httpapi.BenchmarkTokenCheck/floor-handler"}},
	{path: "/v1/verify with a new bearer token each request", bench: "httpapi.BenchmarkTokenCheck/handler-uncached",
		floor: "ed25519.Verify + trivial handler", floors: []string{"httpapi.BenchmarkTokenCheck/floor-ed25519", "httpapi.BenchmarkTokenCheck/floor-handler"},
		budget: ratioAtMost(1.25)},
	{path: "token.Verifier.Verify alone", bench: "token.BenchmarkVerify",
		floor: "ed25519.Verify", floors: []string{"token.BenchmarkVerifyFloor/signature"}},
	{path: "guard middleware, token seen before", bench: "guard.BenchmarkMiddlewareBearer",
		floor: "trivial handler alone", floors: []string{"guard.BenchmarkMiddlewareFloor"},
		budget: func(ns, allocs, _ float64) (bool, string) {
			return ns < 2000 && allocs <= 5, "< 2 µs and ≤ 5 allocs"
		}},
	{path: "guard middleware, new token each request", bench: "guard.BenchmarkMiddlewareBearerUncached",
		floor: "ed25519.Verify", floors: []string{"guard.BenchmarkEd25519VerifyFloor"}},
	{path: "guard middleware, cookie vouched for within its cache period", bench: "guard.BenchmarkMiddlewareCookieCached",
		floor: "trivial handler alone", floors: []string{"guard.BenchmarkMiddlewareFloor"}},
	{path: "login (POST /v1/login, session mode)", bench: "httpapi.BenchmarkLogin",
		floor: "argon2.IDKey, same parameters", floors: []string{"password.BenchmarkArgon2IDKeyFloor"},
		budget: func(ns, _, floor float64) (bool, string) {
			return floor/ns >= 0.9, "throughput ≥ 90% of the floor's"
		}},
	{path: "refresh (POST /v1/token/refresh)", bench: "httpapi.BenchmarkRefresh/handler",
		floor: "ed25519.Sign + trivial handler", floors: []string{"httpapi.BenchmarkRefresh/floor-ed25519-sign", "httpapi.BenchmarkRefresh/floor-handler"}},
	// The code grant signs twice (access token, ID token): the budget is
	// 3 ms beyond the two signatures.
	{path: "OpenID Connect code grant (POST /oauth2/token)", bench: "oidc.BenchmarkTokenCodeGrant",
		floor: "ed25519.Sign", floors: []string{"oidc.BenchmarkEd25519Sign"},
		budget: func(ns, _, floor float64) (bool, string) {
			return ns-2*floor < 3e6, "< 3 ms beyond two signatures"
		}},
	{path: "OpenID Connect discovery, through the handler", bench: "oidc.BenchmarkDiscovery",
		floor: "trivial handler, same request", floors: []string{"httpapi.BenchmarkTokenCheck/floor-handler"},
		budget: func(ns, _, _ float64) (bool, string) { return ns < 20e3, "< 20 µs" }},
	{path: "JWKS, through the handler", bench: "oidc.BenchmarkJWKS",
		floor: "trivial handler, same request", floors: []string{"httpapi.BenchmarkTokenCheck/floor-handler"},
		budget: func(ns, _, _ float64) (bool, string) { return ns < 20e3, "< 20 µs" }},
}

func budgets(w io.Writer, path string) error {
	r, err := parseBench(path)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "| hot path | ns/op | B/op | allocs/op | floor | floor ns/op | ratio | budget |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, p := range pairs {
		ns, ok := r.median(p.bench, "ns/op")
		if !ok {
			fmt.Fprintf(w, "| %s | not measured (%s) | | | | | | |\n", p.path, p.bench)
			continue
		}
		bytes, _ := r.median(p.bench, "B/op")
		allocs, _ := r.median(p.bench, "allocs/op")
		floor := 0.0
		for _, f := range p.floors {
			v, ok := r.median(f, "ns/op")
			if !ok {
				floor = math.NaN()
			}
			floor += v
		}
		verdict := ""
		if p.budget != nil {
			met, text := p.budget(ns, allocs, floor)
			verdict = text + ": " + map[bool]string{true: "**met**", false: "**not met**"}[met]
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s× | %s |\n", p.path, num(ns), num(bytes), num(allocs), p.floor, num(floor), num(ns/floor), verdict)
	}
	return nil
}

func scale(w io.Writer, path string) error {
	r, err := parseBench(path)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "| live logins | cached check ns/op | allocs/op | floor (SHA-256 + map) ns/op | check reading SQLite ns/op | allocs/op | heap per cached login |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		k := fmt.Sprintf("gatehouse.BenchmarkSessionCheckScale/logins=%d/", n)
		c, _ := r.median(k+"cached", "ns/op")
		ca, _ := r.median(k+"cached", "allocs/op")
		f, _ := r.median(k+"floor-sha256-map", "ns/op")
		s, _ := r.median(k+"store", "ns/op")
		sa, _ := r.median(k+"store", "allocs/op")
		h, _ := r.median(k+"heap", "B/login")
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s B |\n", num(float64(n)), num(c), num(ca), num(f), num(s), num(sa), num(h))
	}
	return nil
}

// loadResult is one line of bench/load's -json output.
type loadResult struct {
	Label      string  `json:"label"`
	RPS        float64 `json:"rps"`
	P50        float64 `json:"p50_us"`
	P99        float64 `json:"p99_us"`
	CPU        float64 `json:"server_cpu_us_per_request"`
	Errors     int     `json:"errors"`
	LoginRPS   float64 `json:"login_rps"`
	LoginP99   float64 `json:"login_p99_us"`
	LoginConns int     `json:"login_connections"`
}

func readJSONL(path string) ([]loadResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []loadResult
	dec := json.NewDecoder(f)
	for {
		var r loadResult
		if err := dec.Decode(&r); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
}

func load(w io.Writer, path string) error {
	rs, err := readJSONL(path)
	if err != nil {
		return err
	}
	byLabel := map[string]loadResult{}
	for _, r := range rs {
		byLabel[r.Label] = r
	}
	fmt.Fprintln(w, "| server | credential | req/s | floor req/s | share of the floor | budget | p50 µs | p99 µs | server CPU µs/request |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		server, cred, _ := strings.Cut(r.Label, ", ")
		if server == "floor" {
			continue
		}
		f, ok := byLabel["floor, "+cred]
		share, verdict := r.RPS/f.RPS, ""
		if !ok {
			share = math.NaN()
		}
		if server == "gatehouse" {
			verdict = "≥ 85%: " + map[bool]string{true: "**met**", false: "**not met**"}[share >= 0.85]
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.0f%% | %s | %s | %s | %s |\n", server, cred, num(r.RPS), num(f.RPS), 100*share, verdict, num(r.P50), num(r.P99), num(r.CPU))
	}
	return nil
}

func saturate(w io.Writer, path string) error {
	rs, err := readJSONL(path)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "| connections signing in | logins/s | login p99 ms | checks/s | check p50 µs | check p99 µs | budget |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range rs {
		verdict := ""
		if r.LoginConns > 0 {
			verdict = "p99 < 10 ms: " + map[bool]string{true: "**met**", false: "**not met**"}[r.P99 < 10_000]
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s |\n", r.LoginConns, num(r.LoginRPS), num(r.LoginP99/1000), num(r.RPS), num(r.P50), num(r.P99), verdict)
	}
	return nil
}

// sizesResult is bench/sizes' output.
type sizesResult struct {
	Logins             int                `json:"logins"`
	Cookie             int                `json:"cookie_header_bytes"`
	Bearer             int                `json:"bearer_header_bytes"`
	BearerAdmin        int                `json:"bearer_header_bytes_admin"`
	SessionStored      map[string]float64 `json:"session_stored_bytes"`
	TokenStored        map[string]float64 `json:"token_stored_bytes"`
	RefreshStored      map[string]float64 `json:"refresh_stored_bytes"`
	SessionCachedBytes float64            `json:"session_cached_heap_bytes"`
	TokenCachedBytes   float64            `json:"token_cached_heap_bytes"`
}

func sizes(w io.Writer, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var s sizesResult
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	stored := func(m map[string]float64) string {
		var parts []string
		for _, t := range slices.Sorted(mapKeys(m)) {
			if t != "total" {
				parts = append(parts, fmt.Sprintf("%s %s", t, num(m[t])))
			}
		}
		return fmt.Sprintf("%s B (%s)", num(m["total"]), strings.Join(parts, ", "))
	}
	fmt.Fprintln(w, "| | session mode (cookie) | token mode (bearer) |")
	fmt.Fprintln(w, "|---|---|---|")
	fmt.Fprintf(w, "| bytes a client sends per request for its credential (the header line) | %d | %d (%d for a user with every built-in role) |\n", s.Cookie, s.Bearer, s.BearerAdmin)
	fmt.Fprintf(w, "| bytes stored per login in SQLite, indexes included | %s | %s |\n", stored(s.SessionStored), stored(s.TokenStored))
	fmt.Fprintf(w, "| bytes stored per refresh | – | %s |\n", stored(s.RefreshStored))
	fmt.Fprintf(w, "| server heap per credential in its cache | %s B | %s B |\n", num(s.SessionCachedBytes), num(s.TokenCachedBytes))
	fmt.Fprintf(w, "\nStored bytes are SQLite pages in use (`dbstat`) grown by %s logins of each mode, divided by their number.\n", num(float64(s.Logins)))
	return nil
}

func mapKeys(m map[string]float64) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// num formats a figure with thousands separators, and decimals only below 100.
func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "?"
	case math.Abs(v) < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case math.Abs(v) < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// pageTemplate is docs/performance.md with the figures left out.
//
//go:embed page.md.tmpl
var pageTemplate string

// page writes the whole report from the files bench/run.sh left in dir
// and the variables it exported.
func page(w io.Writer, dir string) error {
	t, err := template.New("page").Parse(pageTemplate)
	if err != nil {
		return err
	}
	file := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "(not measured in this run)\n"
		}
		return strings.TrimRight(string(b), "\n")
	}
	// kept is a section kept from the previous page, or "" for none.
	kept := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		return strings.TrimSpace(string(b))
	}
	return t.Execute(w, map[string]any{"env": os.Getenv, "file": file, "kept": kept})
}
