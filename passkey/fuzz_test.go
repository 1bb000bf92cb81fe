package passkey_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/passkey"
)

// fuzzChallenge is the challenge pinned in the fuzz targets' states, so
// that the seeds in testdata/fuzz, answered to it, stay valid.
var fuzzChallenge = b64.EncodeToString([]byte("gatehouse fuzz challenge, 32 b.."))

// pinChallenge returns state with its challenge replaced by fuzzChallenge.
// The state's form is the package's own business; the fuzz targets reach
// into it only to pin the challenge, and fail loudly if the form changes.
func pinChallenge(t testing.TB, state []byte) []byte {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal(state, &s); err != nil {
		t.Fatal(err)
	}
	session, ok := s["session"].(map[string]any)
	if !ok || session["challenge"] == nil {
		t.Fatalf("state %s has no session.challenge: update pinChallenge", state)
	}
	session["challenge"] = fuzzChallenge
	return mustJSON(t, s)
}

// fuzzParty returns the relying party, user (holding the fixed
// authenticator's credential, as registered) and authenticator of the
// fuzz targets.
func fuzzParty(t testing.TB) (*passkey.RelyingParty, passkey.User, *authenticator) {
	rp := newRP(t)
	a := fixedAuthenticator(t)
	u := newUser()
	a.UserHandle = u.ID
	u.Credentials = []passkey.Credential{{ID: a.CredID, PublicKey: a.COSEKey(t), AAGUID: a.AAGUID, BackupEligible: true}}
	return rp, u, a
}

// FuzzFinishLogin checks that FinishLogin never panics on any credential
// JSON, and refuses with ErrInvalidCredential or ErrCounterWentBack only.
func FuzzFinishLogin(f *testing.F) {
	rp, u, _ := fuzzParty(f)
	_, state, err := rp.BeginLogin(nil)
	if err != nil {
		f.Fatal(err)
	}
	state = pinChallenge(f, state)
	f.Fuzz(func(t *testing.T, credential []byte) {
		login, err := rp.FinishLogin(state, credential, func(handle, _ []byte) (passkey.User, error) {
			if string(handle) != string(u.ID) {
				return passkey.User{}, passkey.ErrInvalidCredential
			}
			return u, nil
		})
		switch {
		case err == nil:
			if string(login.UserHandle) != string(u.ID) || !login.UserVerified || string(login.Credential.ID) != string(u.Credentials[0].ID) {
				t.Fatalf("FinishLogin accepted %q as %+v", credential, login)
			}
		case errors.Is(err, passkey.ErrInvalidCredential), errors.Is(err, passkey.ErrCounterWentBack):
		default:
			t.Fatalf("FinishLogin(%q) = %v, want ErrInvalidCredential", credential, err)
		}
	})
}

// FuzzFinishRegistration checks that FinishRegistration never panics on
// any credential JSON, and refuses with ErrInvalidCredential only.
func FuzzFinishRegistration(f *testing.F) {
	rp, u, _ := fuzzParty(f)
	u.Credentials = nil
	_, state, err := rp.BeginRegistration(u)
	if err != nil {
		f.Fatal(err)
	}
	state = pinChallenge(f, state)
	f.Fuzz(func(t *testing.T, credential []byte) {
		c, err := rp.FinishRegistration(u, state, credential)
		switch {
		case err == nil:
			if len(c.ID) == 0 || len(c.PublicKey) == 0 {
				t.Fatalf("FinishRegistration accepted %q as %+v", credential, c)
			}
		case errors.Is(err, passkey.ErrInvalidCredential):
		default:
			t.Fatalf("FinishRegistration(%q) = %v, want ErrInvalidCredential", credential, err)
		}
	})
}

// TestWriteFuzzSeeds writes the seed corpora of the fuzz targets, answered
// to the pinned challenge by the fixed authenticator. It runs only when
// asked: GATEHOUSE_WRITE_FUZZ_SEEDS=1 go test -run TestWriteFuzzSeeds ./passkey/
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("GATEHOUSE_WRITE_FUZZ_SEEDS") == "" {
		t.Skip("set GATEHOUSE_WRITE_FUZZ_SEEDS=1 to rewrite testdata/fuzz")
	}
	rp, u, a := fuzzParty(t)
	write := func(target, name string, credential []byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", credential), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	loginOpts := mustJSON(t, map[string]any{"publicKey": map[string]any{"challenge": fuzzChallenge, "rpId": rp.RPID()}})
	full := flagUP | flagUV | flagBE | flagBS
	a.Counter = 1
	valid := a.Get(t, loginOpts, ceremony{Flags: full, Origin: origin})
	write("FuzzFinishLogin", "valid", valid)
	write("FuzzFinishLogin", "no_uv", a.Get(t, loginOpts, ceremony{Flags: flagUP | flagBE, Origin: origin}))
	write("FuzzFinishLogin", "wrong_origin", a.Get(t, loginOpts, ceremony{Flags: full, Origin: "https://evil.example.net"}))
	write("FuzzFinishLogin", "no_handle", a.Get(t, loginOpts, ceremony{Flags: full, Origin: origin, NoHandle: true}))
	a.Counter = 0
	write("FuzzFinishLogin", "counter_zero", a.Get(t, loginOpts, ceremony{Flags: full, Origin: origin}))
	write("FuzzFinishLogin", "truncated", valid[:len(valid)/2])
	write("FuzzFinishLogin", "empty_object", []byte(`{}`))
	write("FuzzFinishLogin", "null", []byte(`null`))
	write("FuzzFinishLogin", "trailing_data", append(append([]byte{}, valid...), " {}"...))
	write("FuzzFinishLogin", "response_not_object", []byte(`{"id":"AA","rawId":"AA","type":"public-key","response":[]}`))
	write("FuzzFinishLogin", "short_auth_data", []byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AAAA","signature":"AA","userHandle":"AA"}}`))

	u.Credentials = nil
	regOpts := mustJSON(t, map[string]any{"publicKey": map[string]any{
		"challenge": fuzzChallenge, "rp": map[string]any{"id": rp.RPID()}, "user": map[string]any{"id": b64.EncodeToString(u.ID)},
	}})
	created := a.Create(t, regOpts, ceremony{Flags: full, Origin: origin})
	write("FuzzFinishRegistration", "valid", created)
	write("FuzzFinishRegistration", "bs_without_be", a.Create(t, regOpts, ceremony{Flags: flagUP | flagBS, Origin: origin}))
	write("FuzzFinishRegistration", "wrong_rp", a.Create(t, regOpts, ceremony{Flags: full, Origin: origin, RPID: "example.net"}))
	write("FuzzFinishRegistration", "truncated", created[:len(created)*2/3])
	write("FuzzFinishRegistration", "empty_object", []byte(`{}`))
	write("FuzzFinishRegistration", "bad_cbor", []byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oWNmbXQ"}}`))
	write("FuzzFinishRegistration", "id_mismatch", []byte(`{"id":"AA","rawId":"AB","type":"public-key","response":{}}`))

	// The valid seeds are accepted, so the targets reach past parsing.
	var state []byte
	_, state, _ = rp.BeginLogin(nil)
	u.Credentials = []passkey.Credential{{ID: a.CredID, PublicKey: a.COSEKey(t), AAGUID: a.AAGUID, BackupEligible: true}}
	if _, err := rp.FinishLogin(pinChallenge(t, state), valid, func(_, _ []byte) (passkey.User, error) { return u, nil }); err != nil {
		t.Fatalf("the valid login seed: %v", err)
	}
	u.Credentials = nil
	_, state, _ = rp.BeginRegistration(u)
	if _, err := rp.FinishRegistration(u, pinChallenge(t, state), created); err != nil {
		t.Fatalf("the valid registration seed: %v", err)
	}
}
