package totp_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/totp"
)

var recoveryForm = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$`)

func TestNewRecoveryCodes(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 50 {
		codes, err := totp.NewRecoveryCodes()
		if err != nil {
			t.Fatal(err)
		}
		if len(codes) != totp.RecoveryCodes {
			t.Fatalf("%d codes, want %d", len(codes), totp.RecoveryCodes)
		}
		for _, c := range codes {
			if !recoveryForm.MatchString(c) {
				t.Fatalf("code %q is not of the form xxxx-xxxx-xxxx-xxxx in Crockford base32", c)
			}
			if seen[c] {
				t.Fatalf("code %q made twice", c)
			}
			seen[c] = true
			for _, r := range strings.ReplaceAll(c, "-", "") {
				counts[r]++
			}
			// Written in normal form already.
			if n, err := totp.NormalizeRecoveryCode(c); n != c || err != nil {
				t.Fatalf("NormalizeRecoveryCode(%q) = %q, %v", c, n, err)
			}
		}
	}
	// 16 characters of a 32-symbol alphabet are 80 bits only if every
	// symbol is used about equally: 500 codes give 8000 characters, 250 of
	// each expected; a uniform source stays well within 150..350.
	if len(counts) != 32 {
		t.Fatalf("%d distinct characters used, want 32: %v", len(counts), counts)
	}
	for r, n := range counts {
		if n < 150 || n > 350 {
			t.Errorf("character %q used %d times in 8000, want about 250", r, n)
		}
	}
}

func TestNormalizeRecoveryCode(t *testing.T) {
	const want = "7m2k-q9xd-4hpt-0w1b"
	for _, in := range []string{
		want,
		"7M2K-Q9XD-4HPT-0W1B",
		"7m2kq9xd4hpt0w1b",
		" 7m2k q9xd 4hpt 0w1b ",
		"7m2k--q9xd-4hpt-0w1b",
		"7M2K Q9XD-4hpt\t0w1b",
		"7m2k-q9xd-4hpt-Ow1b", // O read as 0
		"7m2k-q9xd-4hpt-0wIb", // I read as 1
		"7m2k-q9xd-4hpt-0wlb", // l read as 1
	} {
		got, err := totp.NormalizeRecoveryCode(in)
		if err != nil || got != want {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, %v; want %q", in, got, err, want)
		}
		if totp.HashRecoveryCode(got) != totp.HashRecoveryCode(want) {
			t.Errorf("hash of %q differs", in)
		}
	}
	for _, in := range []string{
		"",
		"7m2k-q9xd-4hpt-0w1",     // 15 characters
		"7m2k-q9xd-4hpt-0w1bb",   // 17
		"7m2k-q9xd-4hpt-0w1u",    // u is not in the alphabet
		"7m2k_q9xd_4hpt_0w1b",    // underscores
		"7m2k.q9xd.4hpt.0w1b",    // dots
		"7m2k-q9xd-4hpt-0w1b\n",  // a line break
		"7m2k-q9xd-4hpt-0w1ß",    // not ASCII
		"7m2k-q9xd-4hpt-0w1\x00", // NUL
		strings.Repeat(" ", 60) + "7m2kq9xd4hpt0w1b",
	} {
		if got, err := totp.NormalizeRecoveryCode(in); !errors.Is(err, totp.ErrInvalidCode) {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, %v; want ErrInvalidCode", in, got, err)
		}
	}
}

func TestHashRecoveryCode(t *testing.T) {
	a := totp.HashRecoveryCode("7m2k-q9xd-4hpt-0w1b")
	b := totp.HashRecoveryCode("7m2k-q9xd-4hpt-0w1c")
	if a == b || a == [32]byte{} {
		t.Fatalf("hashes %x and %x", a, b)
	}
}
