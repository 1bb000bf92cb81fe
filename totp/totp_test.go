package totp_test

import (
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/hotp"

	"github.com/gatehouse/gatehouse/totp"
)

// rfcSecret is RFC 6238's SHA-1 test key, "12345678901234567890", in
// base32.
var rfcSecret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

// TestCheckRFC6238Vectors checks the SHA-1 vectors of RFC 6238, appendix
// B, truncated to their last 6 digits (the same truncation, modulo 10^6).
func TestCheckRFC6238Vectors(t *testing.T) {
	for _, tc := range []struct {
		unix int64
		code string
		step int64
	}{
		{59, "287082", 0x1},
		{1111111109, "081804", 0x23523EC},
		{1111111111, "050471", 0x23523ED},
		{1234567890, "005924", 0x273EF07},
		{2000000000, "279037", 0x3F940AA},
		{20000000000, "353130", 0x27BC86AA},
	} {
		t.Run(fmt.Sprint(tc.unix), func(t *testing.T) {
			now := time.Unix(tc.unix, 0)
			if got := totp.Step(now); got != tc.step {
				t.Fatalf("Step = %#x, want %#x", got, tc.step)
			}
			step, err := totp.Check(rfcSecret, tc.code, now, 0)
			if err != nil || step != tc.step {
				t.Fatalf("Check(%q) = %#x, %v; want %#x, nil", tc.code, step, err, tc.step)
			}
		})
	}
}

// codeAt returns the code of secret for step, computed by pquerna/otp's
// hotp package as an independent reference.
func codeAt(t *testing.T, secret string, step int64) string {
	t.Helper()
	c, err := hotp.GenerateCode(secret, uint64(step))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckWindowAndReplay(t *testing.T) {
	key, err := totp.Generate("Gatehouse", "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 1, 12, 0, 10, 0, time.UTC)
	step := totp.Step(now)
	for _, tc := range []struct {
		name     string
		codeStep int64
		lastStep int64
		want     int64 // -1: refused
	}{
		{"step-2 refused", step - 2, 0, -1},
		{"step-1", step - 1, 0, step - 1},
		{"step", step, 0, step},
		{"step+1", step + 1, 0, step + 1},
		{"step+2 refused", step + 2, 0, -1},
		{"replay of the same step", step, step, -1},
		{"an earlier step after a later one", step - 1, step, -1},
		{"an earlier step after the next one", step, step + 1, -1},
		{"the next step after this one", step + 1, step, step + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := codeAt(t, key.Secret, tc.codeStep)
			if tc.want >= 0 && codeAt(t, key.Secret, tc.lastStep) == code && tc.lastStep > 0 {
				t.Skip("two steps share this code; the case says nothing")
			}
			got, err := totp.Check(key.Secret, code, now, tc.lastStep)
			if tc.want < 0 {
				if !errors.Is(err, totp.ErrInvalidCode) {
					t.Fatalf("Check = %d, %v; want ErrInvalidCode", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Check = %d, %v; want %d, nil", got, err, tc.want)
			}
		})
	}
}

func TestCheckAcceptsOnceInSequence(t *testing.T) {
	key, err := totp.Generate("Gatehouse", "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 1, 12, 0, 10, 0, time.UTC)
	code := codeAt(t, key.Secret, totp.Step(now))
	last, err := totp.Check(key.Secret, code, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The same code, a few seconds and a minute later, still inside its window.
	for _, later := range []time.Duration{5 * time.Second, 30 * time.Second} {
		if _, err := totp.Check(key.Secret, code, now.Add(later), last); !errors.Is(err, totp.ErrInvalidCode) {
			t.Fatalf("the same code %v later: %v, want ErrInvalidCode", later, err)
		}
	}
}

func TestCheckRefusesMalformedCodes(t *testing.T) {
	now := time.Unix(59, 0)
	for _, code := range []string{
		"", "28708", "2870820", "28708a", "287 082", "２８７０８２", "+28708", "-28708",
		"287082\x00", "0x1234", "287082287082",
	} {
		if _, err := totp.Check(rfcSecret, code, now, 0); !errors.Is(err, totp.ErrInvalidCode) {
			t.Errorf("Check(%q) = %v, want ErrInvalidCode", code, err)
		}
	}
	for _, code := range []string{" 287082", "287082 ", "\t287082\n"} {
		if _, err := totp.Check(rfcSecret, code, now, 0); err != nil {
			t.Errorf("Check(%q) = %v, want nil (spaces are trimmed)", code, err)
		}
	}
}

func TestCheckRefusesBadSecrets(t *testing.T) {
	now := time.Unix(59, 0)
	for _, secret := range []string{"", "not base32!", "GEZDGNBV", strings.Repeat("1", 32)} {
		if _, err := totp.Check(secret, "287082", now, 0); !errors.Is(err, totp.ErrInvalidSecret) {
			t.Errorf("Check with secret %q = %v, want ErrInvalidSecret", secret, err)
		}
	}
	// Lower case and padding are read too.
	if _, err := totp.Check(strings.ToLower(rfcSecret)+"====", "287082", now, 0); err != nil {
		t.Errorf("lower-case padded secret: %v", err)
	}
}

func TestGenerate(t *testing.T) {
	key, err := totp.Generate("Gatehouse", "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key.Secret)
	if err != nil || len(raw) != totp.SecretBytes {
		t.Fatalf("Secret %q: %d bytes, %v; want %d bytes", key.Secret, len(raw), err, totp.SecretBytes)
	}
	other, err := totp.Generate("Gatehouse", "ada@example.com")
	if err != nil || other.Secret == key.Secret {
		t.Fatalf("two secrets: %q and %q, %v", key.Secret, other.Secret, err)
	}

	u, err := url.Parse(key.URI)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Gatehouse:ada@example.com" ||
		q.Get("secret") != key.Secret || q.Get("issuer") != "Gatehouse" || q.Get("algorithm") != "SHA1" ||
		q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Fatalf("URI = %q", key.URI)
	}

	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(key.QR, prefix) {
		t.Fatalf("QR = %.40q..., want a %s URL", key.QR, prefix)
	}
	pngBytes, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(key.QR, prefix))
	if err != nil {
		t.Fatal(err)
	}
	if len(pngBytes) > 4096 {
		t.Errorf("QR PNG is %d bytes, want at most 4096", len(pngBytes))
	}
	img, err := png.Decode(strings.NewReader(string(pngBytes)))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() != b.Dy() || b.Dx() < 100 {
		t.Errorf("QR image is %v, want a square of at least 100 px", b)
	}
	// The quiet zone: the border is white.
	for i := range b.Dx() {
		for _, p := range [][2]int{{i, 0}, {0, i}, {i, b.Dy() - 1}, {b.Dx() - 1, i}} {
			if r, _, _, _ := img.At(p[0], p[1]).RGBA(); r != 0xffff {
				t.Fatalf("QR pixel %v is not white", p)
			}
		}
	}

	for _, tc := range []struct{ issuer, account string }{{"", "ada"}, {"Gatehouse", ""}} {
		if _, err := totp.Generate(tc.issuer, tc.account); err == nil {
			t.Errorf("Generate(%q, %q) = nil error, want one", tc.issuer, tc.account)
		}
	}
}

func TestStepBeforeEpoch(t *testing.T) {
	for _, tc := range []struct {
		unix int64
		want int64
	}{{0, 0}, {29, 0}, {30, 1}, {-1, -1}, {-30, -1}, {-31, -2}} {
		if got := totp.Step(time.Unix(tc.unix, 0)); got != tc.want {
			t.Errorf("Step(%d) = %d, want %d", tc.unix, got, tc.want)
		}
	}
}
