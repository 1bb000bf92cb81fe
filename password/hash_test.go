package password_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/gatehouse/gatehouse/password"
)

// small keeps tests fast; big makes a hash that holds a slot for a while
// (about 0.6s, more under -race).
var (
	small = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	big   = password.Params{Memory: 64 * 1024, Time: 8, Threads: 1, SaltLen: 16, KeyLen: 32}
)

const pw = "correct horse battery staple"

func mustHash(t testing.TB, h *password.Hasher, pw string) string {
	t.Helper()
	phc, err := h.Hash(context.Background(), pw)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	return phc
}

func TestRoundTrip(t *testing.T) {
	h := password.NewHasher(small, 0, 0)
	phc := mustHash(t, h, pw)
	tests := []struct {
		pw     string
		wantOK bool
	}{
		{pw, true},
		{"correct horse battery stapler", false},
		{"Correct horse battery staple", false},
		{"", false},
		{strings.Repeat("x", password.MaxLength+1), false},
	}
	for _, tt := range tests {
		ok, rehash, err := h.Verify(context.Background(), tt.pw, phc)
		if ok != tt.wantOK || rehash || err != nil {
			t.Errorf("Verify(%.20q) = %v, %v, %v; want %v, false, nil", tt.pw, ok, rehash, err, tt.wantOK)
		}
	}
	if again := mustHash(t, h, pw); again == phc {
		t.Errorf("two hashes of one password are equal: the salt is not random")
	}
}

func TestHashMaxLength(t *testing.T) {
	h := password.NewHasher(small, 0, 0)
	long := strings.Repeat("x", password.MaxLength)
	if ok, _, err := h.Verify(context.Background(), long, mustHash(t, h, long)); !ok || err != nil {
		t.Errorf("Verify of a MaxLength password = %v, %v; want true, nil", ok, err)
	}
	if _, err := h.Hash(context.Background(), long+"x"); !errors.Is(err, password.ErrTooLong) {
		t.Errorf("Hash over MaxLength = %v, want ErrTooLong", err)
	}
}

func TestDefaultPHC(t *testing.T) {
	want := password.Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	if password.DefaultParams != want {
		t.Fatalf("DefaultParams = %+v, want %+v", password.DefaultParams, want)
	}
	phc := mustHash(t, password.NewHasher(password.DefaultParams, 0, 0), pw)
	format := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !format.MatchString(phc) {
		t.Errorf("Hash = %q, want to match %v", phc, format)
	}
	p, salt, key, err := password.Parse(phc)
	if p != want || len(salt) != 16 || len(key) != 32 || err != nil {
		t.Errorf("Parse = %+v, %d-byte salt, %d-byte key, %v; want %+v, 16, 32, nil", p, len(salt), len(key), err, want)
	}
}

func TestNeedsRehash(t *testing.T) {
	phc := mustHash(t, password.NewHasher(small, 0, 0), pw)
	tests := []struct {
		name   string
		params password.Params
		pw     string
		want   bool
	}{
		{"same params", small, pw, false},
		{"more memory", password.Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, pw, true},
		{"more time", password.Params{Memory: 64, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, pw, true},
		{"longer key", password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 64}, pw, true},
		{"wrong password", password.DefaultParams, "wrong", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := password.NewHasher(tt.params, 0, 0)
			ok, rehash, err := h.Verify(context.Background(), tt.pw, phc)
			if ok != (tt.pw == pw) || rehash != tt.want || err != nil {
				t.Errorf("Verify = %v, %v, %v; want %v, %v, nil", ok, rehash, err, tt.pw == pw, tt.want)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := password.NewHasher(small, 0, 0)
	good := mustHash(t, h, pw)
	f := strings.Split(good, "$")
	salt, key := f[4], f[5]
	b64 := base64.RawStdEncoding.EncodeToString
	with := func(alg, ver, params, salt, key string) string {
		return strings.Join([]string{"", alg, ver, params, salt, key}, "$")
	}
	malformed := []string{
		"",
		"$",
		"garbage",
		good + "$",
		"$" + good,
		good[1:],
		" " + good,
		good + "\n",
		strings.TrimSuffix(good, "$"+key),
		with("argon2i", "v=19", "m=64,t=1,p=1", salt, key),
		with("argon2d", "v=19", "m=64,t=1,p=1", salt, key),
		with("bcrypt", "v=19", "m=64,t=1,p=1", salt, key),
		with("argon2id", "v=16", "m=64,t=1,p=1", salt, key),
		with("argon2id", "", "m=64,t=1,p=1", salt, key),
		with("argon2id", "v=019", "m=64,t=1,p=1", salt, key),
		with("argon2id", "v=19", "", salt, key),
		with("argon2id", "v=19", "m=64,t=1", salt, key),
		with("argon2id", "v=19", "t=1,m=64,p=1", salt, key),
		with("argon2id", "v=19", "m=64,t=1,p=1,k=2", salt, key),
		with("argon2id", "v=19", "m=64,t=1,p=1x", salt, key),
		with("argon2id", "v=19", "m=064,t=1,p=1", salt, key),
		with("argon2id", "v=19", "m=+64,t=1,p=1", salt, key),
		with("argon2id", "v=19", "m=-64,t=1,p=1", salt, key),
		with("argon2id", "v=19", "m= 64,t=1,p=1", salt, key),
		with("argon2id", "v=19", "m=0,t=1,p=1", salt, key),
		with("argon2id", "v=19", "m=7,t=1,p=1", salt, key),
		with("argon2id", "v=19", "m=64,t=1,p=9", salt, key),
		with("argon2id", "v=19", "m=4194305,t=1,p=1", salt, key),
		with("argon2id", "v=19", "m=4294967295,t=1,p=1", salt, key),
		with("argon2id", "v=19", "m=99999999999999999999,t=1,p=1", salt, key),
		with("argon2id", "v=19", "m=64,t=0,p=1", salt, key),
		with("argon2id", "v=19", "m=64,t=101,p=1", salt, key),
		with("argon2id", "v=19", "m=64,t=1,p=0", salt, key),
		with("argon2id", "v=19", "m=4096,t=1,p=256", salt, key),
		with("argon2id", "v=19", "m=64,t=1,p=1", "", key),
		with("argon2id", "v=19", "m=64,t=1,p=1", salt, ""),
		with("argon2id", "v=19", "m=64,t=1,p=1", b64(make([]byte, 7)), key),
		with("argon2id", "v=19", "m=64,t=1,p=1", salt, b64(make([]byte, 15))),
		with("argon2id", "v=19", "m=64,t=1,p=1", salt+"==", key),
		with("argon2id", "v=19", "m=64,t=1,p=1", salt, key+"="),
		with("argon2id", "v=19", "m=64,t=1,p=1", salt[:len(salt)-1]+"!", key),
		with("argon2id", "v=19", "m=64,t=1,p=1", salt[:10]+"\n"+salt[10:], key),
		with("argon2id", "v=19", "m=64,t=1,p=1", "_"+salt[1:], key),          // URL-safe alphabet
		with("argon2id", "v=19", "m=64,t=1,p=1", salt, key[:len(key)-1]+"B"), // stray bits: 32 bytes end in A, E, I...
	}
	for _, phc := range malformed {
		if _, _, _, err := password.Parse(phc); !errors.Is(err, password.ErrMalformedHash) {
			t.Errorf("Parse(%q) = %v, want ErrMalformedHash", phc, err)
		}
		ok, rehash, err := h.Verify(context.Background(), pw, phc)
		if ok || rehash || !errors.Is(err, password.ErrMalformedHash) {
			t.Errorf("Verify(%q) = %v, %v, %v; want false, false, ErrMalformedHash", phc, ok, rehash, err)
		}
	}

	// Well-formed but tampered: no match, no error.
	flip := func(s string) string {
		b, _ := base64.RawStdEncoding.DecodeString(s)
		b[0] ^= 1
		return b64(b)
	}
	tampered := []string{
		with("argon2id", "v=19", "m=64,t=1,p=1", salt, flip(key)),
		with("argon2id", "v=19", "m=64,t=1,p=1", flip(salt), key),
		with("argon2id", "v=19", "m=72,t=1,p=1", salt, key),
		with("argon2id", "v=19", "m=64,t=2,p=1", salt, key),
		with("argon2id", "v=19", "m=64,t=1,p=2", salt, key),
	}
	for _, phc := range tampered {
		if ok, _, err := h.Verify(context.Background(), pw, phc); ok || err != nil {
			t.Errorf("Verify(%q) = %v, %v; want false, nil", phc, ok, err)
		}
	}
}

func TestNewHasherPanicsOnBadParams(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewHasher with Threads 0 did not panic")
		}
	}()
	password.NewHasher(password.Params{Memory: 64, Time: 1, SaltLen: 16, KeyLen: 32}, 0, 0)
}

func TestDummy(t *testing.T) {
	h := password.NewHasher(small, 0, 0)
	if err := h.Dummy(context.Background(), pw); err != nil {
		t.Errorf("Dummy = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Dummy(ctx, pw); !errors.Is(err, context.Canceled) {
		t.Errorf("Dummy with a cancelled context = %v, want context.Canceled", err)
	}
}

// holdSlots starts n big hashes on h, whose concurrency must be n, and
// returns once a probe finds every slot taken, with a func that waits for
// the hashes.
func holdSlots(t *testing.T, h *password.Hasher, n int) (wait func()) {
	t.Helper()
	done := make(chan error, n)
	for range n {
		go func() {
			_, err := h.Hash(context.Background(), "hold the slot")
			done <- err
		}()
	}
	probe := mustHash(t, password.NewHasher(small, 0, 0), pw)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, _, err := h.Verify(ctx, pw, probe)
		cancel()
		switch {
		case errors.Is(err, password.ErrBusy) || errors.Is(err, context.DeadlineExceeded):
			return func() {
				for range n {
					if err := <-done; err != nil {
						t.Errorf("holding Hash: %v", err)
					}
				}
			}
		case err != nil:
			t.Fatalf("probe: %v", err)
		}
		select {
		case err := <-done:
			t.Fatalf("a holding Hash ended (%v) before a probe found every slot taken", err)
		default:
		}
	}
	t.Fatal("no probe found every slot taken")
	return nil
}

func holdSlot(t *testing.T, h *password.Hasher) (wait func()) { return holdSlots(t, h, 1) }

func TestConcurrencyBound(t *testing.T) {
	for _, n := range []int{1, 2} {
		t.Run(fmt.Sprintf("concurrency %d", n), func(t *testing.T) {
			const maxWait = 50 * time.Millisecond
			h := password.NewHasher(big, n, maxWait)
			probe := mustHash(t, password.NewHasher(small, 0, 0), pw)
			wait := holdSlots(t, h, n)

			start := time.Now()
			_, _, err := h.Verify(context.Background(), pw, probe)
			if !errors.Is(err, password.ErrBusy) {
				t.Errorf("Verify while the slots are held = %v, want ErrBusy", err)
			}
			if d := time.Since(start); d < maxWait {
				t.Errorf("Verify gave up after %v, before maxWait %v", d, maxWait)
			}
			if _, err := h.Hash(context.Background(), pw); !errors.Is(err, password.ErrBusy) {
				t.Errorf("Hash while the slots are held = %v, want ErrBusy", err)
			}
			if err := h.Dummy(context.Background(), pw); !errors.Is(err, password.ErrBusy) {
				t.Errorf("Dummy while the slots are held = %v, want ErrBusy", err)
			}

			wait()
			if ok, _, err := h.Verify(context.Background(), pw, probe); !ok || err != nil {
				t.Errorf("Verify once the slots are free = %v, %v; want true, nil", ok, err)
			}
		})
	}
}

// TestHashMatchesArgon2 checks the Hasher's keys against argon2.IDKey run
// on the test's own goroutine: hashing on a thread of its own, at low
// priority, must not change a bit.
func TestHashMatchesArgon2(t *testing.T) {
	p := password.DefaultParams
	h := password.NewHasher(p, 0, 0)
	phc := mustHash(t, h, pw)
	_, salt, key, err := password.Parse(phc)
	if err != nil {
		t.Fatalf("Parse(Hash) = %v", err)
	}
	if want := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen); !bytes.Equal(key, want) {
		t.Errorf("Hash key = %x, want argon2.IDKey's %x", key, want)
	}

	salt = []byte("sixteen byte salt")[:16]
	b64 := base64.RawStdEncoding.EncodeToString
	direct := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", p.Memory, p.Time, p.Threads,
		b64(salt), b64(argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)))
	if ok, rehash, err := h.Verify(context.Background(), pw, direct); !ok || rehash || err != nil {
		t.Errorf("Verify of argon2.IDKey's hash = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestContextCancel(t *testing.T) {
	h := password.NewHasher(big, 1, time.Minute)
	probe := mustHash(t, password.NewHasher(small, 0, 0), pw)

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(cancelled, pw); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with a cancelled context = %v, want context.Canceled", err)
	}
	if _, _, err := h.Verify(cancelled, pw, probe); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with a cancelled context = %v, want context.Canceled", err)
	}

	wait := holdSlot(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	if _, _, err := h.Verify(ctx, pw, probe); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify cancelled while waiting = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Verify returned %v after its context was cancelled", d)
	}
	wait()
}
