package totp_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/totp"
)

// FuzzNormalizeRecoveryCode checks that NormalizeRecoveryCode never
// panics, refuses with ErrInvalidCode only, and accepts only input that
// holds exactly 16 characters of the alphabet (with i, l, o read as 1, 1,
// 0) among spaces, tabs and dashes, returning a code in normal form that
// normalizes to itself.
func FuzzNormalizeRecoveryCode(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		got, err := totp.NormalizeRecoveryCode(in)
		if err != nil {
			if !errors.Is(err, totp.ErrInvalidCode) {
				t.Fatalf("NormalizeRecoveryCode(%q) = %v, want ErrInvalidCode", in, err)
			}
			return
		}
		if !recoveryForm.MatchString(got) {
			t.Fatalf("NormalizeRecoveryCode(%q) = %q, not in normal form", in, got)
		}
		if again, err := totp.NormalizeRecoveryCode(got); again != got || err != nil {
			t.Fatalf("NormalizeRecoveryCode(%q) = %q, %v; want itself", got, again, err)
		}
		kept := strings.Map(func(r rune) rune {
			switch r {
			case ' ', '\t', '-':
				return -1
			}
			return r
		}, strings.ToLower(in))
		kept = strings.NewReplacer("o", "0", "i", "1", "l", "1").Replace(kept)
		if kept != strings.ReplaceAll(got, "-", "") {
			t.Fatalf("NormalizeRecoveryCode(%q) = %q, but the input's characters are %q", in, got, kept)
		}
	})
}

// FuzzCheck checks that Check never panics on any code, refuses with
// ErrInvalidCode only, and accepts only a code of exactly six ASCII
// digits (once trimmed) that is the right one for the step it returns.
func FuzzCheck(f *testing.F) {
	f.Fuzz(func(t *testing.T, code string, unix int64, lastStep int64) {
		now := time.Unix(unix, 0)
		step, err := totp.Check(rfcSecret, code, now, lastStep)
		if err != nil {
			if !errors.Is(err, totp.ErrInvalidCode) {
				t.Fatalf("Check(%q, %d, %d) = %v, want ErrInvalidCode", code, unix, lastStep, err)
			}
			return
		}
		trimmed := strings.TrimSpace(code)
		if len(trimmed) != 6 || strings.Trim(trimmed, "0123456789") != "" {
			t.Fatalf("Check accepted %q, which is not six digits", code)
		}
		if d := step - totp.Step(now); step <= lastStep || d < -1 || d > 1 {
			t.Fatalf("Check(%q, %d, %d) = step %d, outside the window or not after lastStep", code, unix, lastStep, step)
		}
		if want := codeAt(t, rfcSecret, step); want != trimmed {
			t.Fatalf("Check(%q) matched step %d, whose code is %q", code, step, want)
		}
	})
}
