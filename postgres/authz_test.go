package postgres_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every authorization goes through the helpers of authz.go (authorize,
// caller, may, scope, visible, rolesAt): no other file of the package asks
// the Authorizer itself, so its refusals (FORBIDDEN, NOT_FOUND) are decided
// in one place.
func TestAuthorizationInOnePlace(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f == "authz.go" || strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, ".Authz") {
				t.Errorf("%s:%d asks the Authorizer directly; use the helpers of authz.go: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}
