package shop

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := newLimiter(3, 1)
	now := time.Unix(1000, 0)
	for i := range 3 {
		if !l.allow("a", now) {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	if l.allow("a", now) {
		t.Error("a fourth request in the same instant was allowed")
	}
	if !l.allow("b", now) {
		t.Error("another address shares the first one's bucket")
	}
	if !l.allow("a", now.Add(time.Second)) {
		t.Error("a token did not come back after a second")
	}
	l.sweep(now.Add(time.Hour))
	if len(l.buckets) != 0 {
		t.Errorf("%d buckets left after a sweep of full ones", len(l.buckets))
	}
}

func TestLocalPath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/cart", "/cart"},
		{"/products/wool-throw?added=1", "/products/wool-throw?added=1"},
		{"", "/"},
		{"cart", "/"},
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"/a\r\nSet-Cookie: x", "/"},
		{`/"><script>`, "/%22%3E%3Cscript%3E"},
	} {
		if got := localPath(c.in, "/"); got != c.want {
			t.Errorf("localPath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMoney(t *testing.T) {
	for cents, want := range map[int64]string{0: "€0.00", 5: "€0.05", 1800: "€18.00", 123456: "€1234.56", -250: "-€2.50"} {
		if got := money(cents); got != want {
			t.Errorf("money(%d) = %q, want %q", cents, got, want)
		}
	}
}
