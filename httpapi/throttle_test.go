package httpapi_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// throttleEnv trusts X-Forwarded-For from loopback, so a test can speak
// from many client addresses.
func throttleEnv(t *testing.T, lim gatehouse.Limits) *env {
	t.Helper()
	return newEnv(t, options{
		svc:  gatehouse.Config{Limits: lim},
		http: httpapiConfigTrustingLoopback(),
	})
}

func (e *env) loginFrom(ip, email, password string) response {
	e.t.Helper()
	return e.do(e.client(), "POST", "/v1/login", map[string]any{"email": email, "password": password, "mode": "session"}, "X-Forwarded-For", ip)
}

func retryAfter(t *testing.T, r response) time.Duration {
	t.Helper()
	s, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil {
		t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	return time.Duration(s) * time.Second
}

func TestLoginLockoutPerAccountAndAddress(t *testing.T) {
	e := throttleEnv(t, gatehouse.Limits{})
	e.register("ada@example.com")
	const attacker, home = "203.0.113.7", "198.51.100.1"
	for i := range 9 {
		wantProblem(t, e.loginFrom(attacker, "ada@example.com", "wrong guess "+fmt.Sprint(i)), 401, "invalid_credentials")
	}
	// The tenth failure locks this account at this address.
	r := e.loginFrom(attacker, "ada@example.com", "wrong guess 9")
	wantProblem(t, r, 429, "too_many_attempts")
	first := retryAfter(t, r)
	if first < 30*time.Second {
		t.Errorf("Retry-After = %v, want at least 30s", first)
	}
	// Locked: even the right password waits, and nothing is checked.
	wantProblem(t, e.loginFrom(attacker, "ada@example.com", pw), 429, "too_many_attempts")
	// The owner signs in from elsewhere; the attacker's other targets are
	// not locked.
	if r := e.loginFrom(home, "ada@example.com", pw); r.status != 200 {
		t.Fatalf("the owner was locked out from another address: %d %s", r.status, r.body)
	}
	wantProblem(t, e.loginFrom(attacker, "bob@example.com", "guess"), 401, "invalid_credentials")

	// After the wait, one more failure locks again, for longer.
	e.clock.Advance(first + time.Second)
	r = e.loginFrom(attacker, "ada@example.com", "wrong again")
	wantProblem(t, r, 429, "too_many_attempts")
	if second := retryAfter(t, r); second <= first {
		t.Errorf("the second lockout (%v) is not longer than the first (%v)", second, first)
	}
	events, _, _ := e.svc.Audit(context.Background(), gatehouse.AuditQuery{Limit: 100})
	throttled := 0
	for _, ev := range events {
		if ev.Type == gatehouse.EventLoginThrottled {
			throttled++
		}
	}
	if throttled < 3 {
		t.Errorf("%d login.throttled events, want at least 3", throttled)
	}
}

// An address that spends its budget of failures across accounts gets
// 429 for further failures, but a right password still signs in.
func TestAddressFailureBudget(t *testing.T) {
	e := throttleEnv(t, gatehouse.Limits{AddressFailures: 5})
	e.register("ada@example.com")
	const office = "192.0.2.10"
	for i := range 5 {
		wantProblem(t, e.loginFrom(office, fmt.Sprintf("user%d@example.com", i), "guess"), 401, "invalid_credentials")
	}
	r := e.loginFrom(office, "someone@example.com", "guess")
	wantProblem(t, r, 429, "too_many_attempts")
	if retryAfter(t, r) > 15*time.Minute {
		t.Errorf("Retry-After %v is beyond the window", retryAfter(t, r))
	}
	if r := e.loginFrom(office, "ada@example.com", pw); r.status != 200 {
		t.Fatalf("a successful login was throttled by other accounts' failures: %d %s", r.status, r.body)
	}
	wantProblem(t, e.loginFrom("192.0.2.11", "someone@example.com", "guess"), 401, "invalid_credentials")
}

func TestRegistrationAndRefreshLimits(t *testing.T) {
	e := throttleEnv(t, gatehouse.Limits{Registrations: 2, Refreshes: 3})
	reg := func(ip, email string) response {
		return e.do(e.srv.Client(), "POST", "/v1/users", map[string]string{"email": email, "password": pw}, "X-Forwarded-For", ip)
	}
	for i := range 2 {
		if r := reg("192.0.2.1", fmt.Sprintf("u%d@example.com", i)); r.status != 201 {
			t.Fatalf("registration %d: %d", i, r.status)
		}
	}
	wantProblem(t, reg("192.0.2.1", "u9@example.com"), 429, "too_many_attempts")
	if r := reg("192.0.2.2", "u9@example.com"); r.status != 201 {
		t.Fatalf("another address was limited: %d", r.status)
	}
	rt := e.tokenLogin("u9@example.com")["refresh_token"].(string)
	for range 3 {
		r := e.do(e.srv.Client(), "POST", "/v1/token/refresh", map[string]string{"refresh_token": rt}, "X-Forwarded-For", "192.0.2.3")
		if r.status != 200 {
			t.Fatalf("refresh: %d %s", r.status, r.body)
		}
		rt = r.json(t)["refresh_token"].(string)
	}
	r := e.do(e.srv.Client(), "POST", "/v1/token/refresh", map[string]string{"refresh_token": rt}, "X-Forwarded-For", "192.0.2.3")
	wantProblem(t, r, 429, "too_many_attempts")
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}
