package healthcode_test

import (
	"testing"
	"time"

	"healthcode"
)

var now = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func TestNormalizeDocument(t *testing.T) {
	t.Parallel()
	cases := []struct {
		t    healthcode.DocType
		in   string
		want string
		code string
	}{
		{healthcode.DocIDCard, "11010519491231002X", "11010519491231002X", ""},
		{healthcode.DocIDCard, " 11010519491231002x ", "11010519491231002X", ""},
		{healthcode.DocIDCard, "110105194912310021", "", healthcode.EINVALID}, // wrong check digit
		{healthcode.DocIDCard, "61011319900101001", "", healthcode.EINVALID},  // 17 characters
		{healthcode.DocIDCard, "6101131990A101001X", "", healthcode.EINVALID},
		{healthcode.DocIDCard, "610113203001010010", "", healthcode.EINVALID}, // born in the future
		{healthcode.DocPassport, "e12345678", "E12345678", ""},
		{healthcode.DocPassport, "E1'--", "", healthcode.EINVALID},
		{healthcode.DocType("X"), "123456", "", healthcode.EINVALID},
	}
	for _, c := range cases {
		got, err := healthcode.NormalizeDocument(c.t, c.in, now)
		if healthcode.ErrorCode(err) != c.code || got != c.want {
			t.Errorf("NormalizeDocument(%s, %q) = %q, %v; want %q, %s", c.t, c.in, got, err, c.want, c.code)
		}
	}
}

// Every 17-digit prefix has exactly one valid check character.
func TestIDCheckCharUnique(t *testing.T) {
	t.Parallel()
	base := "61011319900307123"
	check, ok := healthcode.IDCheckChar(base)
	if !ok {
		t.Fatal("no check char")
	}
	valid := 0
	for _, c := range "0123456789X" {
		if _, err := healthcode.NormalizeDocument(healthcode.DocIDCard, base+string(c), now); err == nil {
			valid++
			if byte(c) != check {
				t.Fatalf("accepted %c, check is %c", c, check)
			}
		}
	}
	if valid != 1 {
		t.Fatalf("%d valid check characters", valid)
	}
}

func FuzzNormalizeDocument(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "610113199003071234", "", "X", "E12345678", "６１０"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, typ := range []healthcode.DocType{healthcode.DocIDCard, healthcode.DocPassport} {
			n, err := healthcode.NormalizeDocument(typ, s, now)
			if err != nil {
				if healthcode.ErrorCode(err) != healthcode.EINVALID {
					t.Fatalf("error code %s", healthcode.ErrorCode(err))
				}
				continue
			}
			// A normalised number normalises to itself.
			again, err := healthcode.NormalizeDocument(typ, n, now)
			if err != nil || again != n {
				t.Fatalf("not idempotent: %q → %q → %q, %v", s, n, again, err)
			}
			if typ == healthcode.DocIDCard {
				if c, _ := healthcode.IDCheckChar(n[:17]); c != n[17] {
					t.Fatalf("accepted %q with a wrong check character", n)
				}
			}
		}
	})
}
