package gatehouse_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
)

// FuzzNormalizeEmail: NormalizeEmail never panics, refuses with
// CodeInvalidEmail only, and what it accepts is its own normal form: valid
// UTF-8, lower case, trimmed, one addr-spec of at most MaxEmailLength bytes
// that normalises to itself.
func FuzzNormalizeEmail(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		out, err := gatehouse.NormalizeEmail(in)
		if err != nil {
			if code := gatehouse.ErrorCode(err); code != gatehouse.CodeInvalidEmail {
				t.Fatalf("NormalizeEmail(%q) error code %q, want %q", in, code, gatehouse.CodeInvalidEmail)
			}
			if out != "" {
				t.Fatalf("NormalizeEmail(%q) = %q with error %v, want no address", in, out, err)
			}
			return
		}
		switch {
		case !utf8.ValidString(out):
			t.Fatalf("NormalizeEmail(%q) = %q: not valid UTF-8", in, out)
		case out != strings.ToLower(out):
			t.Fatalf("NormalizeEmail(%q) = %q: not lower case", in, out)
		case len(out) > gatehouse.MaxEmailLength:
			t.Fatalf("NormalizeEmail(%q) = %q: %d bytes, more than %d", in, out, len(out), gatehouse.MaxEmailLength)
		case out != strings.TrimSpace(out) || strings.Count(out, "@") == 0:
			t.Fatalf("NormalizeEmail(%q) = %q: not a trimmed address", in, out)
		case out != strings.ToLower(strings.TrimSpace(in)):
			t.Fatalf("NormalizeEmail(%q) = %q: not the input trimmed and lower-cased", in, out)
		}
		again, err := gatehouse.NormalizeEmail(out)
		if err != nil || again != out {
			t.Fatalf("NormalizeEmail(%q) = %q, but NormalizeEmail(%q) = %q, %v: want it unchanged", in, out, out, again, err)
		}
	})
}
