package pages

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// MaxLogoBytes is the largest logo Config.BrandLogo may hold: a logo is
// shown small, and every page, logo included, stays well under 60 KB.
const MaxLogoBytes = 32 << 10

// logoPath is where the pages serve Config.BrandLogo.
const logoPath = "/auth/static/logo"

// CheckLogo returns the content type of a logo (image/png, image/jpeg,
// image/webp or image/svg+xml), or an error that says why the pages
// refuse it: empty, over MaxLogoBytes, or not one of those formats. The
// type is read from the bytes, never from a file name. An SVG must be
// well-formed XML whose root element is <svg>; it is served with a policy
// of its own (no script, no fetches), and the pages show it with <img>,
// where browsers run no script of an image anyway.
func CheckLogo(b []byte) (string, error) {
	switch {
	case len(b) == 0:
		return "", errors.New("the logo is empty")
	case len(b) > MaxLogoBytes:
		return "", fmt.Errorf("the logo is over %d KiB", MaxLogoBytes>>10)
	}
	switch ct := http.DetectContentType(b); ct {
	case "image/png", "image/jpeg", "image/webp":
		return ct, nil
	}
	if isSVG(b) {
		return "image/svg+xml", nil
	}
	return "", errors.New("the logo is not a PNG, JPEG, WebP or SVG image")
}

// isSVG reports whether b is a well-formed XML document whose root is an
// <svg> element.
func isSVG(b []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return root == "svg"
		}
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
			if root != "svg" {
				return false
			}
		}
	}
}

// rgb is a colour of the pages.
type rgb struct{ r, g, b uint8 }

// CheckColor checks a brand colour: "" (the default) or #RRGGBB.
func CheckColor(s string) error {
	if s == "" {
		return nil
	}
	_, err := parseColor(s)
	return err
}

func parseColor(s string) (rgb, error) {
	hex, ok := strings.CutPrefix(s, "#")
	if !ok || len(hex) != 6 {
		return rgb{}, fmt.Errorf("%q is not a colour written #RRGGBB", s)
	}
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		return rgb{}, fmt.Errorf("%q is not a colour written #RRGGBB", s)
	}
	return rgb{uint8(v >> 16), uint8(v >> 8), uint8(v)}, nil
}

func (c rgb) String() string { return fmt.Sprintf("#%02x%02x%02x", c.r, c.g, c.b) }

// luminance is WCAG 2's relative luminance.
func (c rgb) luminance() float64 {
	ch := func(v uint8) float64 {
		f := float64(v) / 255
		if f <= 0.04045 {
			return f / 12.92
		}
		return math.Pow((f+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(c.r) + 0.7152*ch(c.g) + 0.0722*ch(c.b)
}

// contrast is WCAG 2's contrast ratio of two colours, from 1 to 21.
func contrast(a, b rgb) float64 {
	la, lb := a.luminance(), b.luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// darker mixes c with black: f of 0 is c, 1 is black.
func (c rgb) darker(f float64) rgb {
	m := func(v uint8) uint8 { return uint8(math.Round(float64(v) * (1 - f))) }
	return rgb{m(c.r), m(c.g), m(c.b)}
}

var (
	white  = rgb{255, 255, 255}
	black  = rgb{0, 0, 0}
	pageBG = rgb{0xf4, 0xf5, 0xf7} // --bg in style.css, the darkest background links sit on
)

// minContrast is WCAG 2's AA minimum for text.
const minContrast = 4.5

// onColor is the text colour on a background of c: white when it is
// readable (4.5:1), else black, which then always is (the two ratios
// multiply to 21).
func onColor(c rgb) rgb {
	if contrast(white, c) >= minContrast {
		return white
	}
	return black
}

// readable returns c darkened just enough to be readable as text on
// the pages' backgrounds.
func readable(c rgb) rgb {
	for f := 0.0; f < 1; f += 0.05 {
		if d := c.darker(f); contrast(d, pageBG) >= minContrast {
			return d
		}
	}
	return black
}

// brandStyle is the stylesheet that follows style.css for a brand colour:
// buttons in the colour with readable text on them (computed), links in
// the colour darkened as much as they need to be readable, which it
// returns too.
func brandStyle(c rgb) (css string, link rgb) {
	dark := c.darker(0.2)
	link = readable(c)
	css = fmt.Sprintf("\n/* --brand-color %s */\n:root { --accent: %s; --accent-dark: %s; --on-accent: %s; --on-accent-dark: %s; --link: %s; --link-dark: %s; }\n",
		c, c, dark, onColor(c), onColor(dark), link, link.darker(0.2))
	return css, link
}
