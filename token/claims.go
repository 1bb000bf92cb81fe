package token

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// decodeClaims decodes the claims segment of a token whose signature has
// verified. Claims as Sign writes them take scanClaims, which reads them in
// one pass into strings that share one allocation; anything else (escapes,
// fractions, null, other members, repeated members, errors) is left to
// encoding/json, whose result scanClaims matches whenever it succeeds
// (FuzzScanClaims holds it to that).
func decodeClaims(payload string) (accessClaims, error) {
	var c accessClaims
	b, err := segmentEncoding.DecodeString(payload)
	if err != nil {
		return c, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	if scanClaims(string(b), &c) {
		return c, nil
	}
	// A variable of its own, so that only this path puts claims on the heap.
	var std accessClaims
	if err := json.Unmarshal(b, &std); err != nil {
		return std, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	return std, nil
}

// The members scanClaims reads, as bits for finding repeats.
const (
	seenIss = 1 << iota
	seenSub
	seenAud
	seenExp
	seenNbf
	seenIat
	seenJti
	seenSid
	seenEmail
	seenRoles
	seenScope
)

// scanClaims reads s, a JSON object of the members of accessClaims, into
// c and reports whether it could. It reads only the JSON Sign writes:
// each member at most once, strings without escapes or control characters
// and valid UTF-8, whole non-negative numbers of at most 15 digits (exact
// in a float64), "roles" an array of strings and "aud" a string or one.
// On anything else it returns false and c is to be discarded.
func scanClaims(s string, c *accessClaims) bool {
	sc := scanner{s: s}
	sc.space()
	if !sc.eat('{') {
		return false
	}
	sc.space()
	if sc.eat('}') {
		return sc.end()
	}
	var seen int
	for {
		sc.space()
		name, ok := sc.str()
		if !ok {
			return false
		}
		sc.space()
		if !sc.eat(':') {
			return false
		}
		sc.space()
		var bit int
		switch name {
		case "iss":
			bit = seenIss
			c.Issuer, ok = sc.str()
		case "sub":
			bit = seenSub
			c.Subject, ok = sc.str()
		case "aud":
			bit = seenAud
			if sc.peek() == '[' {
				c.Audience, ok = sc.strs()
			} else {
				var a string
				a, ok = sc.str()
				c.Audience = audience{a}
			}
		case "exp":
			bit = seenExp
			c.ExpiresAt, ok = sc.date()
		case "nbf":
			bit = seenNbf
			c.NotBefore, ok = sc.date()
		case "iat":
			bit = seenIat
			c.IssuedAt, ok = sc.date()
		case "jti":
			bit = seenJti
			c.ID, ok = sc.str()
		case "sid":
			bit = seenSid
			c.SessionID, ok = sc.str()
		case "email":
			bit = seenEmail
			c.Email, ok = sc.str()
		case "roles":
			bit = seenRoles
			c.Roles, ok = sc.strs()
		case "scope":
			bit = seenScope
			c.Scope, ok = sc.str()
		}
		if !ok || bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		sc.space()
		if sc.eat('}') {
			return sc.end()
		}
		if !sc.eat(',') {
			return false
		}
	}
}

// scanner reads s from i on.
type scanner struct {
	s string
	i int
}

// peek returns the next byte, 0 at the end.
func (sc *scanner) peek() byte {
	if sc.i < len(sc.s) {
		return sc.s[sc.i]
	}
	return 0
}

// eat consumes b, which is not 0, if it is next.
func (sc *scanner) eat(b byte) bool {
	if sc.peek() == b {
		sc.i++
		return true
	}
	return false
}

// space skips JSON white space.
func (sc *scanner) space() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// end reports whether only white space is left.
func (sc *scanner) end() bool {
	sc.space()
	return sc.i == len(sc.s)
}

// str reads a string without escapes or control characters, in valid
// UTF-8, and returns it as a substring of s.
func (sc *scanner) str() (string, bool) {
	if !sc.eat('"') {
		return "", false
	}
	start, ascii := sc.i, true
	for ; sc.i < len(sc.s); sc.i++ {
		switch b := sc.s[sc.i]; {
		case b == '"':
			v := sc.s[start:sc.i]
			sc.i++
			return v, ascii || utf8.ValidString(v)
		case b == '\\' || b < 0x20:
			return "", false
		case b >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// strs reads an array of strings; [] is an empty slice, not nil, as
// encoding/json makes it.
func (sc *scanner) strs() ([]string, bool) {
	if !sc.eat('[') {
		return nil, false
	}
	sc.space()
	if sc.eat(']') {
		return []string{}, true
	}
	var out []string
	for {
		sc.space()
		v, ok := sc.str()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		sc.space()
		if sc.eat(']') {
			return out, true
		}
		if !sc.eat(',') {
			return nil, false
		}
	}
}

// date reads a whole number of at most 15 digits without a leading zero,
// which a float64 holds exactly.
func (sc *scanner) date() (numericDate, bool) {
	start := sc.i
	var n int64
	for sc.i < len(sc.s) && '0' <= sc.s[sc.i] && sc.s[sc.i] <= '9' {
		n = n*10 + int64(sc.s[sc.i]-'0')
		sc.i++
	}
	switch digits := sc.i - start; {
	case digits == 0 || digits > 15:
		return 0, false
	case digits > 1 && sc.s[start] == '0':
		return 0, false
	}
	// A fraction or exponent follows: leave the number to encoding/json.
	if b := sc.peek(); b == '.' || b == 'e' || b == 'E' {
		return 0, false
	}
	return numericDate(n), true
}
