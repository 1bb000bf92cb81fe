package passkey_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

// BenchmarkFinishLogin verifies a passkey's assertion as a sign-in does
// (parse the credential, check the client data, the authenticator data and
// the ES256 signature), beside BenchmarkECDSAP256Verify, its floor. The
// budget is 1 ms. The assertion's counter is 0 (an authenticator without
// one), so the same assertion verifies at every iteration.
func BenchmarkFinishLogin(b *testing.B) {
	rp := newRP(b)
	a := newAuthenticator(b)
	u := register(b, rp, newUser(), a, flagUP|flagUV)
	opts, state, err := rp.BeginLogin(nil)
	if err != nil {
		b.Fatal(err)
	}
	cred := a.Get(b, opts, ceremony{Flags: flagUP | flagUV, Origin: origin})
	find := finder(b, u)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rp.FinishLogin(state, cred, find); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkECDSAP256Verify is the floor of BenchmarkFinishLogin: one raw
// ECDSA P-256 verification of a SHA-256 digest.
func BenchmarkECDSAP256Verify(b *testing.B) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("authenticator data and client data hash"))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
			b.Fatal("the signature does not verify")
		}
	}
}
