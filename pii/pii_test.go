package pii_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"healthcode/pii"
)

func TestMasks(t *testing.T) {
	t.Parallel()
	cases := []struct{ got, want string }{
		{pii.MaskPhone("13812341234"), "138****1234"},
		{pii.MaskID("61011319900307123X"), "610***********123X"},
		{pii.MaskName("张三"), "张*"},
		{pii.MaskName("张三丰"), "张*丰"},
		{pii.MaskName("欧阳娜娜"), "欧**娜"},
		{pii.MaskName("李"), "*"},
		{pii.MaskPhone("123"), "***"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// Encryption round-trips, never repeats a ciphertext, and the lookup hash is
// deterministic per domain and separates domains.
func TestCipherProperties(t *testing.T) {
	t.Parallel()
	c, err := pii.NewCipher(bytes.Repeat([]byte{1}, pii.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pii.NewCipher([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
	rapid.Check(t, func(rt *rapid.T) {
		v := rapid.String().Draw(rt, "value")
		a, b := c.Encrypt(v), c.Encrypt(v)
		if bytes.Equal(a, b) {
			rt.Fatalf("two encryptions of %q are equal", v)
		}
		if bytes.Contains(a, []byte(v)) && len(v) > 3 {
			rt.Fatalf("ciphertext contains the plaintext")
		}
		got, err := c.Decrypt(a)
		if err != nil || got != v {
			rt.Fatalf("decrypt = %q, %v; want %q", got, err, v)
		}
		if !bytes.Equal(c.Hash("phone", v), c.Hash("phone", v)) || bytes.Equal(c.Hash("phone", v), c.Hash("doc", v)) {
			rt.Fatalf("hash not deterministic or domains not separated")
		}
		a[len(a)-1] ^= 1
		if _, err := c.Decrypt(a); err == nil {
			rt.Fatalf("tampered ciphertext decrypted")
		}
	})
}

// Values sealed before ciphertexts carried a key id (by the code of the
// time, with key 1) still open, and the lookup hash is unchanged.
const (
	legacySealed = "8d11513302c904ac7ac7c39979887fbbfdf5e9bcf3fa24a685770c15e0a722d3bc3783430f7a40141e4963e397c0bbe3526845de55501d2a"
	legacyHash   = "0b91355fdfa58bd870bdfecd6b2d685117cc950d348128dded9ad9f4aa767b74"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, pii.KeySize) }

func ring(t interface {
	Helper()
	Fatal(...any)
}, current uint32, ids ...uint32) *pii.Cipher {
	t.Helper()
	keys := map[uint32][]byte{}
	for _, id := range ids {
		keys[id] = key(byte(id))
	}
	hk, err := pii.LookupKeyFromMaster(key(1))
	if err != nil {
		t.Fatal(err)
	}
	c, err := pii.NewKeyring(keys, current, hk)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLegacyValuesOpen(t *testing.T) {
	t.Parallel()
	sealed, _ := hex.DecodeString(legacySealed)
	for _, c := range []*pii.Cipher{ring(t, 1, 1), ring(t, 2, 1, 2)} {
		got, err := c.Decrypt(sealed)
		if err != nil || got != "张三丰 61011319900307123X" {
			t.Fatalf("legacy value = %q, %v", got, err)
		}
		if id, err := c.KeyID(sealed); err != nil || id != pii.LegacyKeyID {
			t.Fatalf("KeyID(legacy) = %d, %v", id, err)
		}
		if h := hex.EncodeToString(c.Hash("phone", "13812341234")); h != legacyHash {
			t.Fatalf("lookup hash changed: %s", h)
		}
	}
	// Without key 1 a legacy value gives the clear error.
	if _, err := ring(t, 2, 2).Decrypt(sealed); !errors.Is(err, pii.ErrUnknownKey) || !strings.Contains(err.Error(), "key 1") {
		t.Fatalf("legacy value without key 1: %v", err)
	}
}

// A value sealed under a key the ring no longer holds names the key.
func TestUnknownKeyIsClear(t *testing.T) {
	t.Parallel()
	v := ring(t, 3, 3).Encrypt("13812341234")
	_, err := ring(t, 2, 1, 2).Decrypt(v)
	if !errors.Is(err, pii.ErrUnknownKey) || !strings.Contains(err.Error(), "key 3") {
		t.Fatalf("err = %v; want ErrUnknownKey naming key 3", err)
	}
	// A changed key id in the header does not open under the other key.
	w := ring(t, 2, 1, 2).Encrypt("x")
	w[5] = 1
	if _, err := ring(t, 2, 1, 2).Decrypt(w); err == nil || errors.Is(err, pii.ErrUnknownKey) {
		t.Fatalf("value relabelled to key 1 = %v; want an authentication failure", err)
	}
	if _, err := pii.NewKeyring(map[uint32][]byte{1: key(1)}, 2, key(9)); err == nil {
		t.Fatal("a current key outside the ring accepted")
	}
}

// Seal and open round-trip across key versions: whatever ring sealed a
// value, a later ring holding that key opens it and reports the key; a ring
// without it fails with ErrUnknownKey; the lookup hash does not depend on
// the encryption keys.
func TestSealOpenAcrossVersions(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(rt *rapid.T) {
		v := rapid.String().Draw(rt, "value")
		sealer := rapid.Uint32Range(1, 6).Draw(rt, "sealer")
		opener := rapid.SliceOfDistinct(rapid.Uint32Range(1, 6), func(x uint32) uint32 { return x }).
			Filter(func(s []uint32) bool { return len(s) > 0 }).Draw(rt, "opener")
		s := ring(rt, sealer, sealer)
		sealed := s.Encrypt(v)
		if id, ok := func() (uint32, bool) { id, _, ok := pii.ParseHeader(sealed); return id, ok }(); !ok || id != sealer {
			rt.Fatalf("header = %d, %v; want key %d", id, ok, sealer)
		}
		o := ring(rt, opener[0], opener...)
		got, err := o.Decrypt(sealed)
		if slices.Contains(opener, sealer) {
			if err != nil || got != v {
				rt.Fatalf("ring %v opening key %d: %q, %v", opener, sealer, got, err)
			}
			if id, err := o.KeyID(sealed); err != nil || id != sealer {
				rt.Fatalf("KeyID = %d, %v", id, err)
			}
			// Re-sealing under the opener's current key round-trips too (rekey).
			if again, err := o.Decrypt(o.Encrypt(got)); err != nil || again != v {
				rt.Fatalf("re-sealed: %q, %v", again, err)
			}
		} else if !errors.Is(err, pii.ErrUnknownKey) {
			rt.Fatalf("ring %v opening key %d: %v; want ErrUnknownKey", opener, sealer, err)
		}
		if !bytes.Equal(s.Hash("phone", v), o.Hash("phone", v)) {
			rt.Fatalf("lookup hash depends on the encryption keys")
		}
	})
}

// FuzzDecrypt: no input makes the parser panic, and whatever opens
// re-seals and opens to the same text.
func FuzzDecrypt(f *testing.F) {
	c := ring(f, 2, 1, 2)
	legacy, _ := hex.DecodeString(legacySealed)
	f.Add(legacy)
	f.Add(c.Encrypt("张三"))
	f.Add([]byte{0xE5, 0x4B, 0, 0, 0, 2})
	f.Add([]byte{0xE5, 0x4B, 0, 0, 0, 0, 1, 2, 3})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, err := c.Decrypt(b)
		id, err2 := c.KeyID(b)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("Decrypt and KeyID disagree: %v / %v", err, err2)
		}
		if err != nil {
			return
		}
		if id != 1 && id != 2 {
			t.Fatalf("opened under key %d, outside the ring", id)
		}
		if again, err := c.Decrypt(c.Encrypt(pt)); err != nil || again != pt {
			t.Fatalf("round trip of %q: %q, %v", pt, again, err)
		}
	})
}
