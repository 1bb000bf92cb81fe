package gatehouse

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// User is an account. PasswordHash is an argon2id PHC string; it never
// leaves the server.
type User struct {
	ID           string
	Email        string // normalised: trimmed and lower case
	PasswordHash string
	Roles        []string
	Disabled     bool
	// EmailVerified says the user proved they receive mail at Email.
	EmailVerified bool
	CreatedAt     time.Time
}

// MaxEmailLength is the longest email address accepted (RFC 5321's path
// limit less the angle brackets).
const MaxEmailLength = 254

// UserQuery selects users, in creation order (the order of their ids).
// Its zero fields select everyone.
type UserQuery struct {
	// EmailPrefix keeps the users whose email starts with it, compared as
	// emails are: trimmed and without regard to case.
	EmailPrefix string
	// After keeps the users whose ids sort after it: the id of the last
	// user of a page is where the next page starts.
	After string
	// Limit is the most users returned; below 1 returns none.
	Limit int
}

// maxCursorLength bounds an id given in a query (ids are 36 bytes).
const maxCursorLength = 128

// normalized returns q with its prefix in the form emails are stored in,
// or CodeInvalidRequest when the prefix or cursor is not text of sane
// length.
func (q UserQuery) normalized() (UserQuery, error) {
	if err := CheckText("email", q.EmailPrefix, MaxEmailLength); err != nil {
		return q, err
	}
	if err := CheckText("after", q.After, maxCursorLength); err != nil {
		return q, err
	}
	q.EmailPrefix = strings.ToLower(strings.TrimSpace(q.EmailPrefix))
	return q, nil
}

// NormalizeEmail trims and lower-cases an address and checks that it is a
// plain addr-spec of sane length. Addresses are matched case-insensitively,
// so the normalised form is what is stored and looked up.
func NormalizeEmail(s string) (string, error) {
	bad := Errorf(CodeInvalidEmail, "email must be a plain address such as name@example.com")
	if !utf8.ValidString(s) {
		return "", bad
	}
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > MaxEmailLength {
		return "", bad
	}
	for _, r := range s {
		// U+FFFD stands where encoding/json met invalid UTF-8: distinct
		// byte strings would become one account.
		if r <= ' ' || r == 0x7f || r == utf8.RuneError {
			return "", bad
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", bad
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if len(local) > 64 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", bad
	}
	return s, nil
}
