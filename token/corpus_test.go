package token_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestFuzzCorpusValidSeeds keeps the seed corpus honest: the seeds named
// valid* must verify, so the fuzzer starts from tokens that get past the
// signature check.
func TestFuzzCorpusValidSeeds(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzVerify", "*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no seed corpus: %v", err)
	}
	v := newVerifier(fixedKey())
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "string(") {
			t.Fatalf("%s: not a one-string fuzz seed", path)
		}
		tok, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		_, err = v.Verify(tok)
		if valid := strings.HasPrefix(filepath.Base(path), "valid"); valid != (err == nil) {
			t.Errorf("%s: Verify error = %v, want valid %v", path, err, valid)
		}
	}
}
