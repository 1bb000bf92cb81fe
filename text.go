package gatehouse

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CheckText refuses free text (a device name, later a passkey's or an
// app's name) that no person types and that a terminal or a page could
// show as something else: invalid UTF-8, U+FFFD (which encoding/json puts
// where it met invalid UTF-8), control characters (C0, DEL and C1, ANSI
// escapes among them) and the bidirectional controls that reorder what is
// shown. It also bounds the length in bytes. The error is
// CodeInvalidRequest and names the field.
func CheckText(field, s string, maxBytes int) error {
	if len(s) > maxBytes {
		return Errorf(CodeInvalidRequest, fmt.Sprintf("%s must be at most %d bytes", field, maxBytes))
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, unprintable) >= 0 {
		return Errorf(CodeInvalidRequest, field+" must be plain text, without control characters")
	}
	return nil
}

// SafeText returns s with every rune CheckText refuses replaced by U+FFFD,
// for text that must be kept but cannot be refused, such as a user agent.
func SafeText(s string) string {
	return strings.Map(func(r rune) rune {
		if unprintable(r) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// unprintable reports whether CheckText refuses r.
func unprintable(r rune) bool {
	return unicode.IsControl(r) || r == utf8.RuneError || unicode.Is(unicode.Bidi_Control, r)
}
