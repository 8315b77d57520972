package postgres_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// eachSourceLine calls f with every line (numbered from 1) of the package's
// non-test Go files.
func eachSourceLine(t *testing.T, f func(file string, n int, line string)) {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			f(file, i+1, line)
		}
	}
}

// One way to do each thing (CONTRIBUTING.md): the package's code filters a
// list by jurisdiction with in_regions (migration 000026_region_filter), not
// by writing the ltree test again, and names SQLSTATE codes by their
// pgerrcode constants, not by string literals.
func TestOneWayToDoEachThing(t *testing.T) {
	t.Parallel()
	rules := []struct {
		pattern *regexp.Regexp
		use     string
	}{
		{regexp.MustCompile(`<@\s*\$\d+::text\[\]::ltree\[\]`), "in_regions(path, $n)"},
		{regexp.MustCompile(`(Code\s*[!=]=\s*|case\s+)"[0-9A-Z]{5}"`), "the pgerrcode constant"},
	}
	eachSourceLine(t, func(file string, n int, line string) {
		for _, r := range rules {
			if r.pattern.MatchString(line) {
				t.Errorf("%s:%d: use %s: %s", file, n, r.use, strings.TrimSpace(line))
			}
		}
	})
}
