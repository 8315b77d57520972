package credential

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"time"

	"healthcode"
)

// JWK is a published Ed25519 verification key in JWK form (RFC 8037: kty
// "OKP", crv "Ed25519", x the base64url public key) plus the issuer it signs
// for and, for retired keys, the end of its publication. KeyRing.PublicKeys
// produces it; key set documents carry it.
type JWK struct {
	Kty string `json:"kty"`           // "OKP"
	Crv string `json:"crv"`           // "Ed25519"
	X   string `json:"x"`             // base64url of the 32-byte public key
	Kid string `json:"kid"`           // key id, unique within the issuer
	Iss string `json:"iss"`           // the issuer whose tokens the key signs
	Alg string `json:"alg"`           // "EdDSA"
	Use string `json:"use,omitempty"` // "sig" when present
	// NotAfter ends the key's publication: it was retired and every token it
	// signed has expired by then. Absent for the active key.
	NotAfter *time.Time `json:"notAfter,omitempty"`
}

// PublicKey decodes the key. Any caller may use it; it returns an INVALID
// error for a key that is not an Ed25519 EdDSA key.
func (j JWK) PublicKey() (ed25519.PublicKey, error) {
	if j.Kty != "OKP" || j.Crv != "Ed25519" || j.Alg != "EdDSA" || (j.Use != "" && j.Use != "sig") {
		return nil, healthcode.Errorf(healthcode.EINVALID, "密钥 %q 不是 Ed25519 签名密钥", j.Kid)
	}
	x, err := b64.DecodeString(j.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return nil, healthcode.Errorf(healthcode.EINVALID, "密钥 %q 的 x 不是 32 字节的 Ed25519 公钥", j.Kid)
	}
	return ed25519.PublicKey(x), nil
}

// TrustedIssuer is an issuer whose codes this platform recognises (互信互认):
// the national platform, another province, a city sub-system, or ourselves.
// Outside [ValidFrom, ValidUntil) its tokens are UNKNOWN_ISSUER.
type TrustedIssuer struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	ValidFrom  *time.Time `json:"validFrom,omitempty"`
	ValidUntil *time.Time `json:"validUntil,omitempty"`
}

// ValidAt reports whether the issuer is trusted at t (ValidFrom inclusive,
// ValidUntil exclusive). Any caller may use it; it never fails.
func (ti *TrustedIssuer) ValidAt(t time.Time) bool {
	return (ti.ValidFrom == nil || !t.Before(*ti.ValidFrom)) && (ti.ValidUntil == nil || t.Before(*ti.ValidUntil))
}

// TrustedIssuerKeys is a trusted issuer with its published keys, the input of
// BuildKeySet. The server builds them from configuration (e.g. another
// province's keys.json via KeySet.IssuerKeys).
type TrustedIssuerKeys struct {
	Issuer TrustedIssuer
	Keys   []JWK
}

// KeySet is the document served at /.well-known/healthcode/keys.json: the
// trusted issuers and their verification keys. Scanners cache it and verify
// offline.
type KeySet struct {
	Issuers     []TrustedIssuer `json:"issuers"`
	Keys        []JWK           `json:"keys"`
	GeneratedAt time.Time       `json:"generatedAt"`
}

// BuildKeySet combines our published keys with the keys of the trusted
// issuers at now. Issuers already retired at now (ValidUntil reached) and
// their keys are left out; an issuer whose ValidFrom is still ahead is kept so
// scanners caching the set learn it in time (Verify enforces the window).
// Keys that are malformed, name another issuer, are duplicated or whose
// NotAfter has passed are left out, as is a trusted entry with our own id (our
// ring is authoritative). The output is sorted, so equal inputs give equal
// documents. The key-set endpoint and dev mode call it; it never fails.
func BuildKeySet(own *KeyRing, trusted []TrustedIssuerKeys, now time.Time) KeySet {
	ks := KeySet{GeneratedAt: now.UTC().Truncate(time.Second), Issuers: []TrustedIssuer{}, Keys: []JWK{}}
	seenIssuer := map[string]bool{}
	seenKey := map[[2]string]bool{}
	addKeys := func(iss string, keys []JWK) {
		for _, k := range keys {
			if k.Iss == "" {
				k.Iss = iss
			}
			if k.Iss != iss || k.Kid == "" || seenKey[[2]string{iss, k.Kid}] {
				continue
			}
			if k.NotAfter != nil && !now.Before(*k.NotAfter) {
				continue
			}
			if _, err := k.PublicKey(); err != nil {
				continue
			}
			seenKey[[2]string{iss, k.Kid}] = true
			ks.Keys = append(ks.Keys, k)
		}
	}
	if own != nil {
		seenIssuer[own.Issuer()] = true
		ks.Issuers = append(ks.Issuers, TrustedIssuer{ID: own.Issuer(), Name: IssuerName(own.Issuer())})
		addKeys(own.Issuer(), own.PublicKeys(now))
	}
	for _, t := range trusted {
		ti := t.Issuer
		if !ValidIssuerID(ti.ID) || seenIssuer[ti.ID] {
			continue
		}
		if ti.ValidUntil != nil && !now.Before(*ti.ValidUntil) {
			continue
		}
		if ti.ValidFrom != nil && ti.ValidUntil != nil && !ti.ValidFrom.Before(*ti.ValidUntil) {
			continue
		}
		if ti.Name == "" {
			ti.Name = IssuerName(ti.ID)
		}
		seenIssuer[ti.ID] = true
		ks.Issuers = append(ks.Issuers, ti)
		addKeys(ti.ID, t.Keys)
	}
	sort.Slice(ks.Issuers, func(i, j int) bool { return ks.Issuers[i].ID < ks.Issuers[j].ID })
	sort.Slice(ks.Keys, func(i, j int) bool {
		if ks.Keys[i].Iss != ks.Keys[j].Iss {
			return ks.Keys[i].Iss < ks.Keys[j].Iss
		}
		return ks.Keys[i].Kid < ks.Keys[j].Kid
	})
	return ks
}

// maxDocumentSize bounds the key set and revocation documents ParseKeySet and
// ParseRevocationList accept.
const maxDocumentSize = 8 << 20

// ParseKeySet parses and validates a key set document strictly: unknown
// fields, trailing data, duplicate issuers or keys, keys of unlisted issuers,
// non-Ed25519 keys and empty validity windows are errors. Scanners, the
// `healthcode verify` command and the server (importing other issuers'
// documents) call it. It returns an INVALID domain error.
func ParseKeySet(data []byte) (*KeySet, error) {
	var ks KeySet
	if err := decodeStrict(data, &ks); err != nil {
		return nil, healthcode.Errorf(healthcode.EINVALID, "密钥集格式错误：%v", err)
	}
	if err := ks.validate(); err != nil {
		return nil, err
	}
	return &ks, nil
}

// decodeStrict decodes one JSON value with no unknown fields and nothing after it.
func decodeStrict(data []byte, v any) error {
	if len(data) > maxDocumentSize {
		return errors.New("document too large")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the document")
	}
	return nil
}

// validate checks a key set's consistency. It returns an INVALID domain error.
func (ks *KeySet) validate() error {
	if ks.GeneratedAt.IsZero() {
		return healthcode.Errorf(healthcode.EINVALID, "密钥集缺少 generatedAt")
	}
	issuers := make(map[string]bool, len(ks.Issuers))
	for i, ti := range ks.Issuers {
		if !ValidIssuerID(ti.ID) {
			return healthcode.Errorf(healthcode.EINVALID, "密钥集 issuers[%d] 的 id 无效", i)
		}
		if issuers[ti.ID] {
			return healthcode.Errorf(healthcode.EINVALID, "密钥集中签发方 %q 重复", ti.ID)
		}
		if ti.ValidFrom != nil && ti.ValidUntil != nil && !ti.ValidFrom.Before(*ti.ValidUntil) {
			return healthcode.Errorf(healthcode.EINVALID, "密钥集中签发方 %q 的有效期为空", ti.ID)
		}
		issuers[ti.ID] = true
	}
	keys := make(map[[2]string]bool, len(ks.Keys))
	for i := range ks.Keys {
		k := &ks.Keys[i]
		if k.Kid == "" || len(k.Kid) > maxIDLen {
			return healthcode.Errorf(healthcode.EINVALID, "密钥集 keys[%d] 的 kid 无效", i)
		}
		if _, err := k.PublicKey(); err != nil {
			return err
		}
		if !issuers[k.Iss] {
			return healthcode.Errorf(healthcode.EINVALID, "密钥集 keys[%d] 的签发方 %q 不在 issuers 中", i, k.Iss)
		}
		if keys[[2]string{k.Iss, k.Kid}] {
			return healthcode.Errorf(healthcode.EINVALID, "密钥集中签发方 %q 的密钥 %q 重复", k.Iss, k.Kid)
		}
		keys[[2]string{k.Iss, k.Kid}] = true
	}
	return nil
}

// IssuerKeys returns one issuer's entry and keys from a parsed key set, for
// trusting that issuer in our own BuildKeySet. Take only the issuer you mean
// to trust: another province's document also lists the issuers it trusts, and
// trust is not transitive. It reports false when the issuer is not listed.
func (ks *KeySet) IssuerKeys(id string) (TrustedIssuerKeys, bool) {
	for _, ti := range ks.Issuers {
		if ti.ID != id {
			continue
		}
		out := TrustedIssuerKeys{Issuer: ti}
		for _, k := range ks.Keys {
			if k.Iss == id {
				out.Keys = append(out.Keys, k)
			}
		}
		return out, true
	}
	return TrustedIssuerKeys{}, false
}

// Fresh reports whether the set was generated less than maxAge before now.
// Scanners and the CLI call it with MaxKeySetAge and refuse to verify with an
// older set (docs/scanning.md). It never fails.
func (ks *KeySet) Fresh(now time.Time, maxAge time.Duration) bool {
	return now.Sub(ks.GeneratedAt) < maxAge
}

// ETag returns a strong HTTP entity tag over the issuers and keys (not
// GeneratedAt), so rebuilding an unchanged set keeps its tag and scanners'
// If-None-Match requests get 304. The key-set endpoint uses it; it never fails.
func (ks *KeySet) ETag() string {
	return etag(struct {
		I []TrustedIssuer `json:"i"`
		K []JWK           `json:"k"`
	}{ks.Issuers, ks.Keys})
}

func etag(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs always marshal
	}
	sum := sha256.Sum256(data)
	return `"` + b64.EncodeToString(sum[:12]) + `"`
}
