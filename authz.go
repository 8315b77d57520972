package healthcode

import "context"

// Authorizer answers jurisdiction questions for services. It is implemented
// by package rbac over casbin and the grants stored in PostgreSQL.
type Authorizer interface {
	// Authorize returns nil if the actor holds perm at regionCode, that is, a
	// grant of a role with perm at regionCode or one of its ancestors.
	// Errors: UNAUTHENTICATED (nil actor), FORBIDDEN.
	Authorize(ctx context.Context, actor *Actor, perm Permission, regionCode string) error
	// VisibleRegions returns the minimal set of regions inside which the actor
	// holds perm (no region in the result is inside another). Services filter
	// lists in SQL with it. An empty result means nothing is visible.
	VisibleRegions(ctx context.Context, actor *Actor, perm Permission) ([]string, error)
	// RolesAt returns the actor's roles that grant perm at regionCode, for
	// audit records. Errors: none beyond those of Authorize.
	RolesAt(ctx context.Context, actor *Actor, perm Permission, regionCode string) ([]Role, error)
}
