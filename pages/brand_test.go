package pages_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/pages"
)

const svgLogo = `<?xml version="1.0" encoding="UTF-8"?>
<!-- a logo -->
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#c00"/></svg>`

func pngLogo(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{200, 0, 0, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestBrandLogoAndColor(t *testing.T) {
	for name, logo := range map[string][]byte{"svg": []byte(svgLogo), "png": pngLogo(t)} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, options{pages: pages.Config{BrandName: "Acme", BrandLogo: logo, BrandColor: "#FFD700"}})
			c := e.client()
			r := e.get(c, "/auth/signin")
			want(t, r, 200)
			has(t, r, `<a class="brand" href="/auth/account"><img src="/auth/static/logo" alt="">Acme</a>`)
			img := e.get(c, "/auth/static/logo")
			want(t, img, 200)
			wantType := map[string]string{"svg": "image/svg+xml", "png": "image/png"}[name]
			if ct := img.header.Get("Content-Type"); ct != wantType || img.body != string(logo) {
				t.Errorf("logo: Content-Type %q, %d bytes; want %q, %d", ct, len(img.body), wantType, len(logo))
			}
			if csp := img.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "sandbox") {
				t.Errorf("logo CSP = %q", csp)
			}
			css := e.get(c, "/auth/static/style.css")
			// Gold is too light for white text and for links on the page.
			has(t, css, "--accent: #ffd700;", "--on-accent: #000000;", "--link: #")
			if strings.Contains(css.body, "--link: #ffd700") {
				t.Error("links in gold, unreadable on the page")
			}
		})
	}
	e := newEnv(t, options{})
	r := e.get(e.client(), "/auth/signin")
	if strings.Contains(r.body, "<img") {
		t.Error("an image without a logo")
	}
	want(t, e.get(e.client(), "/auth/static/logo"), 404)
	if css := e.get(e.client(), "/auth/static/style.css"); strings.Contains(css.body, "/* --brand-color #") {
		t.Error("a brand rule without a brand colour")
	}
}

func TestBrandRefused(t *testing.T) {
	for name, cfg := range map[string]pages.Config{
		"colour name":    {BrandColor: "gold"},
		"short colour":   {BrandColor: "#fd0"},
		"text logo":      {BrandLogo: []byte("hello")},
		"html logo":      {BrandLogo: []byte("<html><body>hi</body></html>")},
		"gif logo":       {BrandLogo: []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")},
		"broken svg":     {BrandLogo: []byte(`<svg xmlns="http://www.w3.org/2000/svg"><rect></svg>`)},
		"not svg root":   {BrandLogo: []byte(`<?xml version="1.0"?><html><svg/></html>`)},
		"empty logo":     {BrandLogo: []byte{}},
		"oversized logo": {BrandLogo: append([]byte(svgLogo[:len(svgLogo)-6]), append(bytes.Repeat([]byte("<g/>"), pages.MaxLogoBytes/4), "</svg>"...)...)},
	} {
		cfg.Issuer = "https://auth.example.com"
		if _, err := pages.New(nil, nil, cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		} else if !strings.HasPrefix(err.Error(), "brand ") {
			t.Errorf("%s: error %q does not say it is the brand", name, err)
		}
	}
}
