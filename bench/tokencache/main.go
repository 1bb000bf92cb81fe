// Command tokencache measures a server's bearer check as the number of
// distinct live access tokens it sees grows past the verified-token
// cache's bound (100,000 entries): below it, a check is a hash and a map
// lookup; above it, the tokens that did not fit are verified again
// (Ed25519) on every check.
//
//	tokencache -tokens 99000,101000 -d 5s
//
// It signs in -tokens times (the largest count) for tokens through
// gatehouse.Service on a SQLite store in a temporary directory, with a
// cheap password hash (the password is not what is measured), checks every
// token once to fill the cache, then for each count checks the first N
// tokens round robin for -d on every CPU and prints a markdown row:
// checks per second, mean and p99 latency, and the heap the cache holds
// per token. It takes about two minutes (the sign-ins write to SQLite);
// docs/scaling.md quotes its output.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/bench/internal/stats"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/sqlite"
)

func main() {
	counts := flag.String("tokens", "99000,101000", "comma-separated numbers of distinct tokens to cycle over")
	dur := flag.Duration("d", 5*time.Second, "measured time per count")
	flag.Parse()
	var ns []int
	for _, f := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1_000_000 {
			log.Fatalf("-tokens: %q is not a count between 1 and 1,000,000", f)
		}
		ns = append(ns, n)
	}
	if *dur <= 0 || *dur > time.Minute {
		log.Fatal("-d must be positive and at most a minute")
	}
	if err := run(ns, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "tokencache:", err)
		os.Exit(1)
	}
}

func run(counts []int, dur time.Duration) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "gatehouse-tokencache")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	cheap := password.Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 16}
	// Tokens that outlive the run (signing them all takes minutes); the
	// cache keeps an entry until its token expires, whatever the lifetime.
	tokenConfig := &gatehouse.TokenConfig{Issuer: "http://gatehouse.bench", Secret: []byte(rand.Text() + rand.Text()), AccessTTL: time.Hour}
	svc, err := gatehouse.NewService(st, gatehouse.Config{
		Hasher: password.NewHasher(cheap, 0, 0),
		Tokens: tokenConfig,
	})
	if err != nil {
		return err
	}
	if err := svc.Start(ctx); err != nil {
		return err
	}
	// A few logins a user, as people have a few devices (and far fewer
	// than gatehouse.MaxLoginsPerUser, which a sign-in checks).
	const pw = "tokencache bench passphrase"
	const perUser = 5
	total := slices.Max(counts)
	email := func(i int) string { return fmt.Sprintf("bench-%d@example.com", i/perUser) }
	for u := 0; u < total; u += perUser {
		if _, err := svc.CreateUser(ctx, email(u), pw, []string{gatehouse.RoleCustomer}, gatehouse.Client{IP: "10.0.0.1"}); err != nil {
			return err
		}
	}
	tokens := make([]string, total)
	start := time.Now()
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				res, err := svc.Login(ctx, gatehouse.LoginRequest{Email: email(i), Password: pw, Mode: gatehouse.ModeToken,
					Client: gatehouse.Client{IP: fmt.Sprintf("10.%d.%d.%d", 1+i>>16&0xff, i>>8&0xff, i&0xff)}})
				if err != nil {
					once.Do(func() { firstErr = err })
					next.Store(int64(total))
					return
				}
				tokens[i] = res.Tokens.AccessToken
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	fmt.Fprintf(os.Stderr, "tokencache: %d token sign-ins in %v\n", total, time.Since(start).Round(time.Millisecond))

	for _, n := range counts {
		// Each count starts from an empty cache: a fresh service on the
		// same store and keys, which fills as the first pass checks.
		svc, err := gatehouse.NewService(st, gatehouse.Config{
			Hasher: password.NewHasher(cheap, 0, 0),
			Tokens: tokenConfig,
		})
		if err != nil {
			return err
		}
		if err := svc.Start(ctx); err != nil {
			return err
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		fill := time.Now()
		for _, tok := range tokens[:n] {
			if _, err := svc.AuthenticateToken(ctx, tok); err != nil {
				return err
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		fmt.Fprintf(os.Stderr, "tokencache: %d tokens checked once in %v\n", n, time.Since(fill).Round(time.Millisecond))
		cached := min(n, 100_000)
		perEntry := float64(after.HeapAlloc-before.HeapAlloc) / float64(cached)

		var checks atomic.Int64
		var mu sync.Mutex
		var samples []time.Duration
		end := time.Now().Add(dur)
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var local []time.Duration
				// A stride prime to n visits the tokens in a scattered
				// order, so the ones that did not fit come up as often
				// as they would in traffic.
				for i := w; time.Now().Before(end); i += workers {
					t0 := time.Now()
					if _, err := svc.AuthenticateToken(ctx, tokens[(i*7919)%n]); err != nil {
						once.Do(func() { firstErr = err })
						return
					}
					local = append(local, time.Since(t0))
				}
				checks.Add(int64(len(local)))
				mu.Lock()
				samples = append(samples, local...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return firstErr
		}
		slices.Sort(samples)
		var sum time.Duration
		for _, s := range samples {
			sum += s
		}
		p := func(q float64) float64 { return float64(stats.Percentile(samples, q)) / 1e3 }
		fmt.Printf("| %s | %s | %s | %.1f | %.1f | %.1f | %.0f |\n", thousands(n), thousands(int(float64(checks.Load())/dur.Seconds())),
			strconv.Itoa(workers), float64(sum)/float64(len(samples))/1e3, p(0.5), p(0.99), perEntry)
	}
	return nil
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
