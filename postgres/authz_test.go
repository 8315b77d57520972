package postgres_test

import (
	"strings"
	"testing"
)

// Every authorization goes through the helpers of authz.go (authorize,
// caller, may, scope, visible, rolesAt): no other file of the package asks
// the Authorizer itself, so its refusals (FORBIDDEN, NOT_FOUND) are decided
// in one place.
func TestAuthorizationInOnePlace(t *testing.T) {
	t.Parallel()
	eachSourceLine(t, func(file string, n int, line string) {
		if file != "authz.go" && strings.Contains(line, ".Authz") {
			t.Errorf("%s:%d asks the Authorizer directly; use the helpers of authz.go: %s", file, n, strings.TrimSpace(line))
		}
	})
}
