package gatehouse

import (
	"fmt"
	"testing"
	"time"
)

// A full cache makes room by evicting a tenth, so it keeps taking new
// entries at a bounded size instead of refusing them or sweeping on
// every insert.
func TestCachesEvictWhenFull(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sessions := newSessionCache()
	n := now.UnixNano()
	for i := range maxCachedSessions + 1 {
		var h [32]byte
		copy(h[:], fmt.Sprint(i))
		sessions.put(h, &cacheEntry{loginID: fmt.Sprint(i), fresh: n + int64(time.Second)}, sessions.dropCount(), n)
	}
	var last [32]byte
	copy(last[:], fmt.Sprint(maxCachedSessions))
	if sessions.get(last, n, true) == nil {
		t.Error("a full session cache refused a new entry")
	}
	if n := len(sessions.byHash); n > maxCachedSessions || n < maxCachedSessions*8/10 || len(sessions.byID) != n {
		t.Errorf("session cache holds %d entries (%d ids), want at most %d and about nine tenths", n, len(sessions.byID), maxCachedSessions)
	}

	var tokens verifiedCache
	for i := range maxVerifiedTokens + 1 {
		var h [32]byte
		copy(h[:], fmt.Sprint(i))
		tokens.put(h, &verifiedToken{until: now.Add(time.Minute)}, now)
	}
	copy(last[:], fmt.Sprint(maxVerifiedTokens))
	if tokens.get(last, now) == nil {
		t.Error("a full verified-token cache refused a new entry")
	}
	if n := len(tokens.m); n > maxVerifiedTokens || n < maxVerifiedTokens*8/10 {
		t.Errorf("verified-token cache holds %d entries, want at most %d and about nine tenths", n, maxVerifiedTokens)
	}
}
