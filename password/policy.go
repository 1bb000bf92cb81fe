package password

import (
	_ "embed"
	"errors"
	"strings"
	"sync"
	"unicode/utf8"
)

// MinLength is the shortest password Check accepts, in runes.
const MinLength = 8

// MaxLength is the longest password accepted, in bytes. Longer input is
// refused before hashing, so a huge password cannot burn CPU.
const MaxLength = 1024

// Errors returned by Check, Hasher and Parse. Callers compare with errors.Is.
var (
	ErrTooShort      = errors.New("password: too short")
	ErrTooLong       = errors.New("password: too long")
	ErrInvalid       = errors.New("password: not valid UTF-8")
	ErrCommon        = errors.New("password: too common")
	ErrBusy          = errors.New("password: hashing capacity exhausted") // the wait for a slot timed out
	ErrMalformedHash = errors.New("password: malformed hash")             // Parse refused the stored hash
)

//go:embed common.txt
var commonText string

// common returns the set of common passwords, built on first use.
var common = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{})
	for pw := range strings.FieldsSeq(commonText) {
		set[pw] = struct{}{}
	}
	return set
})

// Check applies the NIST SP 800-63B policy for a new password: at most
// MaxLength bytes of valid UTF-8, at least MinLength runes, and not in the
// bundled list of common passwords, compared case-insensitively. It makes no
// composition rules. It returns nil, ErrTooLong, ErrInvalid, ErrTooShort or
// ErrCommon.
func Check(pw string) error {
	switch {
	case len(pw) > MaxLength:
		return ErrTooLong
	case !utf8.ValidString(pw):
		return ErrInvalid
	case utf8.RuneCountInString(pw) < MinLength:
		return ErrTooShort
	}
	if _, ok := common()[strings.ToLower(pw)]; ok {
		return ErrCommon
	}
	return nil
}
