package token

import (
	"crypto/ed25519"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzScanClaims holds scanClaims to encoding/json: whenever it reads an
// input, encoding/json must read the same input into the same claims. Its
// seed corpus in testdata/fuzz/FuzzScanClaims holds claims as Sign writes
// them and the spellings scanClaims leaves to encoding/json.
func FuzzScanClaims(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		var fast accessClaims
		if !scanClaims(s, &fast) {
			return
		}
		var std accessClaims
		if err := json.Unmarshal([]byte(s), &std); err != nil {
			t.Fatalf("scanClaims read %q, encoding/json refuses it: %v", s, err)
		}
		if !reflect.DeepEqual(fast, std) {
			t.Fatalf("scanClaims read %q as\n%#v\nencoding/json as\n%#v", s, fast, std)
		}
	})
}

// TestScanClaimsReadsSign: the claims Sign writes, with optional claims
// there or not, take scanClaims and not encoding/json.
func TestScanClaimsReadsSign(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	full := Claims{
		Issuer: "https://auth.example.test", Subject: "user_123", Audience: "gatehouse",
		ID: "jti_abc", SessionID: "sid_xyz", Email: "zoë@example.test",
		Roles: []string{"admin", "customer"}, Scope: "cart:read orders:read",
		IssuedAt: now, NotBefore: now, ExpiresAt: now.Add(10 * time.Minute),
	}
	bare := full
	bare.Email, bare.Roles, bare.Scope, bare.NotBefore = "", nil, "", time.Time{}
	for name, c := range map[string]Claims{"full": full, "bare": bare} {
		t.Run(name, func(t *testing.T) {
			tok, err := Sign(signTestKey(), c)
			if err != nil {
				t.Fatal(err)
			}
			payload := strings.Split(tok, ".")[1]
			b, err := segmentEncoding.DecodeString(payload)
			if err != nil {
				t.Fatal(err)
			}
			var got accessClaims
			if !scanClaims(string(b), &got) {
				t.Fatalf("scanClaims does not read %s", b)
			}
			var want accessClaims
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("scanClaims = %#v, want %#v", got, want)
			}
		})
	}
}

// TestSignHeaderIsKnown: the header of every token Sign writes is one the
// Verifier maps to its key without decoding it.
func TestSignHeaderIsKnown(t *testing.T) {
	k := signTestKey()
	v := NewVerifier("https://auth.example.test", "gatehouse", 0, nil)
	v.SetKeys([]Key{k})
	tok, err := Sign(k, Claims{
		Issuer: "https://auth.example.test", Subject: "s", Audience: "gatehouse", ID: "j", SessionID: "l",
		IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(tok, ".")
	if v.keys.Load().byHeader[header] == nil {
		t.Errorf("header %s of a token Sign wrote is not in the key set's headers", header)
	}
}

func signTestKey() Key {
	return Key{ID: "k1", Alg: EdDSA, Private: ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))}
}
