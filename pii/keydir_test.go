package pii_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"healthcode/pii"
)

// The steps of a rotation on a key directory: add key 2 as a read key (the
// current key and the lookup key pinned), make it current, remove data.key:
// the lookup hash never changes, and a value of key 1 then fails clearly.
func TestKeyDirRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := pii.LoadKeyDir(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty directory: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data.key"), []byte(base64.StdEncoding.EncodeToString(key(1))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c1, err := pii.LoadKeyDir(dir)
	if err != nil || c1.Current() != 1 {
		t.Fatalf("data.key alone: %v", err)
	}
	old := c1.Encrypt("13812341234")
	hash := c1.Hash("phone", "13812341234")

	id, err := pii.AddDataKey(dir)
	if err != nil || id != 2 {
		t.Fatalf("AddDataKey = %d, %v", id, err)
	}
	c, err := pii.LoadKeyDir(dir)
	if err != nil || c.Current() != 1 || len(c.KeyIDs()) != 2 {
		t.Fatalf("after add: current %d ring %v, %v; want key 1 still current", c.Current(), c.KeyIDs(), err)
	}
	if err := pii.UseDataKey(dir, 3); err == nil {
		t.Fatal("UseDataKey accepted a missing key")
	}
	if err := pii.UseDataKey(dir, 2); err != nil {
		t.Fatal(err)
	}
	c2, err := pii.LoadKeyDir(dir)
	if err != nil || c2.Current() != 2 {
		t.Fatalf("after use: %v", err)
	}
	if v, err := c2.Decrypt(old); err != nil || v != "13812341234" {
		t.Fatalf("key 1 value under ring {1,2}: %q, %v", v, err)
	}
	fresh := c2.Encrypt("x")
	if id, _, ok := pii.ParseHeader(fresh); !ok || id != 2 {
		t.Fatalf("new value under key %d", id)
	}
	if err := os.Remove(filepath.Join(dir, "data.key")); err != nil {
		t.Fatal(err)
	}
	c3, err := pii.LoadKeyDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c3.Hash("phone", "13812341234"), hash) {
		t.Fatal("the lookup hash changed when data.key left")
	}
	if _, err := c3.Decrypt(old); !errors.Is(err, pii.ErrUnknownKey) {
		t.Fatalf("key 1 value without key 1: %v", err)
	}
	if v, err := c3.Decrypt(fresh); err != nil || v != "x" {
		t.Fatalf("key 2 value: %q, %v", v, err)
	}
	if err := os.Remove(filepath.Join(dir, pii.LookupKeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := pii.LoadKeyDir(dir); err == nil || !strings.Contains(err.Error(), "lookup.key") {
		t.Fatalf("without lookup.key and data.key: %v", err)
	}
}
