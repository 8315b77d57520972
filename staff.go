package healthcode

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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
	// PhoneVerified: the account proved its phone by SMS code
	// (VerifyPhone), binding it to one natural person; only such accounts
	// ask for or decide the steps of the two-person rule.
	PhoneVerified bool
}

// Grant gives a staff account a role inside a region.
type Grant struct {
	ID         int64
	StaffID    int64
	Role       Role
	RegionCode string
	GrantedBy  int64
	GrantedAt  time.Time
	// Pending: a role that can approve (ApprovingRoles) waits for an
	// administrator of the parent region (StaffService.ApproveGrant) and
	// gives nothing until then.
	Pending bool
}

// ApprovingRoles are the roles that decide another person's request (a
// colour change, a red designation, a rule set, a grant, a deadline
// extension): granting one takes effect only when an administrator of the
// parent region, another natural person, approves it (docs/security-colour.md).
var ApprovingRoles = []Role{RoleAdmin, RoleHealthOfficer, RoleRuleAdmin}

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

// GrantFilter pages through grants.
type GrantFilter struct {
	First int
	After int64 // keyset cursor: the last grant id of the previous page
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
	// or one homed inside their staff.read regions): all of their own, and of
	// another account only the grants at regions inside the caller's
	// staff.read regions. Errors: UNAUTHENTICATED, NOT_FOUND.
	GrantsOf(ctx context.Context, staffID int64) ([]*Grant, error)
	// GrantsOfStaff is GrantsOf for several accounts at once, in the order
	// of staffIDs, with an error per account (the GraphQL loader of
	// Staff.grants calls it for a page). Errors: those of GrantsOf.
	GrantsOfStaff(ctx context.Context, staffIDs []int64) ([][]*Grant, []error)
	// GrantRole grants role at region to an account. The caller needs
	// grant.manage at region, must see the account, and may not grant to
	// themselves. Errors: UNAUTHENTICATED, FORBIDDEN, INVALID (role, region),
	// NOT_FOUND (account), CONFLICT (already granted).
	// A role of ApprovingRoles granted by a member of staff is Pending.
	GrantRole(ctx context.Context, staffID int64, role Role, regionCode string) (*Grant, error)
	// ApproveGrant puts a pending grant in force. The caller needs
	// grant.manage at the parent region of the grant's region (another
	// province administrator for a grant at the province), a verified
	// phone, and must be neither the natural person who granted it nor the
	// grantee. Errors: UNAUTHENTICATED, NOT_FOUND (unknown, or outside the
	// caller's grants), FORBIDDEN, CONFLICT (not pending).
	ApproveGrant(ctx context.Context, grantID int64) (*Grant, error)
	// PendingGrants returns the pending grants the caller may approve
	// (ApproveGrant), ordered by id, and whether more follow: those at a
	// region whose parent region (the province for a grant at the
	// province) lies inside the caller's grant.manage regions, neither
	// given by nor to the caller. Errors: UNAUTHENTICATED, FORBIDDEN (no
	// grant.manage).
	PendingGrants(ctx context.Context, filter GrantFilter) ([]*Grant, bool, error)
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
	// VerifyPhone binds the calling staff account to the natural person who
	// holds phone: code is the SMS code AuthService.RequestSMSCode sent to
	// it. A phone backs at most one staff account, so that two accounts of
	// one person never meet the two-person rule (docs/security-colour.md).
	// Staff only. Errors: UNAUTHENTICATED, FORBIDDEN (not staff), INVALID
	// (phone), UNAUTHENTICATED (wrong or expired code), RATE_LIMITED
	// (locked), CONFLICT (the phone backs another account).
	VerifyPhone(ctx context.Context, phone, code string) (*Staff, error)
}

// MaxPasswordRunes bounds a password's length.
const MaxPasswordRunes = 128

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{2,31}$`)

// ValidatePassword checks the password policy for new passwords: at least 10
// characters (at most MaxPasswordRunes), with at least one letter and one
// digit. The Validate methods of new accounts and the seed call it before
// the password is hashed; any caller may. Errors: INVALID.
func ValidatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n > MaxPasswordRunes {
		return Errorf(EINVALID, "密码不能超过 %d 位", MaxPasswordRunes)
	}
	var letter, digit bool
	for _, r := range pw {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case unicode.IsLetter(r):
			letter = true
		}
	}
	if n < 10 || !letter || !digit {
		return Errorf(EINVALID, "密码至少 10 位，且须包含字母和数字")
	}
	return nil
}

// Validate normalises the new account in place (the username lower-cased,
// names and phone trimmed) and checks the username, the display name, the
// region code, the password policy and the optional phone, in that order.
// StaffService.CreateStaff calls it; any caller may.
// Errors: INVALID with the problem.
func (in *NewStaff) Validate() error {
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	if !usernameRE.MatchString(in.Username) {
		return Errorf(EINVALID, "用户名须为 3–32 位小写字母、数字、点、下划线或连字符，且以字母或数字开头")
	}
	if in.DisplayName == "" || utf8.RuneCountInString(in.DisplayName) > 50 {
		return Errorf(EINVALID, "姓名不能为空，且不超过 50 个字")
	}
	if err := ValidRegionCode(in.RegionCode); err != nil {
		return err
	}
	if err := ValidatePassword(in.Password); err != nil {
		return err
	}
	if in.Phone = strings.TrimSpace(in.Phone); in.Phone != "" && !ValidPhone(in.Phone) {
		return Errorf(EINVALID, "手机号码应为 11 位手机号码")
	}
	return nil
}

// ValidateNewAccount normalises and checks the account of an institution's
// administrator or inspector: the username, the display name and the
// password policy, in that order (the region is the institution's). The
// checkpoint service and NewInstitution.Validate call it; any caller may.
// Errors: INVALID naming the field.
func ValidateNewAccount(username, displayName, password string) (NewStaff, error) {
	in := NewStaff{
		Username:    strings.ToLower(strings.TrimSpace(username)),
		DisplayName: strings.TrimSpace(displayName),
		Password:    password,
	}
	if !usernameRE.MatchString(in.Username) {
		return in, FieldError("用户名", "须为 3–32 位小写字母、数字、点、下划线或连字符，且以字母或数字开头")
	}
	if n := utf8.RuneCountInString(in.DisplayName); n == 0 || n > 50 {
		return in, FieldError("姓名", "不能为空，且不超过 50 个字")
	}
	if err := ValidatePassword(password); err != nil {
		return in, err
	}
	return in, nil
}
