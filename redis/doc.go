// Package redis carries what several Gatehouse servers must tell each
// other quickly, through Redis: that the store changed (a revocation, a
// role change, a key rotation), so every server syncs at once instead of
// at its next poll. The store stays the source of truth; Redis is only a
// doorbell, so losing it makes servers slower to see changes (about a
// second, their poll interval), never wrong.
package redis
