package token_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/token"
)

// BenchmarkSign signs the benchmark claims with an Ed25519 key.
func BenchmarkSign(b *testing.B) {
	k, c := fixedKey(), testClaims(t0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := token.Sign(k, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is this package's Verify of the token BenchmarkVerifyFloor
// and BenchmarkLibrary check.
func BenchmarkVerify(b *testing.B) {
	v := newVerifier(fixedKey())
	tok := benchToken()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
