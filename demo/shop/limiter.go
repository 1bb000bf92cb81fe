package shop

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Changes (POST, PATCH, DELETE) a client address may make: a burst, then
// a steady rate. Generous for a person, tight for a script.
const (
	writeBurst = 120
	writeRate  = 4 // per second
)

// limiter is a token bucket per client address.
type limiter struct {
	mu      sync.Mutex
	burst   float64
	rate    float64
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(burst, perSecond float64) *limiter {
	return &limiter{burst: burst, rate: perSecond, buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket, if there is one.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep forgets buckets that have filled up again.
func (l *limiter) sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// clientIP is the address the request came from. The shop trusts no
// X-Forwarded-For: put it behind a proxy and this is the proxy's.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limited applies the limit to a handler that visit does not wrap.
func (s *Shop) limited(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !s.limiter.allow(clientIP(r), time.Now()) {
			w.Header().Set("Retry-After", "10")
			writeProblem(w, http.StatusTooManyRequests, "too_many_requests", "too many changes in a short time; wait a few seconds")
			return
		}
		h.ServeHTTP(w, r)
	})
}
