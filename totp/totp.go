package totp

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"time"

	"github.com/boombuler/barcode/qr"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	pqtotp "github.com/pquerna/otp/totp"
)

// The profile of every code: RFC 6238's defaults, which authenticator
// apps assume whatever a URI says.
const (
	// Period is the length of a time step.
	Period = 30 * time.Second
	// Digits is the length of a code.
	Digits = 6
	// Skew is how many steps before and after the current one are
	// accepted, for clocks that drift and people who type slowly.
	Skew = 1
	// SecretBytes is the length of a generated secret: 160 bits, the
	// length RFC 4226 recommends for HMAC-SHA-1.
	SecretBytes = 20
)

var (
	// ErrInvalidCode means a code, or a recovery code, was refused:
	// malformed, wrong, or already used. Check does not say which, so a
	// caller cannot tell a guesser either.
	ErrInvalidCode = errors.New("totp: invalid code")
	// ErrInvalidSecret means a stored secret is not base32 of at least
	// SecretBytes bytes: a bug or a damaged record, not the user's fault.
	ErrInvalidSecret = errors.New("totp: invalid secret")
)

// Key is a newly generated secret and the two forms an authenticator app
// reads it from. The caller seals Secret before storing it and shows URI
// and QR to the user once.
type Key struct {
	// Secret is the shared secret in unpadded base32 (upper case), as
	// Check takes it and as a person can type it into an app.
	Secret string
	// URI is the otpauth://totp/... URI, with issuer, account, algorithm,
	// digits and period.
	URI string
	// QR is a QR code of URI as a data:image/png;base64,... URL, for an
	// <img> element.
	QR string
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Generate makes a new random secret for account (the name an app shows,
// such as the user's email address) at issuer (such as the server's
// name or host). Neither may be empty.
func Generate(issuer, account string) (Key, error) {
	k, err := pqtotp.Generate(pqtotp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      uint(Period / time.Second),
		SecretSize:  SecretBytes,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
		Rand:        rand.Reader,
	})
	if err != nil {
		return Key{}, fmt.Errorf("totp: generate: %w", err)
	}
	qrURL, err := qrDataURL(k.String())
	if err != nil {
		return Key{}, err
	}
	return Key{Secret: k.Secret(), URI: k.String(), QR: qrURL}, nil
}

// QR code rendering: modulePixels pixels a module, and the quiet zone of
// four modules around the symbol that ISO/IEC 18004 asks for.
const (
	modulePixels = 4
	quietZone    = 4
)

// qrDataURL renders uri as a QR code in a data: URL of a PNG image.
//
// The symbol comes from github.com/boombuler/barcode, the encoder
// pquerna/otp's Key.Image uses, so it adds no module. Key.Image scales
// the symbol to a given size, with no quiet zone when the size is a
// multiple of the symbol's, and encodes it in 16-bit grey; instead, the
// symbol is drawn here at four pixels a module inside the quiet zone
// scanners need, in a two-colour palette, which PNG stores at one bit a
// pixel: under a kilobyte for a typical URI. (github.com/skip2/go-qrcode
// would do as well, but as a module of its own.) Error correction is at
// level M, as Key.Image has it: a screen is not a worn label.
func qrDataURL(uri string) (string, error) {
	code, err := qr.Encode(uri, qr.M, qr.Auto)
	if err != nil {
		return "", fmt.Errorf("totp: QR code: %w", err)
	}
	n := code.Bounds().Dx()
	size := (n + 2*quietZone) * modulePixels
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	for y := range n {
		for x := range n {
			if r, _, _, _ := code.At(code.Bounds().Min.X+x, code.Bounds().Min.Y+y).RGBA(); r != 0 {
				continue // white
			}
			x0, y0 := (x+quietZone)*modulePixels, (y+quietZone)*modulePixels
			for dy := range modulePixels {
				for dx := range modulePixels {
					img.SetColorIndex(x0+dx, y0+dy, 1)
				}
			}
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("totp: QR code: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// Step returns the RFC 6238 time step of t: the number of whole periods
// since the Unix epoch.
func Step(t time.Time) int64 {
	s, p := t.Unix(), int64(Period/time.Second)
	q := s / p
	if s%p < 0 {
		q-- // floor, not truncation, before 1970
	}
	return q
}

// Check reports whether code is the code of secret (as Key.Secret gives
// it) for the time step of now or one step either side, and returns the
// step it matched. It refuses with ErrInvalidCode a code that is not
// exactly Digits ASCII digits once surrounding spaces are trimmed, a
// wrong code, and a code whose step is lastStep or earlier: the caller
// passes the step Check last returned for the user (0 for none) and
// stores the new one when it accepts the code, so that no code is
// accepted twice.
//
// When the code matches more than one step (two of three steps share a
// code about three times in a million), Check returns the latest, which refuses the code for
// the rest of its window. Every candidate is computed and compared in
// constant time, so the time taken does not tell which step matched.
func Check(secret, code string, now time.Time, lastStep int64) (step int64, err error) {
	code, ok := parseCode(code)
	if !ok {
		return 0, ErrInvalidCode
	}
	key, err := decodeSecret(secret)
	if err != nil {
		return 0, err
	}
	current := Step(now)
	matched := int64(-1)
	for s := current - Skew; s <= current+Skew; s++ {
		if s < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(key, uint64(s), hotp.ValidateOpts{
			Digits:    otp.DigitsSix,
			Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return 0, fmt.Errorf("%w: %w", ErrInvalidSecret, err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && s > lastStep {
			matched = s
		}
	}
	if matched < 0 {
		return 0, ErrInvalidCode
	}
	return matched, nil
}

// parseCode trims surrounding white space from code and reports whether
// what is left is exactly Digits ASCII digits.
func parseCode(code string) (string, bool) {
	code = strings.TrimSpace(code)
	if len(code) != Digits {
		return "", false
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return "", false
		}
	}
	return code, true
}

// decodeSecret checks that secret is base32 (any case, padded or not) of
// at least SecretBytes bytes, and returns it in the form hotp reads.
func decodeSecret(secret string) (string, error) {
	s := strings.ToUpper(strings.TrimRight(strings.TrimSpace(secret), "="))
	raw, err := b32.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("%w: not base32", ErrInvalidSecret)
	}
	if len(raw) < SecretBytes {
		return "", fmt.Errorf("%w: %d bytes, want at least %d", ErrInvalidSecret, len(raw), SecretBytes)
	}
	return s, nil
}
