package postgres

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

func passwordTestKey(pw, salt string, t, m uint32, p uint8) string {
	return base64.RawStdEncoding.EncodeToString(argon2.IDKey([]byte(pw), []byte(salt), t, m, p, 32))
}

func TestPasswordHashAndCheck(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse 42")
	if err != nil {
		t.Fatal(err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(h) {
		t.Fatalf("hash %q is not a PHC argon2id string with the production parameters", h)
	}
	if ok, err := CheckPassword(h, "correct horse 42"); err != nil || !ok {
		t.Fatalf("CheckPassword(right) = %v, %v; want true, nil", ok, err)
	}
	if ok, err := CheckPassword(h, "correct horse 43"); err != nil || ok {
		t.Fatalf("CheckPassword(wrong) = %v, %v; want false, nil", ok, err)
	}
	h2, _ := HashPassword("correct horse 42")
	if h2 == h {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
}

func TestPasswordCheckReadsParameters(t *testing.T) {
	t.Parallel()
	// Hash written with other parameters (m=64 KiB, t=1, p=2): the check
	// must use the ones in the string, not the package defaults.
	const h = "$argon2id$v=19$m=64,t=1,p=2$c29tZXNhbHRzb21lc2FsdA$"
	key := passwordTestKey("pw", "somesaltsomesalt", 1, 64, 2)
	if ok, err := CheckPassword(h+key, "pw"); err != nil || !ok {
		t.Fatalf("CheckPassword with custom parameters = %v, %v; want true, nil", ok, err)
	}
}

func TestPasswordCheckMalformed(t *testing.T) {
	t.Parallel()
	good, _ := HashPassword("abcdefgh12")
	parts := strings.Split(good, "$")
	for name, h := range map[string]string{
		"empty":          "",
		"bcrypt":         "$2a$10$abcdefghijklmnopqrstuu5MyqKxq7b7Jyq8pj6P7bEqJ2Dx0q2mG",
		"argon2i":        strings.Replace(good, "argon2id", "argon2i", 1),
		"version":        strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":    strings.Replace(good, "m=19456", "m=99999999", 1),
		"zero time":      strings.Replace(good, "t=2", "t=0", 1),
		"trailing param": strings.Replace(good, "p=1", "p=1,x=2", 1),
		"bad salt":       strings.Join([]string{"", parts[1], parts[2], parts[3], "!!!", parts[5]}, "$"),
		"short key":      strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
		"extra field":    good + "$x",
	} {
		if ok, err := CheckPassword(h, "abcdefgh12"); err == nil || ok {
			t.Errorf("%s: CheckPassword(%q) = %v, %v; want false and an error", name, h, ok, err)
		}
	}
}
