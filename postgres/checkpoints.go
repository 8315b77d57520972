package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/credential"
	"healthcode/pii"
)

// CheckpointService implements healthcode.CheckpointService: institutions,
// venues and inspectors, the response level and the trust list (SPEC §4).
//
// Scoping. Institution administrators and inspectors hold institution.read
// (administrators also institution.manage) at their institution's region,
// like a six-level administrator of that region would; what separates them
// is the institution_members row. So:
//   - a member of an institution sees only that institution, whatever grants
//     it holds;
//   - otherwise a region counts for region-wide views and for suspensions
//     only where the caller's grants give it institution.read (or
//     institution.manage) through the role ADMIN.
//
// Venue regions. A venue must lie inside its institution's region (a county
// or below), not merely inside the institution's city: inspectors are granted
// scan.record at the institution's region and the scan service checks that
// permission at the venue's region, so a venue outside it could never record
// a scan. Institutions with venues in several counties register once per
// county.
type CheckpointService struct{ DB *DB }

var _ healthcode.CheckpointService = (*CheckpointService)(nil)

type queryer interface {
	QueryRow(context.Context, string, ...any) pgx.Row
	Query(context.Context, string, ...any) (pgx.Rows, error)
}

const institutionColumns = `id, name, credit_code, region_code, contact_name, contact_phone_masked, status,
	COALESCE(suspend_reason, ''), COALESCE(review_reason, ''), COALESCE(reviewed_by, ''), created_by, created_at, kind`

func scanInstitution(row pgx.Row) (*healthcode.Institution, error) {
	var i healthcode.Institution
	err := row.Scan(&i.ID, &i.Name, &i.CreditCode, &i.RegionCode, &i.ContactName, &i.ContactPhone, &i.Status,
		&i.SuspendReason, &i.ReviewReason, &i.ReviewedBy, &i.CreatedBy, &i.CreatedAt, &i.Kind)
	return &i, err
}

const venueColumns = "id, institution_id, name, type, region_code, status, created_by, created_at"

func scanVenueRow(row pgx.Row) (*healthcode.Venue, error) {
	var v healthcode.Venue
	err := row.Scan(&v.ID, &v.InstitutionID, &v.Name, &v.Type, &v.RegionCode, &v.Status, &v.CreatedBy, &v.CreatedAt)
	return &v, err
}

// subjectOf is the created_by text of institutions and venues.
func subjectOf(a *healthcode.Actor) string {
	if a == nil {
		return healthcode.SystemActor.Subject()
	}
	return a.Subject()
}

// memberOf returns the institution and member role of a staff account, or
// (0, "") when it is no member.
func memberOf(ctx context.Context, q queryer, staffID int64) (int64, string, error) {
	var inst int64
	var role string
	err := q.QueryRow(ctx, "SELECT institution_id, role FROM institution_members WHERE staff_id = $1", staffID).Scan(&inst, &role)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", nil
	} else if err != nil {
		return 0, "", fmt.Errorf("read membership: %w", err)
	}
	return inst, role, nil
}

func loadInstitution(ctx context.Context, q queryer, id int64, lock bool) (*healthcode.Institution, error) {
	query := "SELECT " + institutionColumns + " FROM institutions WHERE id = $1"
	if lock {
		query += " FOR UPDATE"
	}
	inst, err := scanInstitution(q.QueryRow(ctx, query, id))
	if err != nil {
		return nil, mapError(err, "机构不存在")
	}
	return inst, nil
}

// errNotInstitutionAdmin is returned to callers who are not administrators of
// the institution they act on.
var errNotInstitutionAdmin = &healthcode.Error{Code: healthcode.EFORBIDDEN, Message: "只有本机构的管理员可以执行此操作"}

// requireInstitutionAdmin checks that a is an INSTITUTION_ADMIN member of
// inst and holds perm at its region.
func (s *CheckpointService) requireInstitutionAdmin(ctx context.Context, q queryer, a *healthcode.Actor,
	inst *healthcode.Institution, perm healthcode.Permission, region string) error {
	if a.Kind != healthcode.ActorStaff {
		return errNotInstitutionAdmin
	}
	id, role, err := memberOf(ctx, q, a.ID)
	if err != nil {
		return err
	}
	if id != inst.ID || role != healthcode.MemberInstitutionAdmin {
		return errNotInstitutionAdmin
	}
	return s.DB.authorize(ctx, a, perm, region, refusedWith(errNotInstitutionAdmin))
}

// sixLevelAdmin checks that a administers region as a six-level
// administrator: institution.read and institution.manage there through the
// role ADMIN. The system actor always passes.
func (s *CheckpointService) sixLevelAdmin(ctx context.Context, a *healthcode.Actor, region string) error {
	if a.Kind == healthcode.ActorSystem {
		return nil
	}
	if a.Kind != healthcode.ActorStaff {
		return healthcode.ErrForbidden
	}
	for _, p := range []healthcode.Permission{healthcode.PermInstitutionRead, healthcode.PermInstitutionAdmin} {
		if err := s.DB.authorize(ctx, a, p, region); err != nil {
			return err
		}
		roles, err := s.DB.rolesAt(ctx, a, p, region)
		if err != nil {
			return err
		}
		if !slices.Contains(roles, healthcode.RoleAdmin) {
			return healthcode.ErrForbidden
		}
	}
	return nil
}

// adminRegions returns the regions where a reads institutions through the
// role ADMIN (a fails closed on a region where another role covers it).
func (s *CheckpointService) adminRegions(ctx context.Context, a *healthcode.Actor) ([]string, error) {
	if a.Kind == healthcode.ActorSystem {
		return []string{healthcode.ProvinceCode}, nil
	}
	if a.Kind != healthcode.ActorStaff {
		return nil, nil
	}
	visible, err := s.DB.visible(ctx, a, healthcode.PermInstitutionRead)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range visible {
		roles, err := s.DB.rolesAt(ctx, a, healthcode.PermInstitutionRead, r)
		if err != nil {
			return nil, err
		}
		if slices.Contains(roles, healthcode.RoleAdmin) {
			out = append(out, r)
		}
	}
	return out, nil
}

// scope is what a caller may list: one institution (members) or the
// institutions inside regions (six-level administrators).
type scope struct {
	institution int64
	regions     []string
}

func (sc scope) covers(inst *healthcode.Institution) bool {
	if sc.institution != 0 {
		return inst.ID == sc.institution
	}
	return insideAny(inst.RegionCode, sc.regions)
}

func (s *CheckpointService) scopeOf(ctx context.Context, a *healthcode.Actor) (scope, error) {
	if a.Kind == healthcode.ActorStaff {
		inst, _, err := memberOf(ctx, s.DB.Pool, a.ID)
		if err != nil {
			return scope{}, err
		}
		if inst != 0 {
			return scope{institution: inst}, nil
		}
	}
	regions, err := s.adminRegions(ctx, a)
	if err != nil {
		return scope{}, err
	}
	if len(regions) == 0 {
		return scope{}, healthcode.ErrForbidden
	}
	return scope{regions: regions}, nil
}

// optionalRegion validates a region filter ("" for none).
func optionalRegion(region string) error {
	if region == "" {
		return nil
	}
	return healthcode.ValidRegionCode(region)
}

// RegisterInstitution implements healthcode.CheckpointService. Anonymous
// callers (self-registration: the GraphQL layer rate-limits them per client
// address and per credit code), staff and the system may call it; the audit
// records of a self-registration name the system actor with detail
// selfRegistration. The institution is PENDING unless the caller is the
// system or a six-level administrator of its region, who approves by
// registering.
// Errors: FORBIDDEN (residents, machine clients), INVALID, CONFLICT (the
// credit code held by a PENDING, ACTIVE or SUSPENDED registration — a
// REJECTED one frees it — or the admin username taken).
func (s *CheckpointService) RegisterInstitution(ctx context.Context, in healthcode.NewInstitution) (*healthcode.Registration, error) {
	a := healthcode.ActorFromContext(ctx)
	if a != nil && a.Kind != healthcode.ActorStaff && a.Kind != healthcode.ActorSystem {
		return nil, healthcode.ErrForbidden
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	admin := healthcode.NewStaff{Username: in.AdminUsername, DisplayName: in.AdminDisplayName}
	status := healthcode.StatusPending
	if a != nil && s.sixLevelAdmin(ctx, a, in.RegionCode) == nil {
		status = healthcode.StatusActive
	}
	hash, err := s.DB.hashNewPassword(in.AdminPassword)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	out := &healthcode.Registration{}
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		var path string
		if err := tx.QueryRow(ctx, "SELECT path::text FROM regions WHERE code = $1", in.RegionCode).Scan(&path); errors.Is(err, pgx.ErrNoRows) {
			return healthcode.FieldError("所在地区", "地区代码 %s 不存在", healthcode.Truncate(in.RegionCode, 20))
		} else if err != nil {
			return fmt.Errorf("read region: %w", err)
		}
		inst, err := scanInstitution(tx.QueryRow(ctx, `INSERT INTO institutions (name, credit_code, region_code, region_path,
			contact_name, contact_phone_hash, contact_phone_enc, contact_phone_masked, created_by, created_at, status, kind)
			VALUES ($1, $2, $3, $4::text::ltree, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING `+institutionColumns,
			in.Name, in.CreditCode, in.RegionCode, path, in.ContactName, s.DB.PII.Hash("phone", in.ContactPhone),
			s.DB.PII.Encrypt(in.ContactPhone), pii.MaskPhone(in.ContactPhone), subjectOf(a), tx.Now, status, in.Kind))
		if healthcode.ErrorCode(mapError(err, "")) == healthcode.ECONFLICT {
			return healthcode.Errorf(healthcode.ECONFLICT, "统一社会信用代码 %s 已注册，请由本机构管理员登录", in.CreditCode)
		} else if err != nil {
			return fmt.Errorf("insert institution: %w", err)
		}
		out.Institution = inst
		st, err := s.addMember(ctx, tx, inst, admin, hash, healthcode.RoleInstitutionAdmin, a)
		if err != nil {
			return err
		}
		out.Admin = st
		role := healthcode.Role("")
		if a != nil {
			role = s.DB.roleFor(ctx, a, healthcode.PermInstitutionAdmin, inst.RegionCode)
		}
		return tx.Audit(ctx, healthcode.AuditRecord{
			Role: role, RegionCode: inst.RegionCode,
			Action: "institution.register", Object: "institution:" + strconv.FormatInt(inst.ID, 10),
			Detail: map[string]any{"creditCode": inst.CreditCode, "name": inst.Name, "adminStaffId": st.ID,
				"adminUsername": st.Username, "selfRegistration": a == nil, "status": inst.Status},
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// validNewAccount normalises and checks a new account's username, display
// name and password (healthcode.ValidateNewAccount) and hashes the password.
func (db *DB) validNewAccount(username, displayName, password string) (healthcode.NewStaff, string, error) {
	in, err := healthcode.ValidateNewAccount(username, displayName, password)
	if err != nil {
		return in, "", err
	}
	hash, err := db.hashNewPassword(password)
	if err != nil {
		return in, "", fmt.Errorf("hash password: %w", err)
	}
	return in, hash, nil
}

// addMember creates a staff account homed at the institution's region,
// grants it role there, adds the member row and audits the account and
// grant.
func (s *CheckpointService) addMember(ctx context.Context, tx *Tx, inst *healthcode.Institution, in healthcode.NewStaff,
	hash string, role healthcode.Role, a *healthcode.Actor) (*healthcode.Staff, error) {
	st, err := scanStaff(tx.QueryRow(ctx, `INSERT INTO staff (username, display_name, password_hash, region_code, region_path, created_by, created_at)
		SELECT $1, $2, $3, code, path, $5, $6 FROM regions WHERE code = $4
		RETURNING `+staffColumns, in.Username, in.DisplayName, hash, inst.RegionCode, createdBy(a), tx.Now))
	if healthcode.ErrorCode(mapError(err, "")) == healthcode.ECONFLICT {
		return nil, healthcode.Errorf(healthcode.ECONFLICT, "用户名 %s 已被使用", in.Username)
	} else if err != nil {
		return nil, fmt.Errorf("insert staff: %w", err)
	}
	var grantID int64
	if err := tx.QueryRow(ctx, `INSERT INTO grants (staff_id, role, region_code, granted_by, granted_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, st.ID, string(role), inst.RegionCode, createdBy(a), tx.Now).Scan(&grantID); err != nil {
		return nil, fmt.Errorf("insert grant: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO institution_members (staff_id, institution_id, role, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5)`, st.ID, inst.ID, string(role), subjectOf(a), tx.Now); err != nil {
		return nil, fmt.Errorf("insert member: %w", err)
	}
	tx.MarkGrantsChanged()
	auditRole := healthcode.Role("")
	if a != nil && role == healthcode.RoleInspector {
		auditRole = healthcode.RoleInstitutionAdmin
	} else if a != nil {
		auditRole = s.DB.roleFor(ctx, a, healthcode.PermInstitutionAdmin, inst.RegionCode)
	}
	staffObj := "staff:" + strconv.FormatInt(st.ID, 10)
	if err := tx.Audit(ctx, healthcode.AuditRecord{
		Role: auditRole, RegionCode: inst.RegionCode, Action: "staff.create", Object: staffObj,
		Detail: map[string]any{"username": st.Username, "institutionId": inst.ID},
	}); err != nil {
		return nil, err
	}
	if err := tx.Audit(ctx, healthcode.AuditRecord{
		Role: auditRole, RegionCode: inst.RegionCode, Action: "grant.create", Object: "grant:" + strconv.FormatInt(grantID, 10),
		Detail: map[string]any{"staffId": st.ID, "role": string(role), "institutionId": inst.ID},
	}); err != nil {
		return nil, err
	}
	return st, nil
}

// CreateVenue implements healthcode.CheckpointService: administrators of the
// institution (member role INSTITUTION_ADMIN and institution.manage at the
// venue's region). The venue's region must exist and lie inside the
// institution's region (see CheckpointService).
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (institution), INVALID (name,
// type, region), CONFLICT (institution suspended).
func (s *CheckpointService) CreateVenue(ctx context.Context, institutionID int64, in healthcode.NewVenue) (*healthcode.Venue, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if in.Name, err = healthcode.ValidText("场所名称", in.Name, 1, 100); err != nil {
		return nil, err
	}
	if !healthcode.ValidVenueType(in.Type) {
		return nil, healthcode.FieldError("场所类型", "未知的场所类型 %q", healthcode.Truncate(in.Type, 30))
	}
	if err := healthcode.ValidRegionCode(in.RegionCode); err != nil {
		return nil, err
	}
	var out *healthcode.Venue
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		inst, err := loadInstitution(ctx, tx, institutionID, true)
		if err != nil {
			return err
		}
		// Check membership before revealing anything about the input's region.
		if err := s.requireInstitutionAdmin(ctx, tx, a, inst, healthcode.PermInstitutionAdmin, inst.RegionCode); err != nil {
			return err
		}
		if !healthcode.RegionInside(in.RegionCode, inst.RegionCode) {
			return healthcode.FieldError("场所所在地区", "须位于本机构所在地区（%s）范围内", inst.RegionCode)
		}
		if err := s.requireInstitutionAdmin(ctx, tx, a, inst, healthcode.PermInstitutionAdmin, in.RegionCode); err != nil {
			return err
		}
		if err := requireActive(inst, "新增查验场所"); err != nil {
			return err
		}
		v, err := scanVenueRow(tx.QueryRow(ctx, `INSERT INTO venues (institution_id, name, type, region_code, region_path, created_by, created_at)
			SELECT $1, $2, $3, code, path, $5, $6 FROM regions WHERE code = $4 RETURNING `+venueColumns,
			inst.ID, in.Name, in.Type, in.RegionCode, subjectOf(a), tx.Now))
		if errors.Is(err, pgx.ErrNoRows) {
			return healthcode.FieldError("场所所在地区", "地区代码 %s 不存在", in.RegionCode)
		} else if err != nil {
			return fmt.Errorf("insert venue: %w", err)
		}
		out = v
		tx.MarkIndicatorDays(tx.Now) // checkpoint types
		return tx.Audit(ctx, healthcode.AuditRecord{
			Role: healthcode.RoleInstitutionAdmin, RegionCode: v.RegionCode,
			Action: "venue.create", Object: "venue:" + strconv.FormatInt(v.ID, 10),
			Detail: map[string]any{"institutionId": inst.ID, "name": v.Name, "type": v.Type},
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CreateInspector implements healthcode.CheckpointService: administrators of
// the institution (member role INSTITUTION_ADMIN and inspector.manage at its
// region). The account is homed at the institution's region and granted
// INSPECTOR there.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, INVALID (username, name,
// password), CONFLICT (username taken, institution suspended).
func (s *CheckpointService) CreateInspector(ctx context.Context, institutionID int64, username, displayName, password string) (*healthcode.Staff, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	// Authorize before the (slow) password hash.
	inst, err := loadInstitution(ctx, s.DB.Pool, institutionID, false)
	if err != nil {
		return nil, err
	}
	if err := s.requireInstitutionAdmin(ctx, s.DB.Pool, a, inst, healthcode.PermInspectorManage, inst.RegionCode); err != nil {
		return nil, err
	}
	in, hash, err := s.DB.validNewAccount(username, displayName, password)
	if err != nil {
		return nil, err
	}
	var out *healthcode.Staff
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		inst, err := loadInstitution(ctx, tx, institutionID, true)
		if err != nil {
			return err
		}
		if err := s.requireInstitutionAdmin(ctx, tx, a, inst, healthcode.PermInspectorManage, inst.RegionCode); err != nil {
			return err
		}
		if err := requireActive(inst, "新增防疫员"); err != nil {
			return err
		}
		out, err = s.addMember(ctx, tx, inst, in, hash, healthcode.RoleInspector, a)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RemoveInspector implements healthcode.CheckpointService: administrators of
// the institution. It deletes the inspector's grants and member row and
// disables the account (the row stays for the audit trail); the next request
// of the account is refused.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (institution, or no inspector
// of it).
func (s *CheckpointService) RemoveInspector(ctx context.Context, institutionID, staffID int64) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	return s.DB.InTx(ctx, func(tx *Tx) error {
		inst, err := loadInstitution(ctx, tx, institutionID, true)
		if err != nil {
			return err
		}
		if err := s.requireInstitutionAdmin(ctx, tx, a, inst, healthcode.PermInspectorManage, inst.RegionCode); err != nil {
			return err
		}
		var username string
		err = tx.QueryRow(ctx, `SELECT s.username FROM institution_members m JOIN staff s ON s.id = m.staff_id
			WHERE m.staff_id = $1 AND m.institution_id = $2 AND m.role = 'INSPECTOR' FOR UPDATE`, staffID, inst.ID).Scan(&username)
		if err != nil {
			return mapError(err, "本机构没有该防疫员")
		}
		tag, err := tx.Exec(ctx, "DELETE FROM grants WHERE staff_id = $1", staffID)
		if err != nil {
			return fmt.Errorf("delete grants: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM institution_members WHERE staff_id = $1", staffID); err != nil {
			return fmt.Errorf("delete member: %w", err)
		}
		if _, err := tx.Exec(ctx, "UPDATE staff SET disabled = true WHERE id = $1", staffID); err != nil {
			return fmt.Errorf("disable staff: %w", err)
		}
		tx.MarkGrantsChanged()
		return tx.Audit(ctx, healthcode.AuditRecord{
			Role: healthcode.RoleInstitutionAdmin, RegionCode: inst.RegionCode,
			Action: "inspector.remove", Object: "staff:" + strconv.FormatInt(staffID, 10),
			Detail: map[string]any{"institutionId": inst.ID, "username": username, "grantsRevoked": tag.RowsAffected()},
		})
	})
}

// requireActive refuses what only an active institution may do, saying why
// (pending review, rejected or suspended).
func requireActive(inst *healthcode.Institution, what string) error {
	switch inst.Status {
	case healthcode.StatusActive:
		return nil
	case healthcode.StatusPending:
		return healthcode.Errorf(healthcode.ECONFLICT, "机构尚待所在区县管理员审核，审核通过前不能%s", what)
	case healthcode.StatusRejected:
		return healthcode.Errorf(healthcode.ECONFLICT, "机构注册未通过审核，不能%s", what)
	}
	return healthcode.Errorf(healthcode.ECONFLICT, "机构已被停用，不能%s", what)
}

// ApproveInstitution implements healthcode.CheckpointService: six-level
// administrators of a region containing the institution (see
// sixLevelAdmin). Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT
// (not pending).
func (s *CheckpointService) ApproveInstitution(ctx context.Context, id int64) (*healthcode.Institution, error) {
	return s.review(ctx, id, healthcode.StatusActive, "")
}

// RejectInstitution implements healthcode.CheckpointService: the callers of
// ApproveInstitution. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, INVALID
// (reason), CONFLICT (not pending).
func (s *CheckpointService) RejectInstitution(ctx context.Context, id int64, reason string) (*healthcode.Institution, error) {
	reason, err := healthcode.ValidText("驳回原因", reason, 1, 200)
	if err != nil {
		return nil, err
	}
	return s.review(ctx, id, healthcode.StatusRejected, reason)
}

// review decides a pending institution: status ACTIVE (approved) or
// REJECTED with reason, audited as institution.approve or .reject.
func (s *CheckpointService) review(ctx context.Context, id int64, status, reason string) (*healthcode.Institution, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	var out *healthcode.Institution
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		inst, err := loadInstitution(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := s.sixLevelAdmin(ctx, a, inst.RegionCode); err != nil {
			return err
		}
		if inst.Status != healthcode.StatusPending {
			return healthcode.Errorf(healthcode.ECONFLICT, "机构不在待审核状态")
		}
		out, err = scanInstitution(tx.QueryRow(ctx, `UPDATE institutions SET status = $2, review_reason = NULLIF($3, ''),
			reviewed_by = $4, reviewed_at = $5 WHERE id = $1 RETURNING `+institutionColumns, id, status, reason, subjectOf(a), tx.Now))
		if err != nil {
			return fmt.Errorf("review institution: %w", err)
		}
		action := "institution.approve"
		if status == healthcode.StatusRejected {
			action = "institution.reject"
		}
		tx.MarkIndicatorDays(tx.Now) // checkpoint types
		return tx.Audit(ctx, healthcode.AuditRecord{
			Role: s.DB.roleFor(ctx, a, healthcode.PermInstitutionAdmin, inst.RegionCode), RegionCode: inst.RegionCode,
			Action: action, Object: "institution:" + strconv.FormatInt(id, 10), Reason: reason,
			Detail: map[string]any{"creditCode": inst.CreditCode, "name": inst.Name},
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SuspendInstitution implements healthcode.CheckpointService: six-level
// administrators (ADMIN with institution.read and institution.manage) of a
// region containing the institution; others get NOT_FOUND when they cannot
// see it. Its venues stay as they are but record no scans while it is
// suspended.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, INVALID (reason), CONFLICT.
func (s *CheckpointService) SuspendInstitution(ctx context.Context, id int64, reason string) (*healthcode.Institution, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if reason, err = healthcode.ValidText("停用原因", reason, 1, 200); err != nil {
		return nil, err
	}
	var out *healthcode.Institution
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		inst, err := loadInstitution(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := s.sixLevelAdmin(ctx, a, inst.RegionCode); err != nil {
			return err
		}
		if inst.Status == healthcode.StatusSuspended {
			return healthcode.Errorf(healthcode.ECONFLICT, "机构已处于停用状态")
		}
		out, err = scanInstitution(tx.QueryRow(ctx, `UPDATE institutions SET status = 'SUSPENDED', suspend_reason = $2
			WHERE id = $1 RETURNING `+institutionColumns, id, reason))
		if err != nil {
			return fmt.Errorf("suspend institution: %w", err)
		}
		tx.MarkIndicatorDays(tx.Now) // checkpoint types
		return tx.Audit(ctx, healthcode.AuditRecord{
			Role: s.DB.roleFor(ctx, a, healthcode.PermInstitutionAdmin, inst.RegionCode), RegionCode: inst.RegionCode,
			Action: "institution.suspend", Object: "institution:" + strconv.FormatInt(id, 10), Reason: reason,
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SuspendVenue implements healthcode.CheckpointService: six-level
// administrators of a region containing the venue.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, INVALID (reason), CONFLICT.
func (s *CheckpointService) SuspendVenue(ctx context.Context, id int64, reason string) (*healthcode.Venue, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if reason, err = healthcode.ValidText("停用原因", reason, 1, 200); err != nil {
		return nil, err
	}
	var out *healthcode.Venue
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		v, err := scanVenueRow(tx.QueryRow(ctx, "SELECT "+venueColumns+" FROM venues WHERE id = $1 FOR UPDATE", id))
		if err != nil {
			return mapError(err, "查验场所不存在")
		}
		if err := s.sixLevelAdmin(ctx, a, v.RegionCode); err != nil {
			return err
		}
		if v.Status == healthcode.StatusSuspended {
			return healthcode.Errorf(healthcode.ECONFLICT, "查验场所已处于停用状态")
		}
		out, err = scanVenueRow(tx.QueryRow(ctx, "UPDATE venues SET status = 'SUSPENDED' WHERE id = $1 RETURNING "+venueColumns, id))
		if err != nil {
			return fmt.Errorf("suspend venue: %w", err)
		}
		tx.MarkIndicatorDays(tx.Now) // checkpoint types
		return tx.Audit(ctx, healthcode.AuditRecord{
			Role: s.DB.roleFor(ctx, a, healthcode.PermInstitutionAdmin, v.RegionCode), RegionCode: v.RegionCode,
			Action: "venue.suspend", Object: "venue:" + strconv.FormatInt(id, 10), Reason: reason,
			Detail: map[string]any{"institutionId": v.InstitutionID},
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Institutions implements healthcode.CheckpointService: members see their own
// institution, six-level administrators those inside their ADMIN grants,
// narrowed to region when it is not "". Ordered by id.
// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID (region).
func (s *CheckpointService) Institutions(ctx context.Context, region string) ([]*healthcode.Institution, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := optionalRegion(region); err != nil {
		return nil, err
	}
	sc, err := s.scopeOf(ctx, a)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Pool.Query(ctx, "SELECT "+institutionColumns+` FROM institutions
		WHERE ($1::bigint = 0 OR id = $1::bigint) AND ($1::bigint <> 0 OR in_regions(region_path, $2))
		AND ($3 = '' OR region_path <@ $4::text::ltree) ORDER BY id`,
		sc.institution, ltreePaths(sc.regions), region, ltreePath(region))
	if err != nil {
		return nil, fmt.Errorf("list institutions: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.Institution, error) { return scanInstitution(r) })
	if err != nil {
		return nil, fmt.Errorf("list institutions: %w", err)
	}
	return list, nil
}

// Venues implements healthcode.CheckpointService with the scoping of
// Institutions; institutionID (when not 0) must be visible to the caller.
// Ordered by id.
// Errors: UNAUTHENTICATED, FORBIDDEN (also for an institution outside the
// caller's scope), NOT_FOUND (institution), INVALID (region).
func (s *CheckpointService) Venues(ctx context.Context, institutionID int64, region string) ([]*healthcode.Venue, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := optionalRegion(region); err != nil {
		return nil, err
	}
	sc, err := s.scopeOf(ctx, a)
	if err != nil {
		return nil, err
	}
	if institutionID != 0 {
		inst, err := loadInstitution(ctx, s.DB.Pool, institutionID, false)
		if err != nil {
			return nil, err
		}
		if !sc.covers(inst) {
			return nil, healthcode.ErrForbidden
		}
	}
	rows, err := s.DB.Pool.Query(ctx, "SELECT v."+strings.ReplaceAll(venueColumns, ", ", ", v.")+` FROM venues v
		JOIN institutions i ON i.id = v.institution_id
		WHERE ($1::bigint = 0 OR v.institution_id = $1::bigint) AND ($2::bigint = 0 OR v.institution_id = $2::bigint)
		AND ($2 <> 0 OR in_regions(i.region_path, $3))
		AND ($4 = '' OR v.region_path <@ $5::text::ltree) ORDER BY v.id`,
		institutionID, sc.institution, ltreePaths(sc.regions), region, ltreePath(region))
	if err != nil {
		return nil, fmt.Errorf("list venues: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.Venue, error) { return scanVenueRow(r) })
	if err != nil {
		return nil, fmt.Errorf("list venues: %w", err)
	}
	return list, nil
}

// Inspectors implements healthcode.CheckpointService: administrators of the
// institution and six-level administrators above it. Ordered by id.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (institution).
func (s *CheckpointService) Inspectors(ctx context.Context, institutionID int64) ([]*healthcode.Staff, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	inst, err := loadInstitution(ctx, s.DB.Pool, institutionID, false)
	if err != nil {
		return nil, err
	}
	if err := s.requireInstitutionAdmin(ctx, s.DB.Pool, a, inst, healthcode.PermInspectorManage, inst.RegionCode); err != nil {
		if healthcode.ErrorCode(err) != healthcode.EFORBIDDEN {
			return nil, err
		}
		if a.Kind == healthcode.ActorStaff {
			if member, _, err := memberOf(ctx, s.DB.Pool, a.ID); err != nil {
				return nil, err
			} else if member != 0 {
				return nil, errNotInstitutionAdmin
			}
		}
		if err := s.sixLevelAdmin(ctx, a, inst.RegionCode); err != nil {
			return nil, err
		}
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT s.id, s.username, s.display_name, s.region_code, s.created_at, COALESCE(s.created_by, 0), s.disabled, s.phone_masked, s.person_hash IS NOT NULL FROM staff s
		JOIN institution_members m ON m.staff_id = s.id
		WHERE m.institution_id = $1 AND m.role = 'INSPECTOR' ORDER BY s.id`, inst.ID)
	if err != nil {
		return nil, fmt.Errorf("list inspectors: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.Staff, error) { return scanStaff(r) })
	if err != nil {
		return nil, fmt.Errorf("list inspectors: %w", err)
	}
	return list, nil
}

// InstitutionOf implements healthcode.CheckpointService: the account itself,
// the system actor (the scan service), or six-level administrators above the
// institution; anyone else gets NOT_FOUND.
// Errors: UNAUTHENTICATED, NOT_FOUND.
func (s *CheckpointService) InstitutionOf(ctx context.Context, staffID int64) (*healthcode.Institution, string, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, "", err
	}
	notFound := healthcode.Errorf(healthcode.ENOTFOUND, "该账号不属于任何机构")
	id, role, err := memberOf(ctx, s.DB.Pool, staffID)
	if err != nil {
		return nil, "", err
	}
	if id == 0 {
		return nil, "", notFound
	}
	inst, err := loadInstitution(ctx, s.DB.Pool, id, false)
	if err != nil {
		return nil, "", err
	}
	self := a.Kind == healthcode.ActorStaff && a.ID == staffID
	if !self && a.Kind != healthcode.ActorSystem {
		if err := s.sixLevelAdmin(ctx, a, inst.RegionCode); err != nil {
			if healthcode.ErrorCode(err) == healthcode.EFORBIDDEN {
				return nil, "", notFound
			}
			return nil, "", err
		}
	}
	return inst, role, nil
}

// SetResponseLevel implements healthcode.CheckpointService: callers with
// response_level.write at the province (61). The level is in force from now.
// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID (level, reason).
func (s *CheckpointService) SetResponseLevel(ctx context.Context, level int, reason string) (*healthcode.ResponseLevel, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if level < 0 || level > 3 {
		return nil, healthcode.FieldError("响应级别", "应为 0（未启动）至 3 之间的整数")
	}
	if reason, err = healthcode.ValidText("调整原因", reason, 1, 200); err != nil {
		return nil, err
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermResponseLevel, healthcode.ProvinceCode); err != nil {
		return nil, err
	}
	out := &healthcode.ResponseLevel{Level: level, Reason: reason, Actor: a.Subject()}
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		out.From, out.CreatedAt = tx.Now, tx.Now
		if err := tx.QueryRow(ctx, `INSERT INTO response_levels (level, from_at, reason, actor, created_at)
			VALUES ($1, $2, $3, $4, $2) RETURNING id`, level, tx.Now, reason, out.Actor).Scan(&out.ID); err != nil {
			return fmt.Errorf("insert response level: %w", err)
		}
		tx.MarkIndicatorDays(tx.Now) // the checkpoint types required
		return tx.Audit(ctx, healthcode.AuditRecord{
			Role: s.DB.roleFor(ctx, a, healthcode.PermResponseLevel, healthcode.ProvinceCode), RegionCode: healthcode.ProvinceCode,
			Action: "response_level.set", Object: "response_level:" + strconv.FormatInt(out.ID, 10), Reason: reason,
			Detail: map[string]any{"level": level},
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ResponseLevels implements healthcode.CheckpointService: any logged-in
// caller. Newest first.
// Errors: UNAUTHENTICATED.
func (s *CheckpointService) ResponseLevels(ctx context.Context) ([]*healthcode.ResponseLevel, error) {
	if _, err := actor(ctx); err != nil {
		return nil, err
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT id, level, from_at, reason, actor, created_at FROM response_levels
		ORDER BY from_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list response levels: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.ResponseLevel, error) {
		var l healthcode.ResponseLevel
		err := r.Scan(&l.ID, &l.Level, &l.From, &l.Reason, &l.Actor, &l.CreatedAt)
		return &l, err
	})
	if err != nil {
		return nil, fmt.Errorf("list response levels: %w", err)
	}
	return list, nil
}

// CurrentResponseLevel implements healthcode.CheckpointService: any caller,
// anonymous included (the level is public). It is the latest level whose
// from_at has come, or healthcode.DefaultResponseLevel.
// Errors: INTERNAL only.
func (s *CheckpointService) CurrentResponseLevel(ctx context.Context) (int, error) {
	var level int
	err := s.DB.Pool.QueryRow(ctx, `SELECT level FROM response_levels WHERE from_at <= $1
		ORDER BY from_at DESC, id DESC LIMIT 1`, s.DB.now()).Scan(&level)
	if errors.Is(err, pgx.ErrNoRows) {
		return healthcode.DefaultResponseLevel, nil
	} else if err != nil {
		return 0, fmt.Errorf("read response level: %w", err)
	}
	return level, nil
}

// RegisteredTypes implements healthcode.CheckpointService: callers with
// institution.read through ADMIN, or indicator.read (supervisors), at region.
// For each type required at the current level it counts the ACTIVE venues of
// ACTIVE institutions inside region; a type with 0 is not yet covered.
// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID (region).
func (s *CheckpointService) RegisteredTypes(ctx context.Context, region string) ([]*healthcode.CheckpointTypeCoverage, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := healthcode.ValidRegionCode(region); err != nil {
		return nil, err
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermIndicatorRead, region,
		otherwise(func() error { return s.sixLevelAdmin(ctx, a, region) })); err != nil {
		return nil, err
	}
	level, err := s.CurrentResponseLevel(ctx)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	rows, err := s.DB.Pool.Query(ctx, `SELECT v.type, count(*) FROM venues v JOIN institutions i ON i.id = v.institution_id
		WHERE v.status = 'ACTIVE' AND i.status = 'ACTIVE' AND v.region_path <@ $1::text::ltree GROUP BY v.type`, ltreePath(region))
	if err != nil {
		return nil, fmt.Errorf("count venues: %w", err)
	}
	var t string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&t, &n}, func() error { counts[t] = n; return nil }); err != nil {
		return nil, fmt.Errorf("count venues: %w", err)
	}
	required := healthcode.RequiredCheckpointTypes(level)
	out := make([]*healthcode.CheckpointTypeCoverage, 0, len(required))
	for _, t := range required {
		out = append(out, &healthcode.CheckpointTypeCoverage{Type: t, Label: healthcode.VenueTypeLabel(t), ActiveVenues: counts[t]})
	}
	return out, nil
}

// AddTrustedIssuer implements healthcode.CheckpointService: province
// administrators (trust.manage at 61). The input is checked by
// credential.ValidateNewIssuer: the document is parsed strictly and only
// in.IssuerID's entry and keys are kept; a window given in the input
// replaces the document's.
// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID (issuer id, our own id,
// document, issuer missing from it or without keys, empty window, name),
// CONFLICT (an entry of the issuer is not retired).
func (s *CheckpointService) AddTrustedIssuer(ctx context.Context, in healthcode.NewTrustedIssuer) (*healthcode.TrustedIssuerEntry, error) {
	a, err := s.DB.caller(ctx, healthcode.PermTrustManage, healthcode.ProvinceCode)
	if err != nil {
		return nil, err
	}
	tk, err := credential.ValidateNewIssuer(&in)
	if err != nil {
		return nil, err
	}
	keys, err := json.Marshal(tk.Keys)
	if err != nil {
		return nil, fmt.Errorf("encode keys: %w", err)
	}
	out := &healthcode.TrustedIssuerEntry{IssuerID: in.IssuerID, Name: in.Name, ValidFrom: utcPtr(in.ValidFrom),
		ValidUntil: utcPtr(in.ValidUntil), CreatedBy: a.Subject()}
	for _, k := range tk.Keys {
		out.KeyIDs = append(out.KeyIDs, k.Kid)
	}
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		// Serialise additions of one issuer so two entries cannot both be active.
		if err := xactLock(ctx, tx, "trusted_issuer:"+in.IssuerID); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM trusted_issuers WHERE issuer_id = $1 AND retired_at IS NULL)",
			in.IssuerID).Scan(&exists); err != nil {
			return fmt.Errorf("check issuer: %w", err)
		}
		if exists {
			return healthcode.Errorf(healthcode.ECONFLICT, "签发方 %s 已在互信名单中，请先停用原记录", in.IssuerID)
		}
		out.CreatedAt = tx.Now
		if err := tx.QueryRow(ctx, `INSERT INTO trusted_issuers (issuer_id, name, keys, valid_from, valid_until, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, out.IssuerID, out.Name, string(keys), out.ValidFrom, out.ValidUntil,
			out.CreatedBy, tx.Now).Scan(&out.ID); err != nil {
			return fmt.Errorf("insert trusted issuer: %w", err)
		}
		return tx.Audit(ctx, healthcode.AuditRecord{
			Role: s.DB.roleFor(ctx, a, healthcode.PermTrustManage, healthcode.ProvinceCode), RegionCode: healthcode.ProvinceCode,
			Action: "trust.add", Object: "trusted_issuer:" + strconv.FormatInt(out.ID, 10),
			Detail: map[string]any{"issuer": out.IssuerID, "keys": out.KeyIDs, "validFrom": out.ValidFrom, "validUntil": out.ValidUntil},
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

// RetireTrustedIssuer implements healthcode.CheckpointService: province
// administrators. The issuer's tokens are refused once the key set is
// rebuilt without it.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT (already retired).
func (s *CheckpointService) RetireTrustedIssuer(ctx context.Context, id int64) error {
	a, err := s.DB.caller(ctx, healthcode.PermTrustManage, healthcode.ProvinceCode)
	if err != nil {
		return err
	}
	return s.DB.InTx(ctx, func(tx *Tx) error {
		var issuer string
		var retired *time.Time
		err := tx.QueryRow(ctx, "SELECT issuer_id, retired_at FROM trusted_issuers WHERE id = $1 FOR UPDATE", id).Scan(&issuer, &retired)
		if err != nil {
			return mapError(err, "互信记录不存在")
		}
		if retired != nil {
			return healthcode.Errorf(healthcode.ECONFLICT, "该互信记录已停用")
		}
		if _, err := tx.Exec(ctx, "UPDATE trusted_issuers SET retired_at = $2 WHERE id = $1", id, tx.Now); err != nil {
			return fmt.Errorf("retire trusted issuer: %w", err)
		}
		return tx.Audit(ctx, healthcode.AuditRecord{
			Role: s.DB.roleFor(ctx, a, healthcode.PermTrustManage, healthcode.ProvinceCode), RegionCode: healthcode.ProvinceCode,
			Action: "trust.retire", Object: "trusted_issuer:" + strconv.FormatInt(id, 10),
			Detail: map[string]any{"issuer": issuer},
		})
	})
}

// TrustList implements healthcode.CheckpointService: any staff (and the
// system). The entries not retired, ordered by issuer id.
// Errors: UNAUTHENTICATED, FORBIDDEN (residents, machine clients).
func (s *CheckpointService) TrustList(ctx context.Context) ([]*healthcode.TrustedIssuerEntry, error) {
	if _, err := staffOnly(ctx); err != nil {
		return nil, err
	}
	entries, _, err := s.activeTrusted(ctx, false)
	return entries, err
}

// TrustedIssuers returns the trusted issuers in force with their keys and
// validity: entries not retired whose ValidUntil has not passed (entries
// whose ValidFrom is still ahead are included; BuildKeySet and Verify enforce
// the window). The credential service merges them into the published key
// set. It does no authorization: internal callers only (the key set is
// public anyway); never expose it to a transport as is.
// Errors: INTERNAL only.
func (s *CheckpointService) TrustedIssuers(ctx context.Context) ([]credential.TrustedIssuerKeys, error) {
	_, keys, err := s.activeTrusted(ctx, true)
	return keys, err
}

func (s *CheckpointService) activeTrusted(ctx context.Context, inForce bool) ([]*healthcode.TrustedIssuerEntry, []credential.TrustedIssuerKeys, error) {
	rows, err := s.DB.Pool.Query(ctx, `SELECT id, issuer_id, name, keys, valid_from, valid_until, created_by, created_at
		FROM trusted_issuers WHERE retired_at IS NULL AND (NOT $1 OR valid_until IS NULL OR valid_until > $2)
		ORDER BY issuer_id, id`, inForce, s.DB.now())
	if err != nil {
		return nil, nil, fmt.Errorf("list trusted issuers: %w", err)
	}
	defer rows.Close()
	var entries []*healthcode.TrustedIssuerEntry
	var keys []credential.TrustedIssuerKeys
	for rows.Next() {
		var e healthcode.TrustedIssuerEntry
		var raw []byte
		if err := rows.Scan(&e.ID, &e.IssuerID, &e.Name, &raw, &e.ValidFrom, &e.ValidUntil, &e.CreatedBy, &e.CreatedAt); err != nil {
			return nil, nil, fmt.Errorf("list trusted issuers: %w", err)
		}
		var jwks []credential.JWK
		if err := json.Unmarshal(raw, &jwks); err != nil {
			return nil, nil, fmt.Errorf("decode keys of trusted issuer %d: %w", e.ID, err)
		}
		for _, k := range jwks {
			e.KeyIDs = append(e.KeyIDs, k.Kid)
		}
		entries = append(entries, &e)
		keys = append(keys, credential.TrustedIssuerKeys{
			Issuer: credential.TrustedIssuer{ID: e.IssuerID, Name: e.Name, ValidFrom: e.ValidFrom, ValidUntil: e.ValidUntil},
			Keys:   jwks,
		})
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("list trusted issuers: %w", err)
	}
	return entries, keys, nil
}
