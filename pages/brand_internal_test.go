package pages

import "testing"

// Whatever the brand colour, the text on buttons and the links stay
// readable (WCAG AA, 4.5:1).
func TestBrandColorsReadable(t *testing.T) {
	for r := 0; r < 256; r += 15 {
		for g := 0; g < 256; g += 15 {
			for b := 0; b < 256; b += 15 {
				c := rgb{uint8(r), uint8(g), uint8(b)}
				if got := contrast(onColor(c), c); got < minContrast {
					t.Fatalf("text on %s: contrast %.2f", c, got)
				}
				if d := c.darker(0.2); contrast(onColor(d), d) < minContrast {
					t.Fatalf("text on %s (hover): contrast too low", d)
				}
				link := readable(c)
				if got := contrast(link, pageBG); got < minContrast {
					t.Fatalf("link %s for %s: contrast %.2f on the page", link, c, got)
				}
				if contrast(c, pageBG) >= minContrast && link != c {
					t.Fatalf("link %s for %s, which was readable already", link, c)
				}
			}
		}
	}
	if onColor(rgb{0x1f, 0x56, 0xb3}) != white || onColor(rgb{0xff, 0xd7, 0x00}) != black {
		t.Error("white on the default blue and black on gold, expected")
	}
}

func TestParseColor(t *testing.T) {
	for _, bad := range []string{"blue", "#fff", "1f56b3", "#1f56b3 ", "#1g56b3", "#+1f56b", "#1f56b3ff"} {
		if err := CheckColor(bad); err == nil {
			t.Errorf("CheckColor(%q) = nil, want an error", bad)
		}
	}
	for in, want := range map[string]rgb{"#1f56b3": {0x1f, 0x56, 0xb3}, "#FFD700": {0xff, 0xd7, 0}} {
		if got, err := parseColor(in); err != nil || got != want {
			t.Errorf("parseColor(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if CheckColor("") != nil {
		t.Error(`CheckColor("") is an error`)
	}
}
