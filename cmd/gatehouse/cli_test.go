package main

import "testing"

// What a client stored reaches an admin's terminal only as plain text.
func TestShown(t *testing.T) {
	for in, want := range map[string]string{
		"Ada's phone ☎": "Ada's phone ☎",
		"198.51.100.7":  "198.51.100.7",
		"\x1b[31mred":   `"\x1b[31mred"`,
		"a\rb":          `"a\rb"`,
		"a\x00b":        `"a\x00b"`,
		"a\tb":          `"a\tb"`,
		"a\xffb":        `"a\xffb"`,
		"a\u202eb":      `"a\u202eb"`,
		"a\u009bb":      `"a\u009bb"`,
		"":              "",
	} {
		if got := shown(in); got != want {
			t.Errorf("shown(%q) = %s, want %s", in, got, want)
		}
	}
}
