package healthcode

import (
	"context"
	"time"
)

// Staff is an account of a member of staff: administrators, health officers,
// hotline operators, handlers, supervisors, inspectors and the rest.
type Staff struct {
	ID          int64
	Username    string
	DisplayName string
	// RegionCode is the account's home region: the region whose
	// administrators manage the account.
	RegionCode string
	CreatedAt  time.Time
	CreatedBy  int64 // 0 for accounts created by the system (seed)
	Disabled   bool
	// Phone is masked (138****1234); it receives notices such as fever
	// reports. Empty when none was given.
	Phone string
}

// Grant gives a staff account a role inside a region.
type Grant struct {
	ID         int64
	StaffID    int64
	Role       Role
	RegionCode string
	GrantedBy  int64
	GrantedAt  time.Time
}

// NewStaff is the input of CreateStaff.
type NewStaff struct {
	Username    string
	DisplayName string
	Password    string
	RegionCode  string
	Phone       string // optional: for SMS notices
}

// StaffFilter selects staff accounts to list.
type StaffFilter struct {
	First int
	After int64 // keyset cursor: the last id of the previous page
}

// StaffService manages staff accounts and their grants.
type StaffService interface {
	// CreateStaff creates an account homed in input.RegionCode. Callers need
	// staff.create in that region. Errors: UNAUTHENTICATED, FORBIDDEN,
	// INVALID (username, password policy, region), CONFLICT (username taken).
	CreateStaff(ctx context.Context, input NewStaff) (*Staff, error)
	// FindStaff returns one account homed inside the caller's staff.read
	// regions, or the caller's own. Errors: UNAUTHENTICATED, NOT_FOUND.
	FindStaff(ctx context.Context, id int64) (*Staff, error)
	// ListStaff returns accounts homed inside the caller's staff.read regions,
	// ordered by id, and whether more follow. Errors: UNAUTHENTICATED, FORBIDDEN.
	ListStaff(ctx context.Context, filter StaffFilter) ([]*Staff, bool, error)
	// GrantsOf returns the grants of an account the caller may see (their own
	// or one homed inside their staff.read regions). Errors: UNAUTHENTICATED,
	// NOT_FOUND.
	GrantsOf(ctx context.Context, staffID int64) ([]*Grant, error)
	// GrantRole grants role at region to an account. The caller needs
	// grant.manage at region, must see the account, and may not grant to
	// themselves. Errors: UNAUTHENTICATED, FORBIDDEN, INVALID (role, region),
	// NOT_FOUND (account), CONFLICT (already granted).
	GrantRole(ctx context.Context, staffID int64, role Role, regionCode string) (*Grant, error)
	// RevokeRole removes a grant. The caller needs grant.manage at the grant's
	// region. The revocation takes effect on the very next request.
	// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
	RevokeRole(ctx context.Context, grantID int64) error
	// Attributions describes the actors named by subjects (staff:12,
	// resident:7, apikey:3, system), one result or error per subject in the
	// order given (the batch form for dataloaders). It labels objects the
	// caller may already read — facts, colour changes, ticket steps,
	// reports — so it checks only that the caller is staff: a staff
	// member's name, roles and place of work are shown to colleagues who
	// judge their work, never to residents. An unknown subject is described
	// by the subject itself. Errors: UNAUTHENTICATED, FORBIDDEN (not staff).
	Attributions(ctx context.Context, subjects []string) ([]*Attribution, []error)
}
