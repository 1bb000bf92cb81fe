package password_test

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/password"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		pw   string
		want error
	}{
		{"empty", "", password.ErrTooShort},
		{"seven", "zq7!Lw2", password.ErrTooShort},
		{"exactly eight", "zq7!Lw2#", nil},
		{"seven runes in fourteen bytes", "ééééééé", password.ErrTooShort},
		{"eight runes of cyrillic", "щукажёлт", nil},
		{"eight runes of emoji", "🐢🐇🦊🦉🐝🐙🦀🐌", nil},
		{"passphrase of 200", strings.Repeat("tortoise hare ", 15)[:200], nil},
		{"exactly MaxLength", strings.Repeat("k", password.MaxLength), nil},
		{"MaxLength of two-byte runes", strings.Repeat("é", password.MaxLength/2), nil},
		{"over MaxLength", strings.Repeat("k", password.MaxLength+1), password.ErrTooLong},
		{"over MaxLength in bytes, not runes", strings.Repeat("é", password.MaxLength/2+1), password.ErrTooLong},
		{"invalid UTF-8", "abcdefgh\xff", password.ErrInvalid},
		{"common", "password123", password.ErrCommon},
		{"common, mixed case", "PassWord123", password.ErrCommon},
		{"common, upper case", "TRUSTNO1", password.ErrCommon},
		{"common, digits", "12345678", password.ErrCommon},
		{"no composition rules", "correct horse battery staple", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := password.Check(tt.pw); !errors.Is(got, tt.want) {
				t.Errorf("Check(%.20q) = %v, want %v", tt.pw, got, tt.want)
			}
		})
	}
}

// TestCommonList checks the bundled list's shape and that Check refuses
// every entry in any case.
func TestCommonList(t *testing.T) {
	f, err := os.Open("common.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := make(map[string]bool)
	for s := bufio.NewScanner(f); s.Scan(); {
		pw := s.Text()
		switch {
		case pw != strings.ToLower(pw) || pw != strings.TrimSpace(pw):
			t.Errorf("entry %q is not lowercase and trimmed", pw)
		case utf8.RuneCountInString(pw) < password.MinLength:
			t.Errorf("entry %q is shorter than MinLength", pw)
		case seen[pw]:
			t.Errorf("entry %q is repeated", pw)
		}
		seen[pw] = true
		for _, v := range []string{pw, strings.ToUpper(pw)} {
			if err := password.Check(v); !errors.Is(err, password.ErrCommon) {
				t.Fatalf("Check(%q) = %v, want ErrCommon", v, err)
			}
		}
	}
	if len(seen) < 10000 {
		t.Errorf("common.txt has %d entries, want at least 10000", len(seen))
	}
}
