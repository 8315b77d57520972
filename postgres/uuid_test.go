package postgres

import (
	"regexp"
	"testing"
)

// isUUID accepts exactly what the UUID pattern accepts.
func FuzzIsUUID(f *testing.F) {
	re := regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	for _, s := range []string{"6f1c0b9e-2d4a-4c1e-9f3b-8a7d6e5c4b3a", "6F1C0B9E-2D4A-4C1E-9F3B-8A7D6E5C4B3A", "", "x",
		"6f1c0b9e-2d4a-4c1e-9f3b-8a7d6e5c4b3", "6f1c0b9e-2d4a-4c1e-9f3b-8a7d6e5c4b3g", "6f1c0b9e2d4a-4c1e-9f3b-8a7d6e5c4b3a0",
		"6f1c0b9e-2d4a-4c1e-9f3b-8a7d6e5c4b3a\n", "６f1c0b9e-2d4a-4c1e-9f3b-8a7d6e5c4b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isUUID(s), re.MatchString(s); got != want {
			t.Fatalf("isUUID(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}
