package token_test

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/gatehouse/gatehouse/token"
)

func Example() {
	now := time.Now()
	key, err := token.GenerateKey(token.EdDSA, now)
	if err != nil {
		log.Fatal(err)
	}
	tok, err := token.Sign(key, token.Claims{
		Issuer:    "https://auth.example.com",
		Subject:   "user_123",
		Audience:  "gatehouse",
		ID:        "jti_1",
		SessionID: "sid_1",
		Roles:     []string{"customer"},
		Scope:     "cart:read cart:write",
		IssuedAt:  now,
		NotBefore: now,
		ExpiresAt: now.Add(10 * time.Minute),
	})
	if err != nil {
		log.Fatal(err)
	}

	v := token.NewVerifier("https://auth.example.com", "gatehouse", 30*time.Second, nil)
	v.SetKeys([]token.Key{key})
	claims, err := v.Verify(tok)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject, claims.SessionID, claims.Scope)

	v.SetKeys(nil) // the key left the set
	_, err = v.Verify(tok)
	fmt.Println(errors.Is(err, token.ErrUnknownKey))
	// Output:
	// user_123 sid_1 cart:read cart:write
	// true
}

func ExampleSealer() {
	secret := []byte("a deployment secret of at least 32 random bytes")
	sealer, err := token.NewSealer(secret)
	if err != nil {
		log.Fatal(err)
	}
	key, err := token.GenerateKey(token.EdDSA, time.Now())
	if err != nil {
		log.Fatal(err)
	}
	der, err := key.MarshalPrivate()
	if err != nil {
		log.Fatal(err)
	}
	sealed := sealer.Seal(der, []byte(key.ID)) // store this beside key.ID

	opened, err := sealer.Open(sealed, []byte(key.ID))
	if err != nil {
		log.Fatal(err)
	}
	again, err := token.ParseKey(key.ID, key.Alg, opened, key.CreatedAt)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(again.ID == key.ID)

	_, err = sealer.Open(sealed, []byte("another key id"))
	fmt.Println(errors.Is(err, token.ErrSealed))
	// Output:
	// true
	// true
}

func ExampleJWKS() {
	// A key from a fixed seed, for a stable output; use GenerateKey.
	seed := make([]byte, ed25519.SeedSize)
	key := token.Key{ID: "k1", Alg: token.EdDSA, Private: ed25519.NewKeyFromSeed(seed)}
	set, err := token.JWKS([]token.Key{key})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(set))
	// Output:
	// {"keys":[{"kid":"k1","kty":"OKP","alg":"EdDSA","use":"sig","crv":"Ed25519","x":"O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik"}]}
}
