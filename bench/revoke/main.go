// Command revoke measures how long a revocation takes to be honoured, in
// each mode and by each kind of checker: the time from the moment the
// sign-out's answer arrives to the first check that refuses the
// credential. bench/run.sh starts the servers and runs it:
//
//	revoke -a http://127.0.0.1:8081 -b http://127.0.0.1:8082 \
//	    -issuer http://gatehouse.bench -service svc@example.com:PASSWORD \
//	    -label "SQLite, no Redis" -rounds 10
//
// A and B are two servers on one store; B has the credential cached
// before A revokes it. Each round signs a new login in on A, checks it
// where the case says until it is accepted, signs out on A, then checks
// again every millisecond until it is refused (or, for a checker that
// cannot see revocations, until -wait has passed). It prints one markdown
// table row per case: median and worst delay over the rounds.
//
// The cases: a session cookie checked by /v1/verify on A and on B; a
// bearer token checked by /v1/verify on A and on B; with -service, a
// bearer token checked by the guard library in this process following the
// revocation feed as that service account, a bearer token checked by a
// guard without the feed (signature and expiry only), and a cookie checked
// by a guard (which asks A and caches the answer).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/bench/internal/stats"
	"github.com/gatehouse/gatehouse/guard"
)

const password = "correct horse battery staple"

type options struct {
	a, b, issuer, service, label string
	rounds                       int
	wait                         time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.a, "a", "", "base URL of the server that revokes")
	flag.StringVar(&o.b, "b", "", "base URL of a second server on the same store")
	flag.StringVar(&o.issuer, "issuer", "", "the servers' --issuer")
	flag.StringVar(&o.service, "service", "", "EMAIL:PASSWORD of an account with the service role, for the guard cases")
	flag.StringVar(&o.label, "label", "", "what the servers are, for the table")
	flag.IntVar(&o.rounds, "rounds", 10, "revocations per case")
	flag.DurationVar(&o.wait, "wait", 7*time.Second, "how long to wait for a refusal before calling it not honoured")
	flag.Parse()
	for _, u := range []string{o.a, o.b} {
		if p, err := url.Parse(u); err != nil || (p.Hostname() != "127.0.0.1" && p.Hostname() != "localhost") {
			fmt.Fprintln(os.Stderr, "revoke: -a and -b must be loopback URLs")
			os.Exit(2)
		}
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "revoke:", err)
		os.Exit(1)
	}
}

// checker says whether a credential is accepted now.
type checker func(cred credential) (bool, error)

// credential is what a login gave: a cookie or a bearer token.
type credential struct {
	mode, value string
}

func (c credential) set(r *http.Request) {
	if c.mode == "session" {
		r.Header.Set("Cookie", "gatehouse="+c.value)
	} else {
		r.Header.Set("Authorization", "Bearer "+c.value)
	}
}

type kase struct {
	name, mode string
	check      checker
	rounds     int
}

func run(ctx context.Context, o options) error {
	email := fmt.Sprintf("revoke-%d@example.com", time.Now().UnixNano())
	if err := call("POST", o.a+"/v1/users", map[string]string{"email": email, "password": password}, credential{}, nil); err != nil {
		return err
	}
	cases := []kase{
		{"cookie, /v1/verify on the server that revoked", "session", verifyOn(o.a), o.rounds},
		{"cookie, /v1/verify on another server", "session", verifyOn(o.b), o.rounds},
		{"bearer, /v1/verify on the server that revoked", "token", verifyOn(o.a), o.rounds},
		{"bearer, /v1/verify on another server", "token", verifyOn(o.b), o.rounds},
	}
	if o.service != "" {
		svcEmail, svcPassword, _ := strings.Cut(o.service, ":")
		feed, err := guard.New(ctx, o.b, guard.WithIssuer(o.issuer), guard.WithServiceAccount(svcEmail, svcPassword), guard.WithCookieName("gatehouse"))
		if err != nil {
			return err
		}
		defer feed.Close()
		local, err := guard.New(ctx, o.b, guard.WithIssuer(o.issuer))
		if err != nil {
			return err
		}
		defer local.Close()
		cases = append(cases,
			kase{"bearer, guard library following the revocation feed", "token", guardCheck(feed), o.rounds},
			kase{"bearer, guard library without the feed (keys only)", "token", guardCheck(local), 1},
			kase{"cookie, guard library (asks Gatehouse, caches 5 s)", "session", guardCheck(feed), min(o.rounds, 3)},
		)
	}
	for _, c := range cases {
		row, err := measure(o, email, c)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		fmt.Println(row)
	}
	return nil
}

// measure runs c's rounds and returns its table row.
func measure(o options, email string, c kase) (string, error) {
	var delays []time.Duration
	honoured := 0
	for range c.rounds {
		cred, err := login(o.a, email, c.mode)
		if err != nil {
			return "", err
		}
		if err := until(c.check, cred, true, o.wait); err != nil {
			return "", fmt.Errorf("the new login is not accepted: %w", err)
		}
		if err := call("POST", o.a+"/v1/logout", nil, cred, nil); err != nil {
			return "", err
		}
		start := time.Now()
		err = until(c.check, cred, false, o.wait)
		if errors.Is(err, errTimeout) {
			continue
		}
		if err != nil {
			return "", err
		}
		honoured++
		delays = append(delays, time.Since(start))
	}
	if honoured == 0 {
		return fmt.Sprintf("| %s | %s | still accepted %s after the sign-out, in %d of %d rounds | | |", o.label, c.name, o.wait, c.rounds, c.rounds), nil
	}
	slices.Sort(delays)
	return fmt.Sprintf("| %s | %s | %d of %d | %s | %s |", o.label, c.name, honoured, c.rounds,
		round(stats.Percentile(delays, 0.5)), round(stats.Percentile(delays, 1))), nil
}

func round(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

var errTimeout = errors.New("timed out")

// until checks cred every millisecond until check answers want, for at
// most wait.
func until(check checker, cred credential, want bool, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		ok, err := check(cred)
		if err != nil {
			return err
		}
		if ok == want {
			return nil
		}
		if time.Now().After(deadline) {
			return errTimeout
		}
		time.Sleep(time.Millisecond)
	}
}

// verifyOn checks with GET /v1/verify on base: 200 is accepted, 401
// refused, anything else an error.
func verifyOn(base string) checker {
	return func(cred credential) (bool, error) {
		req, _ := http.NewRequest("GET", base+"/v1/verify", nil)
		cred.set(req)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		switch res.StatusCode {
		case 200:
			return true, nil
		case 401:
			return false, nil
		}
		return false, fmt.Errorf("GET /v1/verify: %s", res.Status)
	}
}

// guardCheck checks with the guard library, as an app would.
func guardCheck(g *guard.Guard) checker {
	return func(cred credential) (bool, error) {
		req, _ := http.NewRequest("GET", "http://app.example/cart", nil)
		cred.set(req)
		_, err := g.Check(req)
		var gerr *guard.Error
		if errors.As(err, &gerr) && gerr.Status == http.StatusUnauthorized {
			return false, nil
		}
		return err == nil, err
	}
}

// login signs email in on base and returns its credential.
func login(base, email, mode string) (credential, error) {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	var cookie string
	err := call("POST", base+"/v1/login", map[string]any{"email": email, "password": password, "mode": mode}, credential{}, func(res *http.Response) error {
		for _, c := range res.Cookies() {
			if c.Name == "gatehouse" {
				cookie = c.Value
			}
		}
		return json.NewDecoder(res.Body).Decode(&out)
	})
	if mode == "session" {
		return credential{mode, cookie}, err
	}
	return credential{mode, out.AccessToken}, err
}

// call sends a JSON request and fails on any status above 299.
func call(method, url string, body any, cred credential, read func(*http.Response) error) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	if cred.value != "" {
		cred.set(req)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode > 299 {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("%s %s: %s %s", method, url, res.Status, b)
	}
	if read != nil {
		return read(res)
	}
	return nil
}
