package totp

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
)

const (
	// RecoveryCodes is how many codes NewRecoveryCodes makes.
	RecoveryCodes = 10
	// recoveryChars is the length of a code without its dashes: 16
	// characters of 5 bits, 80 bits.
	recoveryChars = 16
	// recoveryGroup is the length of each dash-separated group.
	recoveryGroup = 4
	// maxRecoveryInput bounds what NormalizeRecoveryCode reads, so hostile
	// input costs nothing: a code with a space around every character is
	// still far shorter.
	maxRecoveryInput = 64
)

// crockford is Crockford's base32 alphabet in lower case: the digits and
// the letters but i, l, o and u.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// NewRecoveryCodes returns RecoveryCodes distinct recovery codes of 80
// random bits each, such as "7m2k-q9xd-4hpt-0w1b", to show to the user
// once. Store their HashRecoveryCode hashes, never the codes.
func NewRecoveryCodes() ([]string, error) {
	codes := make([]string, 0, RecoveryCodes)
	seen := make(map[string]bool, RecoveryCodes)
	raw := make([]byte, 10) // 80 bits
	for len(codes) < RecoveryCodes {
		if _, err := rand.Read(raw); err != nil {
			return nil, fmt.Errorf("totp: recovery codes: %w", err)
		}
		code := formatRecovery(raw)
		if seen[code] {
			continue // two equal codes among ten: about 2^-74, but cheap to rule out
		}
		seen[code] = true
		codes = append(codes, code)
	}
	return codes, nil
}

// formatRecovery writes the 80 bits of raw as 16 Crockford characters in
// groups of four.
func formatRecovery(raw []byte) string {
	var b strings.Builder
	b.Grow(recoveryChars + recoveryChars/recoveryGroup - 1)
	var acc uint32
	bits := 0
	n := 0
	for _, c := range raw {
		acc = acc<<8 | uint32(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			if n > 0 && n%recoveryGroup == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(crockford[(acc>>bits)&31])
			n++
		}
	}
	return b.String()
}

// NormalizeRecoveryCode reads a recovery code as a person may type it and
// returns it in the form NewRecoveryCodes wrote it, for HashRecoveryCode.
// It ignores case, spaces and dashes, and reads o as 0 and i and l as 1,
// as Crockford's base32 does, since those letters never appear in a code;
// anything else, or a code of other than 16 characters, is refused with
// ErrInvalidCode.
func NormalizeRecoveryCode(s string) (string, error) {
	if len(s) > maxRecoveryInput {
		return "", ErrInvalidCode
	}
	var chars [recoveryChars]byte
	n := 0
	for i := range len(s) {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch c {
		case ' ', '\t', '-':
			continue
		case 'o':
			c = '0'
		case 'i', 'l':
			c = '1'
		}
		if strings.IndexByte(crockford, c) < 0 || n == recoveryChars {
			return "", ErrInvalidCode
		}
		chars[n] = c
		n++
	}
	if n != recoveryChars {
		return "", ErrInvalidCode
	}
	var b strings.Builder
	for i, c := range chars {
		if i > 0 && i%recoveryGroup == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// HashRecoveryCode returns the SHA-256 of a code as NormalizeRecoveryCode
// returns it, the form to store and look codes up by. A fast hash is
// enough: with 80 random bits a code cannot be found from its hash by
// guessing, unlike a password, so a slow, salted hash would add nothing.
// Look a code up by its hash (or compare hashes with crypto/subtle), and
// delete it once used.
func HashRecoveryCode(normalized string) [32]byte {
	return sha256.Sum256([]byte(normalized))
}
