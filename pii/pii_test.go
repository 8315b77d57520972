package pii_test

import (
	"bytes"
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
