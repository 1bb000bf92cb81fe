package passkey

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"golang.org/x/net/publicsuffix"
)

var (
	// ErrNeedsDomain means the relying party id is an IP address: WebAuthn
	// scopes credentials to a domain name, and browsers refuse an IP
	// address as one. A server whose issuer is an IP address (such as
	// http://127.0.0.1:8080) runs without passkeys and answers their
	// endpoints with 403 passkeys_disabled.
	ErrNeedsDomain = errors.New("passkey: the relying party id must be a domain name, not an IP address")
	// ErrBadConfig means a Config cannot work: an empty or malformed
	// relying party id, a public suffix as one, no origins, an origin
	// that is not https (nor http on localhost) or whose host is not the
	// relying party id or under it. The error says which.
	ErrBadConfig = errors.New("passkey: bad configuration")
)

// Config says who the relying party is. Every field but RPName is
// required.
type Config struct {
	// RPID is the relying party id: a domain name, such as "example.com"
	// or "auth.example.com", that is each origin's host or a parent
	// domain of it, and not a public suffix. Credentials are bound to it:
	// changing it later makes every registered passkey useless.
	RPID string
	// RPName is the name authenticators may show beside the account; the
	// empty string means RPID.
	RPName string
	// Origins are the origins (scheme://host[:port], such as
	// "https://auth.example.com") whose pages may run the ceremonies.
	// Each is https, or http on localhost or a *.localhost name, whose
	// host is RPID or a name under it.
	Origins []string
}

// RelyingParty runs WebAuthn registration and login ceremonies for one
// relying party id. It holds no state between calls and is safe for
// concurrent use; make it with New.
type RelyingParty struct {
	w    *webauthn.WebAuthn
	rpID string
}

// New checks cfg and returns a RelyingParty for it. An IP address as
// RPID gives ErrNeedsDomain; any other problem gives an error wrapping
// ErrBadConfig that says what is wrong.
func New(cfg Config) (*RelyingParty, error) {
	rpID, err := checkRPID(cfg.RPID)
	if err != nil {
		return nil, err
	}
	if len(cfg.Origins) == 0 {
		return nil, fmt.Errorf("%w: no origins", ErrBadConfig)
	}
	origins := make([]string, len(cfg.Origins))
	for i, o := range cfg.Origins {
		if origins[i], err = checkOrigin(o, rpID); err != nil {
			return nil, err
		}
	}
	name := cfg.RPName
	if name == "" {
		name = rpID
	}
	w, err := webauthn.New(&webauthn.Config{
		RPID:          rpID,
		RPDisplayName: name,
		RPOrigins:     origins,
		// The credential's public key is all a relying party without an
		// allow-list of authenticator models needs, and asking for
		// attestation makes browsers prompt about it.
		AttestationPreference: protocol.PreferNoAttestation,
		// Discoverable credentials, so a passkey can sign in alone; user
		// verification where the authenticator can, and required at a
		// passwordless login (BeginLogin).
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: protocol.ResidentKeyRequired(),
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   protocol.VerificationPreferred,
		},
		// Timeouts keep the library's default of five minutes, the
		// lifetime the caller gives the state, and are not enforced by
		// the library, whose clock is not the caller's: the caller
		// expires the state.
		//
		// Client extension outputs that were not asked for (some password
		// managers add them) are ignored rather than failing the
		// ceremony: none is asked for, and none is used.
		ExtensionsUnsolicitedOutputPolicy: protocol.UnsolicitedOutputPolicyIgnore,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	return &RelyingParty{w: w, rpID: rpID}, nil
}

// RPID returns the relying party id, in lower case.
func (rp *RelyingParty) RPID() string { return rp.rpID }

// checkRPID returns rpID in lower case if it is a domain name that can be
// a relying party id.
func checkRPID(rpID string) (string, error) {
	if rpID == "" {
		return "", fmt.Errorf("%w: no relying party id", ErrBadConfig)
	}
	if _, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(rpID, "["), "]")); err == nil {
		return "", fmt.Errorf("%w: %q", ErrNeedsDomain, rpID)
	}
	id := strings.ToLower(rpID)
	if strings.HasPrefix(id, ".") || strings.HasSuffix(id, ".") || strings.Contains(id, "..") {
		return "", fmt.Errorf("%w: relying party id %q is not a domain name", ErrBadConfig, rpID)
	}
	for _, c := range id {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '.' {
			return "", fmt.Errorf("%w: relying party id %q is not a domain name (no scheme, port or path; IDNs in their xn-- form)", ErrBadConfig, rpID)
		}
	}
	if id == "localhost" {
		return id, nil // for development, with http://localhost origins
	}
	// A public suffix ("com", "co.uk", "github.io") would let every site
	// under it use the credentials, and browsers refuse it. (An unlisted
	// single label is its own suffix by the list's default rule, but not
	// an ICANN one: it is refused below, as a single label.)
	if suffix, icann := publicsuffix.PublicSuffix(id); suffix == id && (icann || strings.Contains(id, ".")) {
		return "", fmt.Errorf("%w: relying party id %q is a public suffix; use a domain under it", ErrBadConfig, rpID)
	}
	if !strings.Contains(id, ".") {
		return "", fmt.Errorf("%w: relying party id %q is a single label, not a domain name", ErrBadConfig, rpID)
	}
	return id, nil
}

// checkOrigin returns origin in the form scheme://host[:port] if it may
// run ceremonies for rpID.
func checkOrigin(origin, rpID string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil {
		return "", fmt.Errorf("%w: origin %q: %w", ErrBadConfig, origin, err)
	}
	if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("%w: origin %q is not of the form scheme://host[:port]", ErrBadConfig, origin)
	}
	host := strings.ToLower(u.Hostname())
	scheme := strings.ToLower(u.Scheme)
	localhost := host == "localhost" || strings.HasSuffix(host, ".localhost")
	if scheme != "https" && (scheme != "http" || !localhost) {
		return "", fmt.Errorf("%w: origin %q must be https (http only on localhost)", ErrBadConfig, origin)
	}
	if host != rpID && !strings.HasSuffix(host, "."+rpID) {
		return "", fmt.Errorf("%w: origin %q is not on the relying party id %q or a name under it", ErrBadConfig, origin, rpID)
	}
	hostPort := host
	if p := u.Port(); p != "" && !(scheme == "https" && p == "443") && !(scheme == "http" && p == "80") {
		hostPort += ":" + p
	}
	return scheme + "://" + hostPort, nil
}
