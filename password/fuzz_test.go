package password_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/password"
)

// FuzzParse checks that Parse never panics, refuses with ErrMalformedHash
// only, and accepts only strings that re-encode identically and that a
// Hasher with the same params verifies without error.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, phc string) {
		p, salt, key, err := password.Parse(phc)
		if err != nil {
			if !errors.Is(err, password.ErrMalformedHash) {
				t.Fatalf("Parse(%q) = %v, want ErrMalformedHash", phc, err)
			}
			return
		}
		again := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", p.Memory, p.Time, p.Threads,
			base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
		if again != phc || p.SaltLen != uint32(len(salt)) || p.KeyLen != uint32(len(key)) {
			t.Fatalf("Parse(%q) = %+v, salt %x, key %x: re-encodes as %q", phc, p, salt, key, again)
		}
		if p.Memory > 256 || p.Time > 2 {
			return // too slow to verify on every input
		}
		h := password.NewHasher(p, 1, time.Second)
		if _, rehash, err := h.Verify(context.Background(), "fuzz", phc); rehash || err != nil {
			t.Fatalf("Verify(%q) with its own params = rehash %v, %v", phc, rehash, err)
		}
	})
}
