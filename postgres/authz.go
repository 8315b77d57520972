package postgres

import (
	"context"

	"healthcode"
)

// Authorization below the transport: every service method asks here, and
// only here, whether its caller may do what it asks (docs/roles.md). The
// Authorizer (rbac.Enforcer) is called by the helpers of this file alone; a
// test holds the rest of the package to that.

// actor returns the caller or UNAUTHENTICATED.
func actor(ctx context.Context) (*healthcode.Actor, error) {
	a := healthcode.ActorFromContext(ctx)
	if a == nil {
		return nil, healthcode.ErrUnauthenticated
	}
	return a, nil
}

// caller returns the caller of ctx when they hold perm at region: the check
// of a method that has nothing to validate before it (a rule set or the
// trust list, which are province-wide). Errors: UNAUTHENTICATED, FORBIDDEN
// (or what refusal says), INTERNAL.
func (db *DB) caller(ctx context.Context, perm healthcode.Permission, region string, refusal ...refusal) (*healthcode.Actor, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := db.authorize(ctx, a, perm, region, refusal...); err != nil {
		return nil, err
	}
	return a, nil
}

// refusal turns the Authorizer's FORBIDDEN into the answer a method gives
// when a lacks the permission.
type refusal func(ctx context.Context, db *DB, a *healthcode.Actor, perm healthcode.Permission, region string) error

// authorize checks that a may do perm at region. The Authorizer's refusal
// is FORBIDDEN, unless refusal (at most one) answers otherwise: hidden
// (NOT_FOUND), refusedWith (a method's own error) or seenWith (FORBIDDEN or
// NOT_FOUND by what a can see). Other errors (UNAUTHENTICATED, INTERNAL)
// pass through.
func (db *DB) authorize(ctx context.Context, a *healthcode.Actor, perm healthcode.Permission, region string, refusal ...refusal) error {
	err := db.Authz.Authorize(ctx, a, perm, region)
	if len(refusal) == 0 || healthcode.ErrorCode(err) != healthcode.EFORBIDDEN {
		return err
	}
	return refusal[0](ctx, db, a, perm, region)
}

// otherwise answers what check answers: a second way to the same right.
func otherwise(check func() error) refusal {
	return func(context.Context, *DB, *healthcode.Actor, healthcode.Permission, string) error { return check() }
}

// visible returns the minimal set of regions inside which a holds perm
// (Authorizer.VisibleRegions). Errors: UNAUTHENTICATED, INTERNAL.
func (db *DB) visible(ctx context.Context, a *healthcode.Actor, perm healthcode.Permission) ([]string, error) {
	return db.Authz.VisibleRegions(ctx, a, perm)
}

// rolesAt returns the roles through which a holds perm at region
// (Authorizer.RolesAt). Errors: UNAUTHENTICATED, INTERNAL.
func (db *DB) rolesAt(ctx context.Context, a *healthcode.Actor, perm healthcode.Permission, region string) ([]healthcode.Role, error) {
	return db.Authz.RolesAt(ctx, a, perm, region)
}

// may reports whether a may do perm at region, for a choice rather than a
// refusal (an error of the Authorizer counts as no).
func (db *DB) may(ctx context.Context, a *healthcode.Actor, perm healthcode.Permission, region string) bool {
	return db.Authz.Authorize(ctx, a, perm, region) == nil
}

// hidden answers NOT_FOUND with notFound: the object lies outside the
// caller's jurisdiction and is treated like an unknown id.
func hidden(notFound string) refusal {
	return func(context.Context, *DB, *healthcode.Actor, healthcode.Permission, string) error {
		return healthcode.Errorf(healthcode.ENOTFOUND, "%s", notFound)
	}
}

// refusedWith answers err.
func refusedWith(err error) refusal {
	return func(context.Context, *DB, *healthcode.Actor, healthcode.Permission, string) error { return err }
}

// seenWith answers FORBIDDEN (denied) when the caller holds one of see at
// the object's region: it can see the object, so saying that the object does
// not exist would hide nothing and mislead. Otherwise the object is outside
// the caller's jurisdiction and answers NOT_FOUND with notFound, like an
// unknown id, so that ids cannot be probed.
func seenWith(notFound string, see ...healthcode.Permission) refusal {
	return func(ctx context.Context, db *DB, a *healthcode.Actor, perm healthcode.Permission, region string) error {
		for _, p := range see {
			if p == perm {
				continue
			}
			switch seeErr := db.Authz.Authorize(ctx, a, p, region); healthcode.ErrorCode(seeErr) {
			case "":
				return denied(perm)
			case healthcode.EFORBIDDEN:
			default:
				return seeErr
			}
		}
		return healthcode.Errorf(healthcode.ENOTFOUND, "%s", notFound)
	}
}

// deniedMessages say, in the words a staff member reads, what the caller may
// not do to an object it can see (docs/roles.md: FORBIDDEN and NOT_FOUND).
var deniedMessages = map[healthcode.Permission]string{
	healthcode.PermPersonDeclare:    "无权为该人员代为申报或打印纸质健康码",
	healthcode.PermFactWrite:        "无权录入或撤销该人员的事实记录",
	healthcode.PermDesignate:        "无权对该人员人工赋码",
	healthcode.PermDesignateApprove: "无权审核该人员的人工赋码",
	healthcode.PermColourApprove:    "无权审核该人员的赋码变更申请",
	healthcode.PermPassCardReview:   "无权审核该健康通行卡申请",
	healthcode.PermFeverHandle:      "无权处理该发热报告",
}

// denied is the FORBIDDEN answer for perm on an object the caller can see.
func denied(perm healthcode.Permission) error {
	if msg, ok := deniedMessages[perm]; ok {
		return healthcode.Errorf(healthcode.EFORBIDDEN, "%s", msg)
	}
	return healthcode.Errorf(healthcode.EFORBIDDEN, "无权对该对象执行此操作")
}

// scope returns the region codes a list query of a may cover under perm: the
// regions where a holds perm, or only region when one is asked for and a
// holds perm there. Errors: INVALID (region code), FORBIDDEN (region outside
// a's grants, or no region at all).
func (db *DB) scope(ctx context.Context, a *healthcode.Actor, perm healthcode.Permission, region string) ([]string, error) {
	if region != "" {
		if err := healthcode.ValidRegionCode(region); err != nil {
			return nil, err
		}
		if err := db.authorize(ctx, a, perm, region); err != nil {
			return nil, err
		}
		return []string{region}, nil
	}
	visible, err := db.visible(ctx, a, perm)
	if err != nil {
		return nil, err
	}
	if len(visible) == 0 {
		return nil, healthcode.ErrForbidden
	}
	return visible, nil
}

// roleFor returns the role through which a holds perm at region, for the
// audit record ("" when none; RESIDENT for residents, the key's role for
// machine clients).
func (db *DB) roleFor(ctx context.Context, a *healthcode.Actor, perm healthcode.Permission, region string) healthcode.Role {
	switch a.Kind {
	case healthcode.ActorResident:
		return healthcode.RoleResident
	case healthcode.ActorMachine:
		// An API key has one role, whatever the permission checked.
		return a.MachineRole()
	}
	roles, err := db.rolesAt(ctx, a, perm, region)
	if err != nil || len(roles) == 0 {
		return ""
	}
	return roles[0]
}
