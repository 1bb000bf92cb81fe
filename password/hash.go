package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams follow OWASP's argon2id recommendation (m=19456 KiB, t=2,
// p=1), with a 16-byte salt and a 32-byte key.
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters, so that a hostile hash cannot make Verify exhaust
// memory or CPU, or make argon2 panic.
const (
	maxMemory  = 4 << 20 // KiB, 4 GiB
	maxTime    = 100
	minSaltLen = 8
	minKeyLen  = 16
)

// valid reports whether p is within the bounds Parse accepts. RFC 9106 asks
// for at least 8 KiB of memory per lane.
func (p Params) valid() bool {
	return p.Threads >= 1 && p.Memory >= 8*uint32(p.Threads) && p.Memory <= maxMemory &&
		p.Time >= 1 && p.Time <= maxTime && p.SaltLen >= minSaltLen && p.KeyLen >= minKeyLen
}

// Hasher hashes and verifies passwords, running at most a fixed number of
// argon2 computations at once. Use NewHasher to make one; it is safe for
// concurrent use.
//
// A running hash keeps one of the Go scheduler's Ps (GOMAXPROCS) busy for
// tens of milliseconds. A server that must keep answering quick requests
// while hashes run should give the runtime a P for each hash on top of
// one per CPU, such as runtime.GOMAXPROCS(2 * cpus) with concurrency cpus:
// see "Hashing beside quick requests" in the package documentation.
type Hasher struct {
	params  Params
	slots   chan struct{}
	maxWait time.Duration
	dummy   string
}

// NewHasher returns a Hasher that hashes with p and runs at most concurrency
// hashes at once; concurrency <= 0 means runtime.GOMAXPROCS(0). A caller that
// cannot get a slot within maxWait gets ErrBusy; maxWait <= 0 means 2s.
// NewHasher panics if p is outside the bounds Parse accepts, since its hashes
// could not be verified.
func NewHasher(p Params, concurrency int, maxWait time.Duration) *Hasher {
	if !p.valid() {
		panic(fmt.Sprintf("password: NewHasher: params out of bounds: %+v", p))
	}
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	if maxWait <= 0 {
		maxWait = 2 * time.Second
	}
	return &Hasher{
		params:  p,
		slots:   make(chan struct{}, concurrency),
		maxWait: maxWait,
		// A random key with h's params: verifying against it costs exactly
		// what verifying against a real hash does, and nothing matches it.
		dummy: encode(p, random(p.SaltLen), random(p.KeyLen)),
	}
}

// Hash returns the PHC string of pw under h's params with a fresh random
// salt, such as $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key> with salt and
// key in unpadded standard base64. It refuses a pw longer than MaxLength
// with ErrTooLong but applies no other policy: run Check at sign-up. It
// returns ErrBusy, or ctx.Err(), if no slot frees up in time.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if len(pw) > MaxLength {
		return "", ErrTooLong
	}
	salt := random(h.params.SaltLen)
	key, err := h.derive(ctx, pw, salt, h.params)
	if err != nil {
		return "", err
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether pw matches the PHC string phc, comparing in
// constant time, and, when it does, whether phc's params differ from h's so
// that the caller should store a fresh Hash. A pw longer than MaxLength is
// simply not a match, found without hashing. Verify returns ErrMalformedHash
// if Parse refuses phc, and ErrBusy, or ctx.Err(), if no slot frees up in
// time; ctx only bounds the wait, not the hashing.
func (h *Hasher) Verify(ctx context.Context, pw, phc string) (ok, needsRehash bool, err error) {
	p, salt, key, err := Parse(phc)
	if err != nil {
		return false, false, err
	}
	if len(pw) > MaxLength {
		return false, false, nil
	}
	got, err := h.derive(ctx, pw, salt, p)
	if err != nil {
		return false, false, err
	}
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, ok && p != h.params, nil
}

// Dummy spends the same time as a Verify of pw against a hash made by h, and
// returns the same errors. Call it when a sign-in names an unknown account,
// so that a wrong email and a wrong password take the same time.
func (h *Hasher) Dummy(ctx context.Context, pw string) error {
	_, _, err := h.Verify(ctx, pw, h.dummy)
	return err
}

// derive runs argon2id with p once a slot is free.
func (h *Hasher) derive(ctx context.Context, pw string, salt []byte, p Params) ([]byte, error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	defer func() { <-h.slots }()
	return argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

// acquire takes a slot, waiting at most h.maxWait.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	timer := time.NewTimer(h.maxWait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-timer.C:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Parse reads a PHC argon2id string, version 19. It parses hostile input: it
// returns ErrMalformedHash for any other algorithm or version, for params
// out of bounds (memory over 4 GiB or under 8 KiB a lane, time 0 or over
// 100, threads 0, a salt under 8 bytes, a key under 16 bytes), and for any
// string that is not exactly how Hash would write these params, salt and
// key.
func Parse(phc string) (p Params, salt, key []byte, err error) {
	f := strings.SplitN(phc, "$", 7)
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v=19" {
		return Params{}, nil, nil, ErrMalformedHash
	}
	if _, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, ErrMalformedHash
	}
	salt, saltErr := base64.RawStdEncoding.DecodeString(f[4])
	key, keyErr := base64.RawStdEncoding.DecodeString(f[5])
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	// The round trip refuses what Sscanf and the decoder tolerate: leading
	// zeros, signs, spaces, trailing text, line breaks, stray bits.
	if saltErr != nil || keyErr != nil || !p.valid() || encode(p, salt, key) != phc {
		return Params{}, nil, nil, ErrMalformedHash
	}
	return p, salt, key, nil
}

// encode writes the PHC string of an argon2id hash.
func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// random returns n bytes from crypto/rand, which never fails.
func random(n uint32) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
