package pii

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The personal-data keys in the key directory (docs/security.md "Keys"):
//
//   - data.key: key 1, the key of every installation before rotation;
//   - data.<N>.key: key N (N ≥ 2), 32 random bytes in base64 each;
//   - data.current: the id of the key new values are sealed under; without
//     it, the highest id present;
//   - lookup.key: the lookup-hash (HMAC) key itself, 32 bytes in base64;
//     without it, the key derived from data.key (so data.key may leave the
//     directory only once lookup.key pins the lookup key: AddDataKey writes
//     it).
const (
	LegacyKeyFile  = "data.key"
	CurrentKeyFile = "data.current"
	LookupKeyFile  = "lookup.key"
)

var keyFileName = regexp.MustCompile(`^data\.([1-9][0-9]{0,8})\.key$`)

// LoadKeyDir reads the personal-data key ring of dir. Errors name the file
// at fault; a directory without any data key is an error wrapping
// os.ErrNotExist.
func LoadKeyDir(dir string) (*Cipher, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read key directory: %w", err)
	}
	keys := map[uint32][]byte{}
	for _, e := range entries {
		var id uint64
		switch m := keyFileName.FindStringSubmatch(e.Name()); {
		case e.Name() == LegacyKeyFile:
			id = LegacyKeyID
		case m != nil:
			id, _ = strconv.ParseUint(m[1], 10, 32)
		default:
			continue
		}
		if _, dup := keys[uint32(id)]; dup {
			return nil, fmt.Errorf("key %d is given twice (%s and data.key)", id, e.Name())
		}
		k, err := readKeyFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		keys[uint32(id)] = k
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no personal-data key (%s or data.<N>.key) in %s: %w", LegacyKeyFile, dir, os.ErrNotExist)
	}
	ids := make([]uint32, 0, len(keys))
	for id := range keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	current := ids[len(ids)-1]
	if b, err := os.ReadFile(filepath.Join(dir, CurrentKeyFile)); err == nil {
		n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%s: not a key id: %q", CurrentKeyFile, strings.TrimSpace(string(b)))
		}
		if _, ok := keys[uint32(n)]; !ok {
			return nil, fmt.Errorf("%s names key %d, which is not in the directory (keys %v)", CurrentKeyFile, n, ids)
		}
		current = uint32(n)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	hashKey, err := readKeyFile(filepath.Join(dir, LookupKeyFile))
	switch {
	case errors.Is(err, os.ErrNotExist) && keys[LegacyKeyID] != nil:
		if hashKey, err = LookupKeyFromMaster(keys[LegacyKeyID]); err != nil {
			return nil, err
		}
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("%s is missing and data.key (key 1, from which the lookup key is derived) is gone: restore %s from the backup of the key directory", LookupKeyFile, LookupKeyFile)
	case err != nil:
		return nil, err
	}
	return NewKeyring(keys, current, hashKey)
}

func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	if len(k) != KeySize {
		return nil, fmt.Errorf("%s: a key must be %d bytes, got %d", path, KeySize, len(k))
	}
	return k, nil
}

func writeKeyFile(path string, k []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// AddDataKey is the first step of a rotation: it creates key N+1 (N the
// highest id present) as a read key, pins the current key in data.current
// (so new values stay under the old key until every replica can read the
// new one) and the lookup key in lookup.key. It returns the new id.
func AddDataKey(dir string) (uint32, error) {
	c, err := LoadKeyDir(dir)
	if err != nil {
		return 0, err
	}
	ids := c.KeyIDs()
	next := ids[len(ids)-1] + 1
	if _, err := os.Stat(filepath.Join(dir, LookupKeyFile)); errors.Is(err, os.ErrNotExist) {
		if err := writeKeyFile(filepath.Join(dir, LookupKeyFile), c.hashKey); err != nil {
			return 0, fmt.Errorf("pin the lookup key: %w", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, CurrentKeyFile)); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(filepath.Join(dir, CurrentKeyFile), []byte(strconv.FormatUint(uint64(c.current), 10)+"\n"), 0o600); err != nil {
			return 0, err
		}
	}
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return 0, err
	}
	if err := writeKeyFile(filepath.Join(dir, fmt.Sprintf("data.%d.key", next)), k); err != nil {
		return 0, err
	}
	return next, nil
}

// UseDataKey makes key id the current key of dir (the second step of a
// rotation, once every replica holds it).
func UseDataKey(dir string, id uint32) error {
	c, err := LoadKeyDir(dir)
	if err != nil {
		return err
	}
	if _, ok := c.keys[id]; !ok {
		return fmt.Errorf("key %d is not in %s (keys %v)", id, dir, c.KeyIDs())
	}
	return os.WriteFile(filepath.Join(dir, CurrentKeyFile), []byte(strconv.FormatUint(uint64(id), 10)+"\n"), 0o600)
}
