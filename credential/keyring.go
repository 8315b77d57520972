package credential

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"healthcode"
)

// b64 is the strict base64url alphabet without padding used by JWS and JWK.
var b64 = base64.RawURLEncoding.Strict()

// KeyID returns the kid of an Ed25519 public key: base64url of the first 8
// bytes of its SHA-256. Any caller may use it.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return b64.EncodeToString(sum[:8])
}

// ringKey is one signing key. kid, pub, priv and createdAt never change;
// retiredAt and publishedUntil change under the ring's lock.
type ringKey struct {
	kid            string
	pub            ed25519.PublicKey
	priv           ed25519.PrivateKey
	createdAt      time.Time
	retiredAt      time.Time // zero while the key is (a candidate for) the active key
	publishedUntil time.Time // zero: published without limit
	// standby: published ahead of its use (Prepublish), never active until
	// the next Rotate activates it.
	standby bool
}

// keyFile is the on-disk form of a signing key, <dir>/signing/<kid>.json.
// It follows the JWK OKP fields (d is the 32-byte seed).
type keyFile struct {
	Kid            string     `json:"kid"`
	Iss            string     `json:"iss"`
	Kty            string     `json:"kty"`
	Crv            string     `json:"crv"`
	Alg            string     `json:"alg"`
	X              string     `json:"x"`
	D              string     `json:"d"`
	CreatedAt      time.Time  `json:"createdAt"`
	RetiredAt      *time.Time `json:"retiredAt,omitempty"`
	PublishedUntil *time.Time `json:"publishedUntil,omitempty"`
	Standby        bool       `json:"standby,omitempty"`
}

// KeyRing holds an issuer's Ed25519 signing keys: one active key that signs
// new tokens and the retired keys that stay published until the tokens they
// signed have expired. It is safe for concurrent use within one process; the
// key directory must not be rotated by two processes at once (see
// docs/scanning.md and the integrator notes: create and rotate keys from one
// place, let API replicas load with create=false).
type KeyRing struct {
	issuer string
	dir    string // <keydir>/signing, or "" for a memory ring

	mu     sync.RWMutex
	keys   []*ringKey // by createdAt
	active *ringKey
}

// signingDir is the sub-directory of the key directory that holds signing keys.
const signingDir = "signing"

// NewMemoryKeyRing returns a key ring with one fresh key that lives only in
// memory. Tests and dev-mode test issuers (e.g. the national platform
// simulator) use it. It returns an INVALID error for a malformed issuer id.
func NewMemoryKeyRing(issuer string) (*KeyRing, error) {
	if !ValidIssuerID(issuer) {
		return nil, healthcode.Errorf(healthcode.EINVALID, "签发方标识无效：%q", issuer)
	}
	r := &KeyRing{issuer: issuer}
	k := newRingKey(time.Now())
	r.keys = []*ringKey{k}
	r.active = k
	return r, nil
}

// LoadKeyRing loads the signing keys of issuer from dir/signing/*.json. When
// the directory holds no key and create is true it creates the first key
// (files are written with mode 0600, the directory with 0700); when create is
// false an empty directory is an error. The process that owns the keys (serve,
// dev, a key-management command) calls it at start-up. Errors: INVALID for a
// malformed issuer id; wrapped I/O errors; an error naming the file for a
// corrupt key, a key of another issuer, or a key file readable by group or
// others.
func LoadKeyRing(dir string, issuer string, create bool) (*KeyRing, error) {
	if !ValidIssuerID(issuer) {
		return nil, healthcode.Errorf(healthcode.EINVALID, "签发方标识无效：%q", issuer)
	}
	r := &KeyRing{issuer: issuer, dir: filepath.Join(dir, signingDir)}
	entries, err := os.ReadDir(r.dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("credential: read key dir: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		k, err := readKeyFile(filepath.Join(r.dir, name), issuer)
		if err != nil {
			return nil, err
		}
		r.keys = append(r.keys, k)
	}
	if len(r.keys) == 0 {
		if !create {
			return nil, fmt.Errorf("credential: no signing key in %s", r.dir)
		}
		if err := os.MkdirAll(r.dir, 0o700); err != nil {
			return nil, fmt.Errorf("credential: create key dir: %w", err)
		}
		k := newRingKey(time.Now())
		if err := r.persist(k); err != nil {
			return nil, err
		}
		r.keys = []*ringKey{k}
	}
	r.sortKeys()
	r.active = r.pickActive()
	if r.active == nil {
		return nil, fmt.Errorf("credential: no active signing key in %s (all retired); rotate to create one", r.dir)
	}
	return r, nil
}

func newRingKey(now time.Time) *ringKey {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		panic(err) // crypto/rand never fails
	}
	return &ringKey{kid: KeyID(pub), pub: pub, priv: priv, createdAt: now.UTC().Truncate(time.Second)}
}

func readKeyFile(path, issuer string) (*ringKey, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("credential: stat signing key: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("credential: signing key %s is accessible by group or others (mode %04o); chmod 600 it", path, info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("credential: read signing key: %w", err)
	}
	var f keyFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("credential: parse signing key %s: %w", path, err)
	}
	seed, err := b64.DecodeString(f.D)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("credential: signing key %s: bad d", path)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	switch {
	case f.Kty != "OKP" || f.Crv != "Ed25519" || f.Alg != "EdDSA":
		return nil, fmt.Errorf("credential: signing key %s: not an Ed25519 EdDSA key", path)
	case f.X != b64.EncodeToString(pub):
		return nil, fmt.Errorf("credential: signing key %s: x does not match d", path)
	case f.Kid != KeyID(pub) || filepath.Base(path) != f.Kid+".json":
		return nil, fmt.Errorf("credential: signing key %s: kid does not match the key or the file name", path)
	case f.Iss != issuer:
		return nil, fmt.Errorf("credential: signing key %s belongs to issuer %q, not %q", path, f.Iss, issuer)
	}
	k := &ringKey{kid: f.Kid, pub: pub, priv: priv, createdAt: f.CreatedAt, standby: f.Standby}
	if f.RetiredAt != nil {
		k.retiredAt = *f.RetiredAt
	}
	if f.PublishedUntil != nil {
		k.publishedUntil = *f.PublishedUntil
	}
	return k, nil
}

// persist writes k atomically to <dir>/<kid>.json with mode 0600. A memory
// ring persists nothing. The caller holds the write lock (or owns r alone).
func (r *KeyRing) persist(k *ringKey) error {
	if r.dir == "" {
		return nil
	}
	f := keyFile{
		Kid: k.kid, Iss: r.issuer, Kty: "OKP", Crv: "Ed25519", Alg: "EdDSA",
		X: b64.EncodeToString(k.pub), D: b64.EncodeToString(k.priv.Seed()), CreatedAt: k.createdAt, Standby: k.standby,
	}
	if !k.retiredAt.IsZero() {
		t := k.retiredAt
		f.RetiredAt = &t
	}
	if !k.publishedUntil.IsZero() {
		t := k.publishedUntil
		f.PublishedUntil = &t
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("credential: encode signing key: %w", err)
	}
	tmp, err := os.CreateTemp(r.dir, ".tmp-*.json") // mode 0600
	if err != nil {
		return fmt.Errorf("credential: write signing key: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("credential: write signing key: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("credential: write signing key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("credential: write signing key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("credential: write signing key: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(r.dir, k.kid+".json")); err != nil {
		return fmt.Errorf("credential: write signing key: %w", err)
	}
	return syncDir(r.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("credential: sync key dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("credential: sync key dir: %w", err)
	}
	return nil
}

func (r *KeyRing) sortKeys() {
	sort.SliceStable(r.keys, func(i, j int) bool {
		if !r.keys[i].createdAt.Equal(r.keys[j].createdAt) {
			return r.keys[i].createdAt.Before(r.keys[j].createdAt)
		}
		return r.keys[i].kid < r.keys[j].kid
	})
}

// pickActive returns the newest key that is neither retired nor standby.
// Two such keys exist only after a rotation interrupted between its two
// writes; the newer one wins and the next rotation retires the other.
func (r *KeyRing) pickActive() *ringKey {
	for i := len(r.keys) - 1; i >= 0; i-- {
		if r.keys[i].retiredAt.IsZero() && !r.keys[i].standby {
			return r.keys[i]
		}
	}
	return nil
}

// Issuer returns the issuer id the ring signs for. Any caller may use it; it
// never fails.
func (r *KeyRing) Issuer() string { return r.issuer }

// Active returns the public JWK of the key that signs new tokens. Any caller
// may use it; it never fails.
func (r *KeyRing) Active() JWK {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.jwk(r.active)
}

func (r *KeyRing) activeKey() *ringKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.active
}

func (r *KeyRing) jwk(k *ringKey) JWK {
	j := JWK{Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(k.pub), Kid: k.kid, Iss: r.issuer, Alg: "EdDSA", Use: "sig"}
	if !k.publishedUntil.IsZero() {
		t := k.publishedUntil
		j.NotAfter = &t
	}
	return j
}

// PublicKeys returns the published keys at now, oldest first: the active key
// and every retired key whose publication has not ended (now is before its
// NotAfter). The key-set endpoint and BuildKeySet call it; it never fails.
func (r *KeyRing) PublicKeys(now time.Time) []JWK {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]JWK, 0, len(r.keys))
	for _, k := range r.keys {
		if k.publishedUntil.IsZero() || now.Before(k.publishedUntil) {
			out = append(out, r.jwk(k))
		}
	}
	return out
}

// Prepublish creates the next key as a standby key: published in the key
// set from now on, but not signing until the next Rotate activates it, so
// that scanners (which refresh their key set hourly, and may be offline for
// a while) know a key before any token signed with it reaches them. A
// standby key that already exists is returned as it is. Only the process
// that owns the key directory calls it. It returns the standby kid; wrapped
// I/O errors.
func (r *KeyRing) Prepublish(now time.Time) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range r.keys {
		if k.standby {
			return k.kid, nil
		}
	}
	k := newRingKey(now)
	k.standby = true
	if err := r.persist(k); err != nil {
		return "", err
	}
	r.keys = append(r.keys, k)
	r.sortKeys()
	return k.kid, nil
}

// Standby returns the kid of the standby key (Prepublish), or "".
func (r *KeyRing) Standby() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, k := range r.keys {
		if k.standby {
			return k.kid
		}
	}
	return ""
}

// Rotate makes a new active key — the standby key when Prepublish made one
// (published since), else a fresh key — and retires the previous one(s):
// they stay published until now + maxTokenLifetime, because tokens they
// signed may still be valid until then. Pass the longest token lifetime plus
// the skew scanners allow (PaperTokenLifetime + DefaultSkew), plus the time
// the replicas take to load the new key. Only the process that owns the key
// directory calls it (a scheduled job or a key-management command). It
// returns the new kid; INVALID for a non-positive lifetime; wrapped I/O
// errors, in which case a retry is safe.
func (r *KeyRing) Rotate(now time.Time, maxTokenLifetime time.Duration) (newKid string, err error) {
	if maxTokenLifetime <= 0 {
		return "", healthcode.Errorf(healthcode.EINVALID, "令牌最长有效期必须为正")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var k *ringKey
	for _, c := range r.keys {
		if c.standby {
			k = c
		}
	}
	fresh := k == nil
	if fresh {
		k = newRingKey(now)
	}
	k.standby = false
	// The new key goes to disk first: a crash before the old key is marked
	// retired leaves two unretired keys, and LoadKeyRing picks the newer.
	if err := r.persist(k); err != nil {
		return "", err
	}
	until := now.UTC().Add(maxTokenLifetime)
	var firstErr error
	for _, old := range r.keys {
		if !old.retiredAt.IsZero() || old == k {
			continue
		}
		old.retiredAt = now.UTC()
		if old.publishedUntil.IsZero() || old.publishedUntil.Before(until) {
			old.publishedUntil = until
		}
		if err := r.persist(old); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if fresh {
		r.keys = append(r.keys, k)
	}
	r.sortKeys()
	r.active = k
	return k.kid, firstErr
}

// Prune removes the retired keys whose publication has ended (now is at or
// after their NotAfter) from the ring and deletes their files: their private
// keys are destroyed. Only the process that owns the key directory calls it,
// typically right after a scheduled rotation check. It returns the removed
// kids; wrapped I/O errors.
func (r *KeyRing) Prune(now time.Time) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var removed []string
	kept := r.keys[:0]
	var firstErr error
	for _, k := range r.keys {
		if k != r.active && !k.publishedUntil.IsZero() && !now.Before(k.publishedUntil) {
			if r.dir != "" {
				if err := os.Remove(filepath.Join(r.dir, k.kid+".json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
					if firstErr == nil {
						firstErr = fmt.Errorf("credential: remove signing key: %w", err)
					}
					kept = append(kept, k)
					continue
				}
			}
			removed = append(removed, k.kid)
			continue
		}
		kept = append(kept, k)
	}
	clear(r.keys[len(kept):])
	r.keys = kept
	return removed, firstErr
}

// Trusted returns the ring's published keys as a trusted issuer entry for
// BuildKeySet, named name and without a validity window. Dev mode and tests
// use it to trust a simulated issuer (e.g. the national platform); it never
// fails.
func (r *KeyRing) Trusted(name string, now time.Time) TrustedIssuerKeys {
	return TrustedIssuerKeys{Issuer: TrustedIssuer{ID: r.issuer, Name: name}, Keys: r.PublicKeys(now)}
}

// SignDetached signs msg with the active key and returns its kid and the
// Ed25519 signature: for documents that are not tokens (the audit anchors).
// Any holder of the ring may call it; it never fails.
func (r *KeyRing) SignDetached(msg []byte) (kid string, sig []byte) {
	k := r.activeKey()
	return k.kid, ed25519.Sign(k.priv, msg)
}

// VerifyDetached checks a signature made by SignDetached with the ring's key
// kid, retired keys included (as long as the ring still holds them). Any
// caller may use it. Errors: INVALID for an unknown kid or a bad signature.
func (r *KeyRing) VerifyDetached(kid string, msg, sig []byte) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, k := range r.keys {
		if k.kid == kid {
			if ed25519.Verify(k.pub, msg, sig) {
				return nil
			}
			return healthcode.Errorf(healthcode.EINVALID, "签名与密钥 %s 不符", kid)
		}
	}
	return healthcode.Errorf(healthcode.EINVALID, "未知的签名密钥 %s", kid)
}
