package password_test

import (
	"context"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/gatehouse/gatehouse/password"
)

func BenchmarkHash(b *testing.B) {
	h := password.NewHasher(password.DefaultParams, 0, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(context.Background(), pw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := password.NewHasher(password.DefaultParams, 0, 0)
	phc := mustHash(b, h, pw)
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := h.Verify(context.Background(), pw, phc); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkArgon2IDKeyFloor is raw argon2id with DefaultParams: the floor
// under Hash and Verify.
func BenchmarkArgon2IDKeyFloor(b *testing.B) {
	p := password.DefaultParams
	salt := make([]byte, p.SaltLen)
	b.ReportAllocs()
	for b.Loop() {
		argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	}
}
