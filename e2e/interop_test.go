package e2e_test

import (
	"encoding/json"
	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// npmInstall installs the pinned dependencies (package-lock.json) of the
// Node.js directory dir, once: npm ci, unless node_modules/pkg is there.
func npmInstall(t *testing.T, dir, pkg string) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node and npm are needed: apt-get install -y nodejs npm")
	}
	if _, err := os.Stat(dir + "/node_modules/" + pkg); err == nil {
		return
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
}

// TestInteropJose verifies Gatehouse access tokens with code nobody on
// this project wrote: the jose package on Node.js, fetching the live JWKS.
func TestInteropJose(t *testing.T) {
	npmInstall(t, "interop", "jose")
	for _, alg := range []string{"EdDSA", "ES256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			const issuer = "http://gatehouse.interop"
			s := start(t, "", "--jwt-alg", alg, "--issuer", issuer, "--audience", "shop")
			l := s.tokenLogin("ada@example.com")
			access := l["access_token"].(string)
			verify := func(tok, aud string) (map[string]any, string, error) {
				cmd := exec.Command("node", "verify.mjs", s.url+"/.well-known/jwks.json", issuer, aud, tok)
				cmd.Dir = "interop"
				var stderr strings.Builder
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				var res map[string]any
				json.Unmarshal(out, &res)
				return res, stderr.String(), err
			}
			res, stderr, err := verify(access, "shop")
			if err != nil {
				t.Fatalf("jose refused a Gatehouse token: %v %s", err, stderr)
			}
			claims := res["claims"].(map[string]any)
			if claims["sub"] != l["user"].(map[string]any)["id"] || claims["sid"] != l["session"].(map[string]any)["id"] || res["header"].(map[string]any)["alg"] != alg {
				t.Errorf("jose verified %v", res)
			}
			if _, _, err := verify(access, "another-audience"); err == nil {
				t.Error("jose accepted the token for another audience: the check is not real")
			}
			parts := strings.Split(access, ".")
			tampered := parts[0] + "." + parts[1] + "x." + parts[2]
			if _, _, err := verify(tampered, "shop"); err == nil {
				t.Error("jose accepted a tampered token")
			}
		})
	}
}

// TestInteropGoJose verifies a Gatehouse token with go-jose, the Go JWT
// library Gatehouse did not pick, from the JWKS as served.
func TestInteropGoJose(t *testing.T) {
	const issuer = "http://gatehouse.interop"
	s := start(t, "", "--issuer", issuer)
	l := s.tokenLogin("ada@example.com")
	access := l["access_token"].(string)

	var set jose.JSONWebKeySet
	if err := json.Unmarshal(s.call(newClient(), "GET", "/.well-known/jwks.json", nil).raw, &set); err != nil {
		t.Fatal(err)
	}
	parsed, err := josejwt.ParseSigned(access, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(parsed.Headers[0].KeyID)
	if len(keys) != 1 || !keys[0].IsPublic() || keys[0].Use != "sig" {
		t.Fatalf("JWKS key for kid %q: %+v", parsed.Headers[0].KeyID, keys)
	}
	var claims josejwt.Claims
	var extra struct {
		SID   string   `json:"sid"`
		Roles []string `json:"roles"`
	}
	if err := parsed.Claims(keys[0].Key, &claims, &extra); err != nil {
		t.Fatalf("go-jose refused the signature: %v", err)
	}
	if err := claims.Validate(josejwt.Expected{Issuer: issuer, AnyAudience: josejwt.Audience{"gatehouse"}}); err != nil {
		t.Fatalf("go-jose refused the claims: %v", err)
	}
	if claims.Subject != l["user"].(map[string]any)["id"] || extra.SID != l["session"].(map[string]any)["id"] || len(extra.Roles) != 1 {
		t.Errorf("claims = %+v %+v", claims, extra)
	}
	if err := claims.Validate(josejwt.Expected{Issuer: "http://someone.else"}); err == nil {
		t.Error("go-jose accepted a wrong issuer: the check is not real")
	}
}
