package pages

import (
	"io/fs"
	"maps"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestCatalogueComplete fails when a language lacks a key another has,
// when a template or this package's code uses a key no language has, or
// when an error code has no words.
func TestCatalogueComplete(t *testing.T) {
	all := map[string]bool{}
	for _, m := range catalogue {
		for k := range m {
			all[k] = true
		}
	}
	for _, lang := range languages {
		for _, k := range slices.Sorted(maps.Keys(all)) {
			if v, ok := catalogue[lang][k]; !ok || v == "" {
				t.Errorf("%s: key %q is missing", lang, k)
			}
		}
	}

	used := map[string]bool{}
	keyRef := regexp.MustCompile(`\.(?:T|F) "([a-z_.]+)"|"((?:error|notice|signin|signup|account|admin|forbidden|problem|nav|field|footer|mfa|totp|codes|passkey)\.[a-z_]+)"`)
	files, _ := fs.Glob(templateFiles, "templates/*.html")
	var sources []string
	for _, f := range files {
		b, _ := fs.ReadFile(templateFiles, f)
		sources = append(sources, string(b))
	}
	for _, f := range []string{"pages.go", "handlers.go", "admin.go", "email.go", "mfa.go", "passkeys.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, string(b))
	}
	for _, src := range sources {
		for _, m := range keyRef.FindAllStringSubmatch(src, -1) {
			used[m[1]+m[2]] = true
		}
	}
	if len(used) < 40 {
		t.Fatalf("found only %d keys in use: the pattern is broken", len(used))
	}
	for k := range used {
		if !all[k] {
			t.Errorf("key %q is used but in no language", k)
		}
	}
	for _, code := range []gatehouse.Code{
		gatehouse.CodeInvalidRequest, gatehouse.CodeInvalidEmail, gatehouse.CodeWeakPassword, gatehouse.CodeEmailTaken,
		gatehouse.CodeSignupDisabled, gatehouse.CodeInvalidCredentials, gatehouse.CodeAccountDisabled, gatehouse.CodeCrossOrigin,
		gatehouse.CodeTooManyAttempts, gatehouse.CodeUnauthenticated, gatehouse.CodeInvalidToken, gatehouse.CodeRefreshTokenReused,
		gatehouse.CodeNotFound, gatehouse.CodeForbidden, gatehouse.CodeMethodNotAllowed, gatehouse.CodeUnavailable,
		gatehouse.CodeMFARequired, gatehouse.CodeInvalidCode, gatehouse.CodeAlreadyEnrolled, gatehouse.CodeNotEnrolled,
		gatehouse.CodeInsufficientAuth,
	} {
		if !all["error."+string(code)] {
			t.Errorf("error code %s has no words", code)
		}
	}
	for _, key := range slices.Concat(slices.Collect(maps.Values(notices)), slices.Collect(maps.Values(adminNotices)), slices.Collect(maps.Values(signinNotices))) {
		if !all[key] {
			t.Errorf("notice %q has no words", key)
		}
	}
}

func TestPickLanguage(t *testing.T) {
	for header, want := range map[string]string{
		"": "en", "fr": "fr", "fr-FR": "fr", "FR-ca,en;q=0.5": "fr", "en-GB,fr;q=0.9": "en",
		"de,fr;q=0.3,en;q=0.2": "fr", "de": "en", "fr;q=0,en;q=0.1": "en", "fr;q=bad,en": "en", "*": "en",
	} {
		if got := pickLanguage(header); got != want {
			t.Errorf("pickLanguage(%q) = %q, want %q", header, got, want)
		}
	}
}
