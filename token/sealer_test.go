package token_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/token"
)

var (
	secret      = []byte("0123456789abcdef0123456789abcdef")
	otherSecret = []byte("0123456789abcdef0123456789abcdeX")
)

func newSealer(t *testing.T, secret []byte) *token.Sealer {
	t.Helper()
	s, err := token.NewSealer(secret)
	if err != nil {
		t.Fatalf("NewSealer: %v", err)
	}
	return s
}

func TestSealerRoundTrip(t *testing.T) {
	s := newSealer(t, secret)
	plain, ad := []byte("private key bytes"), []byte("kid-1")
	sealed := s.Seal(plain, ad)
	if bytes.Contains(sealed, plain) {
		t.Fatal("sealed data contains the plaintext")
	}
	if again := s.Seal(plain, ad); bytes.Equal(again, sealed) {
		t.Error("sealing twice gave the same bytes; want a fresh nonce each time")
	}
	got, err := newSealer(t, bytes.Clone(secret)).Open(sealed, ad)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !bytes.Equal(got, plain) {
		t.Errorf("Open = %q, want %q", got, plain)
	}
}

func TestSealerOpenRefuses(t *testing.T) {
	ad := []byte("kid-1")
	sealed := newSealer(t, secret).Seal([]byte("private key bytes"), ad)
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	tests := []struct {
		name   string
		secret []byte
		sealed []byte
		ad     []byte
	}{
		{name: "wrong secret", secret: otherSecret, sealed: sealed, ad: ad},
		{name: "wrong additional data", secret: secret, sealed: sealed, ad: []byte("kid-2")},
		{name: "no additional data", secret: secret, sealed: sealed},
		{name: "tampered nonce", secret: secret, sealed: flip(0), ad: ad},
		{name: "tampered ciphertext", secret: secret, sealed: flip(12), ad: ad},
		{name: "tampered tag", secret: secret, sealed: flip(len(sealed) - 1), ad: ad},
		{name: "truncated", secret: secret, sealed: sealed[:len(sealed)-1], ad: ad},
		{name: "shorter than a nonce", secret: secret, sealed: sealed[:5], ad: ad},
		{name: "empty", secret: secret, ad: ad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := newSealer(t, tt.secret).Open(tt.sealed, tt.ad)
			if !errors.Is(err, token.ErrSealed) {
				t.Errorf("Open = %q, %v; want error %v", got, err, token.ErrSealed)
			}
		})
	}
}

func TestNewSealerShortSecret(t *testing.T) {
	for _, n := range []int{0, 16, token.MinSecretBytes - 1} {
		if _, err := token.NewSealer(secret[:n]); err == nil {
			t.Errorf("NewSealer with %d bytes: want an error", n)
		}
	}
}

// TestSealedKeySigns follows a key through storage: marshal, seal, open,
// parse, then sign a token that verifies with the original key.
func TestSealedKeySigns(t *testing.T) {
	s := newSealer(t, secret)
	for _, alg := range []string{token.EdDSA, token.ES256, token.RS256} {
		t.Run(alg, func(t *testing.T) {
			k := testKey(alg)
			der, err := k.MarshalPrivate()
			if err != nil {
				t.Fatal(err)
			}
			sealed := s.Seal(der, []byte(k.ID))
			opened, err := s.Open(sealed, []byte(k.ID))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			parsed, err := token.ParseKey(k.ID, k.Alg, opened, k.CreatedAt)
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			if _, err := newVerifier(k).Verify(sign(t, parsed, testClaims(t0))); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

func TestSealerPurposesAreApart(t *testing.T) {
	keys := newSealer(t, secret)
	mail, err := token.NewSealerFor(secret, "gatehouse outbox: seal messages v1")
	if err != nil {
		t.Fatal(err)
	}
	sealed := mail.Seal([]byte("a one-time link"), []byte("user-1"))
	if _, err := keys.Open(sealed, []byte("user-1")); !errors.Is(err, token.ErrSealed) {
		t.Errorf("the signing keys' sealer opened the outbox's data: err = %v", err)
	}
	if got, err := mail.Open(sealed, []byte("user-1")); err != nil || string(got) != "a one-time link" {
		t.Errorf("Open = %q, %v", got, err)
	}
}
