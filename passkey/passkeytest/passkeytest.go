// Package passkeytest is a software WebAuthn authenticator for tests: real
// ECDSA P-256 keys, real CBOR attestation objects (fmt "none") and
// authenticator data, real signatures, so that go-webauthn verifies them
// as it would a browser's. It answers the options a passkey.RelyingParty
// makes with the JSON a browser's PublicKeyCredential.toJSON() writes.
package passkeytest

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
	FlagUP byte = 1 << 0
	FlagUV byte = 1 << 2
	FlagBE byte = 1 << 3
	FlagBS byte = 1 << 4
	FlagAT byte = 1 << 6
)

// B64 is the base64url encoding of WebAuthn's JSON.
var B64 = base64.RawURLEncoding

// Authenticator holds one credential, as a security key or a platform
// authenticator would.
type Authenticator struct {
	Key    *ecdsa.PrivateKey
	CredID []byte
	AAGUID []byte
	// UserHandle is set from the creation options at Create, unless set
	// before.
	UserHandle []byte
	// Counter is the signature counter sent with the next answer.
	Counter uint32
}

// New returns an authenticator with a new key and credential id.
func New(t testing.TB) *Authenticator {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	rand.Read(id)
	return &Authenticator{Key: key, CredID: id, AAGUID: []byte("gatehouse-test-1")}
}

// Fixed returns an authenticator with a key and credential id
// that are the same in every run, for fuzz seeds.
func Fixed(t testing.TB) *Authenticator {
	t.Helper()
	d := sha256.Sum256([]byte("gatehouse passkey fuzz key"))
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		t.Fatal(err)
	}
	return &Authenticator{Key: key, CredID: []byte("fixed-credential-id-0123456789ab"), AAGUID: make([]byte, 16)}
}

// Ceremony says how the authenticator and the browser answer: the flags,
// and what they take from the options unless overridden.
type Ceremony struct {
	Flags     byte   // UP, UV, BE, BS; AT is added at registration
	Origin    string // the page's origin
	RPID      string // hashed into the authenticator data; "" means the options'
	Challenge string // "" means the options'
	Type      string // clientData type; "" means the ceremony's own
	NoHandle  bool   // leave userHandle out of an assertion
}

// COSEKey is the credential public key as a COSE_Key (RFC 9053): EC2,
// ES256, P-256.
func (a *Authenticator) COSEKey(t testing.TB) []byte {
	t.Helper()
	pub, err := a.Key.PublicKey.Bytes() // 0x04 || x || y
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

// AuthData is the authenticator data for rpID with flags and, at
// registration, the attested credential data.
func (a *Authenticator) AuthData(rpID string, flags byte, attested []byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	d := append(h[:], flags)
	d = binary.BigEndian.AppendUint32(d, a.Counter)
	return append(d, attested...)
}

// ClientData is the client data JSON of a ceremony.
func ClientData(t testing.TB, typ, challenge, origin string) []byte {
	t.Helper()
	c, err := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Options reads the parts of creation or request options the
// authenticator needs.
type Options struct {
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
		ExcludeCredentials []Descriptor `json:"excludeCredentials"`
		AllowCredentials   []Descriptor `json:"allowCredentials"`
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

// Descriptor is a credential descriptor of options.
type Descriptor struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// ReadOptions reads options as the authenticator does.
func ReadOptions(t testing.TB, raw []byte) Options {
	t.Helper()
	var o Options
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatalf("options %s: %v", raw, err)
	}
	return o
}

// Create answers creation options as navigator.credentials.create() and
// PublicKeyCredential.toJSON() would, and returns the JSON.
func (a *Authenticator) Create(t testing.TB, opts []byte, c Ceremony) []byte {
	t.Helper()
	o := ReadOptions(t, opts)
	challenge, rpID, typ := o.PublicKey.Challenge, o.PublicKey.RP.ID, "webauthn.create"
	if c.Challenge != "" {
		challenge = c.Challenge
	}
	if c.RPID != "" {
		rpID = c.RPID
	}
	if c.Type != "" {
		typ = c.Type
	}
	if a.UserHandle == nil {
		h, err := B64.DecodeString(o.PublicKey.User.ID)
		if err != nil {
			t.Fatal(err)
		}
		a.UserHandle = h
	}
	attested := append([]byte{}, a.AAGUID...)
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(a.CredID)))
	attested = append(attested, a.CredID...)
	attested = append(attested, a.COSEKey(t)...)
	authData := a.AuthData(rpID, c.Flags|FlagAT, attested)
	attObj, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": authData})
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&a.Key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return MustJSON(t, map[string]any{
		"id":                      B64.EncodeToString(a.CredID),
		"rawId":                   B64.EncodeToString(a.CredID),
		"type":                    "public-key",
		"authenticatorAttachment": "platform",
		"clientExtensionResults":  map[string]any{},
		"response": map[string]any{
			"clientDataJSON":     B64.EncodeToString(ClientData(t, typ, challenge, c.Origin)),
			"attestationObject":  B64.EncodeToString(attObj),
			"authenticatorData":  B64.EncodeToString(authData),
			"publicKey":          B64.EncodeToString(spki),
			"publicKeyAlgorithm": -7,
			"transports":         []string{"hybrid", "internal"},
		},
	})
}

// Get answers request options as navigator.credentials.get() and
// toJSON() would, signing with the credential's key; the counter is the
// authenticator's as it stands (set a.Counter first).
func (a *Authenticator) Get(t testing.TB, opts []byte, c Ceremony) []byte {
	t.Helper()
	o := ReadOptions(t, opts)
	challenge, rpID, typ := o.PublicKey.Challenge, o.PublicKey.RPID, "webauthn.get"
	if c.Challenge != "" {
		challenge = c.Challenge
	}
	if c.RPID != "" {
		rpID = c.RPID
	}
	if c.Type != "" {
		typ = c.Type
	}
	return a.Assert(t, challenge, rpID, typ, c)
}

// Assert signs an assertion of challenge for rpID.
func (a *Authenticator) Assert(t testing.TB, challenge, rpID, typ string, c Ceremony) []byte {
	t.Helper()
	authData := a.AuthData(rpID, c.Flags, nil)
	cd := ClientData(t, typ, challenge, c.Origin)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, authData...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.Key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	response := map[string]any{
		"clientDataJSON":    B64.EncodeToString(cd),
		"authenticatorData": B64.EncodeToString(authData),
		"signature":         B64.EncodeToString(sig),
	}
	if !c.NoHandle {
		response["userHandle"] = B64.EncodeToString(a.UserHandle)
	}
	return MustJSON(t, map[string]any{
		"id":                      B64.EncodeToString(a.CredID),
		"rawId":                   B64.EncodeToString(a.CredID),
		"type":                    "public-key",
		"authenticatorAttachment": "platform",
		"clientExtensionResults":  map[string]any{},
		"response":                response,
	})
}

// MustJSON marshals v.
func MustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
