package passkey_test

// A software authenticator for the tests: real ECDSA P-256 keys, real CBOR
// attestation objects (fmt "none") and authenticator data, real
// signatures, so that go-webauthn verifies them as it would a browser's.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// Authenticator data flags (WebAuthn Level 3, §6.1).
const (
	flagUP byte = 1 << 0
	flagUV byte = 1 << 2
	flagBE byte = 1 << 3
	flagBS byte = 1 << 4
	flagAT byte = 1 << 6
)

var b64 = base64.RawURLEncoding

// authenticator holds one credential, as a security key or a platform
// authenticator would.
type authenticator struct {
	key        *ecdsa.PrivateKey
	credID     []byte
	aaguid     []byte
	userHandle []byte
	counter    uint32
}

func newAuthenticator(t testing.TB) *authenticator {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	rand.Read(id)
	return &authenticator{key: key, credID: id, aaguid: []byte("gatehouse-test-1")}
}

// fixedAuthenticator returns an authenticator with a key and credential id
// that are the same in every run, for fuzz seeds.
func fixedAuthenticator(t testing.TB) *authenticator {
	t.Helper()
	d := sha256.Sum256([]byte("gatehouse passkey fuzz key"))
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		t.Fatal(err)
	}
	return &authenticator{key: key, credID: []byte("fixed-credential-id-0123456789ab"), aaguid: make([]byte, 16)}
}

// ceremony says how the authenticator and the browser answer: the flags,
// and what they take from the options unless overridden.
type ceremony struct {
	flags     byte   // UP, UV, BE, BS; AT is added at registration
	origin    string // the page's origin
	rpID      string // hashed into the authenticator data
	challenge string // "" means the options'
	typ       string // clientData type; "" means the ceremony's own
	noHandle  bool   // leave userHandle out of an assertion
}

// coseKey is the credential public key as a COSE_Key (RFC 9053): EC2,
// ES256, P-256.
func (a *authenticator) coseKey(t testing.TB) []byte {
	t.Helper()
	pub, err := a.key.PublicKey.Bytes() // 0x04 || x || y
	if err != nil {
		t.Fatal(err)
	}
	enc, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		t.Fatal(err)
	}
	k, err := enc.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: pub[1:33], -3: pub[33:65]})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (a *authenticator) authData(rpID string, flags byte, attested []byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	d := append(h[:], flags)
	d = binary.BigEndian.AppendUint32(d, a.counter)
	return append(d, attested...)
}

func clientData(t testing.TB, typ, challenge, origin string) []byte {
	t.Helper()
	c, err := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// options reads the parts of creation or request options the
// authenticator needs.
type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
		RP        struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"rp"`
		User struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			DisplayName string `json:"displayName"`
		} `json:"user"`
		PubKeyCredParams []struct {
			Type string `json:"type"`
			Alg  int    `json:"alg"`
		} `json:"pubKeyCredParams"`
		ExcludeCredentials []descriptor `json:"excludeCredentials"`
		AllowCredentials   []descriptor `json:"allowCredentials"`
		AuthenticatorSel   *struct {
			ResidentKey        string `json:"residentKey"`
			RequireResidentKey bool   `json:"requireResidentKey"`
			UserVerification   string `json:"userVerification"`
		} `json:"authenticatorSelection"`
		UserVerification string `json:"userVerification"`
		Attestation      string `json:"attestation"`
		Timeout          int    `json:"timeout"`
	} `json:"publicKey"`
}

type descriptor struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

func readOptions(t testing.TB, raw []byte) options {
	t.Helper()
	var o options
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatalf("options %s: %v", raw, err)
	}
	return o
}

// create answers creation options as navigator.credentials.create() and
// PublicKeyCredential.toJSON() would, and returns the JSON.
func (a *authenticator) create(t testing.TB, opts []byte, c ceremony) []byte {
	t.Helper()
	o := readOptions(t, opts)
	challenge, rpID, typ := o.PublicKey.Challenge, o.PublicKey.RP.ID, "webauthn.create"
	if c.challenge != "" {
		challenge = c.challenge
	}
	if c.rpID != "" {
		rpID = c.rpID
	}
	if c.typ != "" {
		typ = c.typ
	}
	if a.userHandle == nil {
		h, err := b64.DecodeString(o.PublicKey.User.ID)
		if err != nil {
			t.Fatal(err)
		}
		a.userHandle = h
	}
	attested := append([]byte{}, a.aaguid...)
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(a.credID)))
	attested = append(attested, a.credID...)
	attested = append(attested, a.coseKey(t)...)
	authData := a.authData(rpID, c.flags|flagAT, attested)
	attObj, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": authData})
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&a.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return mustJSON(t, map[string]any{
		"id":                      b64.EncodeToString(a.credID),
		"rawId":                   b64.EncodeToString(a.credID),
		"type":                    "public-key",
		"authenticatorAttachment": "platform",
		"clientExtensionResults":  map[string]any{},
		"response": map[string]any{
			"clientDataJSON":     b64.EncodeToString(clientData(t, typ, challenge, c.origin)),
			"attestationObject":  b64.EncodeToString(attObj),
			"authenticatorData":  b64.EncodeToString(authData),
			"publicKey":          b64.EncodeToString(spki),
			"publicKeyAlgorithm": -7,
			"transports":         []string{"hybrid", "internal"},
		},
	})
}

// get answers request options as navigator.credentials.get() and
// toJSON() would, signing with the credential's key; the counter is the
// authenticator's as it stands (set a.counter first).
func (a *authenticator) get(t testing.TB, opts []byte, c ceremony) []byte {
	t.Helper()
	o := readOptions(t, opts)
	challenge, rpID, typ := o.PublicKey.Challenge, o.PublicKey.RPID, "webauthn.get"
	if c.challenge != "" {
		challenge = c.challenge
	}
	if c.rpID != "" {
		rpID = c.rpID
	}
	if c.typ != "" {
		typ = c.typ
	}
	return a.assert(t, challenge, rpID, typ, c)
}

func (a *authenticator) assert(t testing.TB, challenge, rpID, typ string, c ceremony) []byte {
	t.Helper()
	authData := a.authData(rpID, c.flags, nil)
	cd := clientData(t, typ, challenge, c.origin)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, authData...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	response := map[string]any{
		"clientDataJSON":    b64.EncodeToString(cd),
		"authenticatorData": b64.EncodeToString(authData),
		"signature":         b64.EncodeToString(sig),
	}
	if !c.noHandle {
		response["userHandle"] = b64.EncodeToString(a.userHandle)
	}
	return mustJSON(t, map[string]any{
		"id":                      b64.EncodeToString(a.credID),
		"rawId":                   b64.EncodeToString(a.credID),
		"type":                    "public-key",
		"authenticatorAttachment": "platform",
		"clientExtensionResults":  map[string]any{},
		"response":                response,
	})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
