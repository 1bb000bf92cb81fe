package e2e_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func scrape(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	return string(b)
}

func TestMetrics(t *testing.T) {
	s := start(t, "")
	c := newClient()
	s.want(s.call(c, "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}), 201, "")
	s.want(s.call(c, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}), 200, "")
	s.want(s.call(newClient(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": "wrong password", "mode": "token"}), 401, "")
	s.want(s.call(newClient(), "GET", "/v1/me", nil), 401, "")
	s.want(s.call(c, "GET", "/v1/sessions/whatever", nil), 405, "")
	// The pages are counted as the API is, by their route.
	for path, status := range map[string]int{"/auth/signin?rd=%2Fauth%2Faccount": 200, "/auth/whatever": 404} {
		res, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != status {
			t.Fatalf("GET %s: %d, want %d", path, res.StatusCode, status)
		}
	}

	body := scrape(t, s.url+"/metrics")
	for _, want := range []string{
		`gatehouse_logins_total{mode="session",outcome="succeeded"} 1`,
		`gatehouse_logins_total{mode="token",outcome="failed"} 1`,
		`gatehouse_http_requests_total{route="POST /v1/login",status="200"} 1`,
		`gatehouse_http_requests_total{route="GET /v1/me",status="401"} 1`,
		`gatehouse_http_requests_total{route="/v1/sessions/{id}",status="405"} 1`,
		`gatehouse_http_requests_total{route="GET /auth/signin",status="200"} 1`,
		`gatehouse_http_requests_total{route="/auth/",status="404"} 1`,
		`gatehouse_http_request_duration_seconds_bucket{route="POST /v1/login",le="+Inf"} 2`,
		"gatehouse_live_logins 1",
		"gatehouse_refresh_token_reuse_total 0",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "ada@example.com") || strings.Contains(body, "whatever") {
		t.Error("/metrics leaks emails or raw paths")
	}
}

func TestMetricsOnPrivateAddress(t *testing.T) {
	private := freeAddr(t)
	s := start(t, "", "--metrics-addr", private)
	s.want(s.call(newClient(), "GET", "/metrics", nil), 404, "not_found")
	if body := scrape(t, "http://"+private+"/metrics"); !strings.Contains(body, "gatehouse_http_requests_total") {
		t.Errorf("private /metrics = %.200s", body)
	}
}

// --pprof-addr serves Go's profiler on its own address only.
func TestProfilerOnPrivateAddress(t *testing.T) {
	private := freeAddr(t)
	s := start(t, "", "--pprof-addr", private)
	s.want(s.call(newClient(), "GET", "/debug/pprof/", nil), 404, "not_found")
	if body := scrape(t, "http://"+private+"/debug/pprof/heap?debug=1"); !strings.Contains(body, "heap profile:") {
		t.Errorf("private /debug/pprof/heap = %.200s", body)
	}
}
