package token

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
)

// MinSecretBytes is the shortest deployment secret NewSealer accepts.
const MinSecretBytes = 32

// ErrSealed is returned by Open when sealed data cannot be opened: a wrong
// secret, a wrong additional data, or data that was cut or changed.
var ErrSealed = errors.New("token: sealed data cannot be opened (wrong secret or tampered)")

// sealerInfo binds the derived key to this one use of the deployment secret,
// so the same secret may derive other keys for other purposes.
const sealerInfo = "gatehouse token: seal signing keys v1"

// Sealer encrypts data at rest (private keys, the outbox's messages) with
// AES-256-GCM under a key derived from the deployment secret with
// HKDF-SHA256. It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns the Sealer of signing keys for secret, which must
// have at least MinSecretBytes bytes of random data.
func NewSealer(secret []byte) (*Sealer, error) { return NewSealerFor(secret, sealerInfo) }

// NewSealerFor returns a Sealer for secret whose key is bound to purpose:
// Sealers of one secret for different purposes cannot open each other's
// data.
func NewSealerFor(secret []byte, purpose string) (*Sealer, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("token: sealing secret has %d bytes, want at least %d", len(secret), MinSecretBytes)
	}
	key, err := hkdf.Key(sha256.New, secret, nil, purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("token: derive sealing key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("token: sealing cipher: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("token: sealing cipher: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts and authenticates plaintext and authenticates additionalData
// (pass the key's ID, so a sealed key cannot be swapped for another row's).
// The result is a random 96-bit nonce followed by the ciphertext and tag;
// one secret must not seal more than 2^32 values.
func (s *Sealer) Seal(plaintext, additionalData []byte) []byte {
	return s.aead.Seal(nil, nil, plaintext, additionalData)
}

// Open reverses Seal. It returns ErrSealed when the secret or additionalData
// differ from those given to Seal, or when sealed was altered.
func (s *Sealer) Open(sealed, additionalData []byte) ([]byte, error) {
	plaintext, err := s.aead.Open(nil, nil, sealed, additionalData)
	if err != nil {
		return nil, ErrSealed
	}
	return plaintext, nil
}
