package postgres

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"healthcode"

	"golang.org/x/crypto/argon2"
)

// argon2Params are the cost parameters of new password hashes. Production
// uses the OWASP minimum for argon2id (19 MiB, 2 passes, 1 lane). Existing
// hashes keep the parameters recorded in their PHC string.
type argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// passwordParams is the cost of new hashes. Only tests lower it.
var passwordParams = argon2Params{Memory: 19456, Time: 2, Threads: 1}

const (
	passwordSaltLen = 16
	passwordKeyLen  = 32
	// Bounds on parameters read from a stored hash, so that a corrupt row
	// cannot make a login allocate gigabytes or spin for minutes.
	maxArgon2Memory = 1 << 20 // 1 GiB
	maxArgon2Time   = 16
)

// HashPassword returns the argon2id hash of pw in PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, with a random 16-byte salt
// and unpadded standard base64. The staff service and the seed call it; it
// does not check the password policy (see ValidatePassword).
// Errors: INTERNAL only (the random source failed).
func HashPassword(pw string) (string, error) {
	salt := make([]byte, passwordSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	p := passwordParams
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, passwordKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// devPasswordHashes keeps, in dev mode, one hash per password for the
// process: password → func() (string, error).
var devPasswordHashes sync.Map

// hashNewPassword hashes the password of a new account (HashPassword). In
// dev mode the accounts given the same password share one hash of it, as
// the demo accounts (SeedDevAccounts) always did: the demo province
// registers twenty institutions with the published demo password, and each
// argon2id hash costs tens of milliseconds.
func (db *DB) hashNewPassword(pw string) (hash string, err error) {
	if !db.Dev {
		if gerr := passwordGate.run(context.Background(), func() { hash, err = HashPassword(pw) }); gerr != nil {
			return "", gerr
		}
		return hash, err
	}
	once, _ := devPasswordHashes.LoadOrStore(pw, sync.OnceValues(func() (string, error) { return HashPassword(pw) }))
	return once.(func() (string, error))()
}

// hashGate bounds the argon2id computations running at once (each takes
// 19 MiB and a core for tens of milliseconds) and the callers queued for
// one, so that a flood of logins or registrations keeps memory bounded: a
// caller beyond the queue gets healthcode.ErrBusy at once.
type hashGate struct {
	slots   chan struct{}
	queued  atomic.Int64
	maxWait int64
}

// passwordGate is the process's gate: as many hashes at once as cores
// (at most 8, 152 MiB), and 64 callers waiting.
var passwordGate = newHashGate(min(runtime.GOMAXPROCS(0), 8), 64)

func newHashGate(concurrent, queued int) *hashGate {
	return &hashGate{slots: make(chan struct{}, concurrent), maxWait: int64(queued)}
}

// run runs f when a slot is free. Errors: healthcode.ErrBusy (queue
// full), the context's error (the caller gave up while queued).
func (g *hashGate) run(ctx context.Context, f func()) error {
	if g.queued.Add(1) > g.maxWait+int64(cap(g.slots)) {
		g.queued.Add(-1)
		return healthcode.ErrBusy
	}
	defer g.queued.Add(-1)
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-g.slots }()
	f()
	return nil
}

// checkPassword is CheckPassword through the gate.
func checkPassword(ctx context.Context, hash, pw string) (ok bool, err error) {
	if gerr := passwordGate.run(ctx, func() { ok, err = CheckPassword(hash, pw) }); gerr != nil {
		return false, gerr
	}
	return ok, err
}

// errBadHash is returned by CheckPassword for a string that is not an
// argon2id PHC hash this package can verify.
var errBadHash = errors.New("malformed argon2id password hash")

// CheckPassword reports whether pw matches hash, a PHC string written by
// HashPassword (its parameters are read from the string). The comparison is
// constant-time. Any caller may use it. Errors: a plain (INTERNAL) error for
// a malformed or unsupported hash; a wrong password is (false, nil).
func CheckPassword(hash, pw string) (bool, error) {
	p, salt, want, err := parsePasswordHash(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func parsePasswordHash(hash string) (p argon2Params, salt, key []byte, err error) {
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, fmt.Errorf("%w: unsupported version %q", errBadHash, parts[2])
	}
	var m, t, threads uint64
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &threads); err != nil || n != 3 ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", m, t, threads) {
		return p, nil, nil, fmt.Errorf("%w: bad parameters %q", errBadHash, parts[3])
	}
	if t < 1 || t > maxArgon2Time || threads < 1 || threads > 255 || m < 8*threads || m > maxArgon2Memory {
		return p, nil, nil, fmt.Errorf("%w: parameters out of range %q", errBadHash, parts[3])
	}
	if salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, fmt.Errorf("%w: bad salt", errBadHash)
	}
	if key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, fmt.Errorf("%w: bad key", errBadHash)
	}
	return argon2Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(threads)}, salt, key, nil
}

// dummyPasswordHash is checked against when a username is unknown, so that
// the answer takes as long as for a known one.
var dummyPasswordHash = sync.OnceValues(func() (string, error) {
	return HashPassword("dummy password for unknown users")
})

// checkDummyPassword spends the time of one password check (through the
// gate, like a real one) and discards the result. Errors: those of the gate.
func checkDummyPassword(ctx context.Context, pw string) error {
	h, err := dummyPasswordHash()
	if err != nil {
		return err
	}
	_, err = checkPassword(ctx, h, pw)
	return err
}
