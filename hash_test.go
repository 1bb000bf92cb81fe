package gatehouse_test

import (
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestSHA256: the helper is sha256.Sum256 of the string's bytes, at any
// length, around the stack buffer's size too, and never allocates.
func TestSHA256(t *testing.T) {
	for _, n := range []int{0, 1, 31, 32, 43, 63, 64, 65, 127, 128, 511, 512, 513, 1023, 1024, 1025, 8192, 100_000} {
		s := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz-_", n/38+1)[:n]
		if got, want := gatehouse.SHA256(s), sha256.Sum256([]byte(s)); got != want {
			t.Errorf("SHA256 of %d bytes = %x, want %x", n, got, want)
		}
		if a := testing.AllocsPerRun(20, func() { gatehouse.SHA256(s) }); a != 0 {
			t.Errorf("SHA256 of %d bytes made %v allocations, want 0", n, a)
		}
	}
}
