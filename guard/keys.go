package guard

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/token"
)

// Key set refresh settings.
const (
	// refetchEvery is the least time between two fetches caused by an
	// unknown kid, so that a flood of tokens with made-up kids costs
	// Gatehouse one request per 10 seconds at most. It is also the retry
	// delay of a background refresh that failed.
	refetchEvery = 10 * time.Second
	// The background refresh follows the JWKS's Cache-Control max-age
	// within these bounds, or defaultRefresh without one.
	minRefresh     = 30 * time.Second
	maxRefresh     = 10 * time.Minute
	defaultRefresh = 5 * time.Minute
	// maxJWKSBytes bounds the key set read from Gatehouse.
	maxJWKSBytes = 1 << 20
)

// keySet keeps a Verifier's keys in step with Gatehouse's JWKS.
type keySet struct {
	url      string
	client   *http.Client
	verifier *token.Verifier
	log      *slog.Logger
	now      func() time.Time
	gen      atomic.Uint64 // counts the key sets installed

	mu          sync.Mutex // one fetch at a time
	lastRefetch time.Time  // of the last fetch caused by an unknown kid
}

// update fetches the key set and installs it; it returns when to do it
// again.
func (k *keySet) update(ctx context.Context) (time.Duration, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.fetch(ctx)
}

// refetch fetches the key set after a token named a kid the Verifier does
// not know, unless it did so less than refetchEvery ago. gen is the
// generation the caller verified against; it reports whether the key set
// changed since, that is whether verifying again may help. Callers that
// arrive while a fetch is running wait for it and use its result.
func (k *keySet) refetch(ctx context.Context, gen uint64) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.gen.Load() != gen {
		return true
	}
	now := k.now()
	if !k.lastRefetch.IsZero() && now.Sub(k.lastRefetch) < refetchEvery {
		return false
	}
	k.lastRefetch = now
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
	defer cancel()
	if _, err := k.fetch(ctx); err != nil {
		k.log.Warn("guard: fetching the key set for an unknown kid failed", "err", err)
		return false
	}
	return true
}

// fetch does the work of update; k.mu must be held.
func (k *keySet) fetch(ctx context.Context) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", k.url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", k.url, err)
	}
	if len(body) > maxJWKSBytes {
		return 0, fmt.Errorf("GET %s: key set larger than %d bytes", k.url, maxJWKSBytes)
	}
	keys, err := token.ParseJWKS(body)
	if err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		k.log.Warn("guard: the key set is empty; every bearer token will be refused", "url", k.url)
	}
	k.verifier.SetPublicKeys(keys)
	k.gen.Add(1)
	return refreshAfter(resp.Header.Get("Cache-Control")), nil
}

// refreshAfter reads max-age from a Cache-Control header, bounded to
// [minRefresh, maxRefresh].
func refreshAfter(cacheControl string) time.Duration {
	for directive := range strings.SplitSeq(cacheControl, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
		if !strings.EqualFold(name, "max-age") {
			continue
		}
		if s, err := strconv.Atoi(strings.Trim(value, `"`)); err == nil {
			s = min(s, int(maxRefresh/time.Second)) // no overflow below
			return max(time.Duration(s)*time.Second, minRefresh)
		}
	}
	return defaultRefresh
}
