// Package pii protects personal data (SPEC §8): AES-GCM encryption at rest,
// keyed hashes for lookups, and the display masks for ID numbers, phones and
// names.
package pii

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Cipher encrypts and hashes personal data. It holds a key ring: every key
// opens the values sealed under it, the current one seals new values. The
// lookup-hash key is separate from the ring (see Keyring). It is safe for
// concurrent use.
type Cipher struct {
	keys    map[uint32]cipher.AEAD
	current uint32
	hashKey []byte
}

// KeySize is the size of a master key in bytes.
const KeySize = 32

// LegacyKeyID is the id of the key that sealed the values written before
// ciphertexts carried a key id (the key directory's data.key).
const LegacyKeyID = 1

// Sealed format. A value sealed by Encrypt is
//
//	magic (2 bytes: 0xE5 0x4B) | key id (4 bytes, big-endian) | nonce (12) | AES-GCM ciphertext and tag
//
// with the first six bytes (the header) authenticated as additional data,
// so a changed key id does not open. A legacy value (before key ids) is
// nonce | ciphertext under key 1 with no additional data. Any byte string is
// a legacy value, so Decrypt tries the header first and falls back to the
// legacy form; GCM's tag makes the wrong guess fail.
const (
	magic0, magic1 = 0xE5, 0x4B
	headerSize     = 6
)

// ErrUnknownKey is returned (wrapped) by Decrypt and KeyID for a value sealed
// under a key that is not in the ring.
var ErrUnknownKey = errors.New("pii: value sealed under a key that is not in the key ring")

// NewCipher makes a ring of one key, id 1, from a 32-byte master key; the
// lookup-hash key is derived from the same master (the format of every
// installation before key rotation).
func NewCipher(master []byte) (*Cipher, error) {
	hashKey, err := LookupKeyFromMaster(master)
	if err != nil {
		return nil, err
	}
	return NewKeyring(map[uint32][]byte{LegacyKeyID: master}, LegacyKeyID, hashKey)
}

// LookupKeyFromMaster derives the lookup-hash key from a master key, as
// NewCipher does; the key directory's lookup.key pins it when key 1 leaves
// the ring.
func LookupKeyFromMaster(master []byte) ([]byte, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("pii: master key must be %d bytes, got %d", KeySize, len(master))
	}
	return hkdf.Key(sha256.New, master, nil, "healthcode pii lookup hash v1", 32)
}

// NewKeyring makes a cipher that seals under keys[current] and opens values
// sealed under any key of keys. hashKey (32 bytes) keys the lookup hashes;
// it does not change when the encryption keys rotate.
func NewKeyring(keys map[uint32][]byte, current uint32, hashKey []byte) (*Cipher, error) {
	if _, ok := keys[current]; !ok {
		return nil, fmt.Errorf("pii: the current key %d is not in the key ring", current)
	}
	if len(hashKey) != KeySize {
		return nil, fmt.Errorf("pii: lookup key must be %d bytes, got %d", KeySize, len(hashKey))
	}
	c := &Cipher{keys: make(map[uint32]cipher.AEAD, len(keys)), current: current, hashKey: bytes.Clone(hashKey)}
	for id, master := range keys {
		if id == 0 {
			return nil, errors.New("pii: key id 0 is reserved")
		}
		if len(master) != KeySize {
			return nil, fmt.Errorf("pii: master key %d must be %d bytes, got %d", id, KeySize, len(master))
		}
		encKey, err := hkdf.Key(sha256.New, master, nil, "healthcode pii encryption v1", 32)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(encKey)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		c.keys[id] = aead
	}
	return c, nil
}

// Current is the id of the key new values are sealed under.
func (c *Cipher) Current() uint32 { return c.current }

// KeyIDs lists the ids of the ring, ascending.
func (c *Cipher) KeyIDs() []uint32 {
	ids := make([]uint32, 0, len(c.keys))
	for id := range c.keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Encrypt seals plaintext under the current key with a random nonce.
func (c *Cipher) Encrypt(plaintext string) []byte {
	aead := c.keys[c.current]
	n := aead.NonceSize()
	out := make([]byte, headerSize+n, headerSize+n+len(plaintext)+aead.Overhead())
	out[0], out[1] = magic0, magic1
	binary.BigEndian.PutUint32(out[2:headerSize], c.current)
	if _, err := rand.Read(out[headerSize:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return aead.Seal(out, out[headerSize:], []byte(plaintext), out[:headerSize])
}

// Decrypt opens a value sealed by Encrypt under any key of the ring, or a
// legacy value under key 1. Errors: ErrUnknownKey (wrapped, naming the key
// id) when the value's key is not in the ring; otherwise a corrupt or
// tampered value.
func (c *Cipher) Decrypt(sealed []byte) (string, error) {
	pt, _, err := c.open(sealed)
	return string(pt), err
}

// Open opens sealed and tells which key of the ring sealed it (LegacyKeyID
// for a legacy value): what a re-encryption needs. Errors as Decrypt.
func (c *Cipher) Open(sealed []byte) (string, uint32, error) {
	pt, id, err := c.open(sealed)
	return string(pt), id, err
}

// KeyID opens sealed and tells which key of the ring sealed it (LegacyKeyID
// for a legacy value). Errors as Decrypt.
func (c *Cipher) KeyID(sealed []byte) (uint32, error) {
	_, id, err := c.open(sealed)
	return id, err
}

// ParseHeader splits a value in the keyed format into its key id and the
// rest (nonce and ciphertext); ok is false for a value that cannot be in
// the keyed format, which is then a legacy value.
func ParseHeader(sealed []byte) (keyID uint32, body []byte, ok bool) {
	if len(sealed) < headerSize || sealed[0] != magic0 || sealed[1] != magic1 {
		return 0, nil, false
	}
	id := binary.BigEndian.Uint32(sealed[2:headerSize])
	if id == 0 {
		return 0, nil, false
	}
	return id, sealed[headerSize:], true
}

func (c *Cipher) open(sealed []byte) ([]byte, uint32, error) {
	id, body, keyed := ParseHeader(sealed)
	if keyed {
		if aead, ok := c.keys[id]; ok && len(body) >= aead.NonceSize() {
			n := aead.NonceSize()
			if pt, err := aead.Open(nil, body[:n], body[n:], sealed[:headerSize]); err == nil {
				return pt, id, nil
			}
		}
	}
	// A legacy value (or one whose random nonce happens to begin like a header).
	legacy, haveLegacy := c.keys[LegacyKeyID]
	if haveLegacy && len(sealed) >= legacy.NonceSize() {
		n := legacy.NonceSize()
		if pt, err := legacy.Open(nil, sealed[:n], sealed[n:], nil); err == nil {
			return pt, LegacyKeyID, nil
		}
	}
	switch {
	case keyed && c.keys[id] == nil:
		return nil, 0, fmt.Errorf("%w: key %d (the ring holds %v)", ErrUnknownKey, id, c.KeyIDs())
	case !keyed && !haveLegacy:
		return nil, 0, fmt.Errorf("%w: a value without key id was sealed under key %d (the ring holds %v)", ErrUnknownKey, LegacyKeyID, c.KeyIDs())
	case len(sealed) < headerSize:
		return nil, 0, errors.New("pii: ciphertext too short")
	}
	return nil, 0, errors.New("pii: decrypt: message authentication failed (corrupt or tampered value)")
}

// Hash returns the keyed hash (HMAC-SHA-256) used to look a value up; the
// domain separates kinds of value ("phone", "id").
func (c *Cipher) Hash(domain, value string) []byte {
	m := hmac.New(sha256.New, c.hashKey)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

// MaskPhone renders a phone as 138****1234.
func MaskPhone(phone string) string {
	if len(phone) < 7 {
		return strings.Repeat("*", len(phone))
	}
	return phone[:3] + strings.Repeat("*", len(phone)-7) + phone[len(phone)-4:]
}

// MaskID renders an ID number as 610***********123X: the first 3 and last 4
// characters are kept.
func MaskID(id string) string {
	if len(id) <= 7 {
		return strings.Repeat("*", len(id))
	}
	return id[:3] + strings.Repeat("*", len(id)-7) + id[len(id)-4:]
}

// MaskName renders a name as 张* (two characters) or 张*三 (three or more:
// first and last kept, the middle masked).
func MaskName(name string) string {
	r := []rune(name)
	switch {
	case len(r) == 0:
		return ""
	case len(r) == 1:
		return "*"
	case len(r) == 2:
		return string(r[0]) + "*"
	}
	return string(r[0]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1])
}

// MaskText renders a free text such as an employer as its first two
// characters followed by *** (西安***): enough to tell two units apart,
// never the whole name. Shorter texts are masked entirely.
func MaskText(text string) string {
	r := []rune(text)
	switch {
	case len(r) == 0:
		return ""
	case len(r) <= 3:
		return strings.Repeat("*", len(r))
	}
	return string(r[:2]) + "***"
}
