// Package pii protects personal data (SPEC §8): AES-GCM encryption at rest,
// keyed hashes for lookups, and the display masks for ID numbers, phones and
// names.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
)

// Cipher encrypts and hashes personal data with keys derived from one master
// key. It is safe for concurrent use.
type Cipher struct {
	aead    cipher.AEAD
	hashKey []byte
}

// KeySize is the size of the master key in bytes.
const KeySize = 32

// NewCipher derives the encryption and hashing keys from a 32-byte master key.
func NewCipher(master []byte) (*Cipher, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("pii: master key must be %d bytes, got %d", KeySize, len(master))
	}
	encKey, err := hkdf.Key(sha256.New, master, nil, "healthcode pii encryption v1", 32)
	if err != nil {
		return nil, err
	}
	hashKey, err := hkdf.Key(sha256.New, master, nil, "healthcode pii lookup hash v1", 32)
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
	return &Cipher{aead: aead, hashKey: hashKey}, nil
}

// Encrypt seals plaintext with a random nonce; the nonce is prepended.
func (c *Cipher) Encrypt(plaintext string) []byte {
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(plaintext)+c.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return c.aead.Seal(nonce, nonce, []byte(plaintext), nil)
}

// Decrypt opens a value sealed by Encrypt.
func (c *Cipher) Decrypt(sealed []byte) (string, error) {
	n := c.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("pii: ciphertext too short")
	}
	pt, err := c.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return "", fmt.Errorf("pii: decrypt: %w", err)
	}
	return string(pt), nil
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
