package password_test

import (
	"context"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/gatehouse/gatehouse/password"
)

// The Hasher's benchmarks sit beside their floor, raw argon2.IDKey with
// the same params on the benchmark's goroutines: the Hasher adds a slot
// and PHC parsing or encoding. Compare ns/op of BenchmarkVerify with
// BenchmarkArgon2IDKeyFloor (one hash at a time), and of
// BenchmarkVerifyParallel with BenchmarkArgon2IDKeyFloorParallel
// (GOMAXPROCS at once, the Hasher's default bound): the ratio of floor to
// Hasher is the share of raw argon2id throughput a server keeps. Run the
// parallel floor with -cpu N,2N to see what giving the runtime twice as
// many Ps as CPUs costs hashing (see "Hashing beside quick requests").

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

// BenchmarkVerifyParallel is BenchmarkVerify from GOMAXPROCS goroutines,
// with a Hasher bounded to GOMAXPROCS hashes.
func BenchmarkVerifyParallel(b *testing.B) {
	h := password.NewHasher(password.DefaultParams, 0, 0)
	phc := mustHash(b, h, pw)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, _, err := h.Verify(context.Background(), pw, phc); !ok || err != nil {
				b.Error(ok, err)
				return
			}
		}
	})
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

// BenchmarkArgon2IDKeyFloorParallel is BenchmarkArgon2IDKeyFloor from
// GOMAXPROCS goroutines: the floor under BenchmarkVerifyParallel.
func BenchmarkArgon2IDKeyFloorParallel(b *testing.B) {
	p := password.DefaultParams
	salt := make([]byte, p.SaltLen)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
		}
	})
}
