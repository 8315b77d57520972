package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/pii"
)

// StaffService implements healthcode.StaffService.
type StaffService struct{ DB *DB }

var _ healthcode.StaffService = (*StaffService)(nil)

const staffColumns = "id, username, display_name, region_code, created_at, COALESCE(created_by, 0), disabled, phone_masked, person_hash IS NOT NULL"

func scanStaff(row pgx.Row) (*healthcode.Staff, error) {
	var s healthcode.Staff
	err := row.Scan(&s.ID, &s.Username, &s.DisplayName, &s.RegionCode, &s.CreatedAt, &s.CreatedBy, &s.Disabled, &s.Phone, &s.PhoneVerified)
	return &s, err
}

// CreateStaff implements healthcode.StaffService.
func (s *StaffService) CreateStaff(ctx context.Context, in healthcode.NewStaff) (*healthcode.Staff, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermStaffCreate, in.RegionCode); err != nil {
		return nil, err
	}
	var phoneHash, phoneEnc []byte
	if in.Phone != "" {
		phoneHash, phoneEnc = s.DB.PII.Hash("phone", in.Phone), s.DB.PII.Encrypt(in.Phone)
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	var out *healthcode.Staff
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		st, err := scanStaff(tx.QueryRow(ctx, `INSERT INTO staff (username, display_name, password_hash, region_code, region_path,
				created_by, created_at, phone_hash, phone_enc, phone_masked)
			SELECT $1, $2, $3, code, path, $5, $6, $7, $8, $9 FROM regions WHERE code = $4
			RETURNING `+staffColumns, in.Username, in.DisplayName, hash, in.RegionCode, createdBy(a), tx.Now,
			phoneHash, phoneEnc, pii.MaskPhone(in.Phone)))
		if errors.Is(err, pgx.ErrNoRows) {
			return healthcode.Errorf(healthcode.ENOTFOUND, "地区不存在")
		} else if healthcode.ErrorCode(mapError(err, "")) == healthcode.ECONFLICT {
			return healthcode.Errorf(healthcode.ECONFLICT, "用户名 %s 已被使用", in.Username)
		} else if err != nil {
			return fmt.Errorf("insert staff: %w", err)
		}
		out = st
		return tx.Audit(ctx, healthcode.AuditRecord{
			Role: s.DB.roleFor(ctx, a, healthcode.PermStaffCreate, in.RegionCode), RegionCode: in.RegionCode,
			Action: "staff.create", Object: "staff:" + strconv.FormatInt(st.ID, 10),
			Detail: map[string]any{"username": st.Username},
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// visibleStaff returns the staff row when the caller may see it: their own
// account, or one homed inside their staff.read regions.
func (s *StaffService) visibleStaff(ctx context.Context, q pgx.Tx, a *healthcode.Actor, id int64, lock bool) (*healthcode.Staff, error) {
	query := "SELECT " + staffColumns + " FROM staff WHERE id = $1"
	if lock {
		query += " FOR UPDATE"
	}
	var row pgx.Row
	if q != nil {
		row = q.QueryRow(ctx, query, id)
	} else {
		row = s.DB.Pool.QueryRow(ctx, query, id)
	}
	st, err := scanStaff(row)
	if err != nil {
		return nil, mapError(err, "账号不存在")
	}
	if err := s.seeStaff(ctx, a, id, st); err != nil {
		return nil, err
	}
	return st, nil
}

// seeStaff checks that a may see account id (st, nil when there is no such
// account): their own, or one homed inside their staff.read regions.
// Errors: NOT_FOUND otherwise.
func (s *StaffService) seeStaff(ctx context.Context, a *healthcode.Actor, id int64, st *healthcode.Staff) error {
	switch {
	case st == nil:
		return healthcode.Errorf(healthcode.ENOTFOUND, "账号不存在")
	case a.Kind == healthcode.ActorStaff && a.ID == id:
		return nil
	}
	return s.DB.authorize(ctx, a, healthcode.PermStaffRead, st.RegionCode, hidden("账号不存在"))
}

// FindStaff implements healthcode.StaffService.
func (s *StaffService) FindStaff(ctx context.Context, id int64) (*healthcode.Staff, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	return s.visibleStaff(ctx, nil, a, id, false)
}

// ListStaff implements healthcode.StaffService.
func (s *StaffService) ListStaff(ctx context.Context, f healthcode.StaffFilter) ([]*healthcode.Staff, bool, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, false, err
	}
	visible, err := s.DB.scope(ctx, a, healthcode.PermStaffRead, "")
	if err != nil {
		return nil, false, err
	}
	rows, err := s.DB.Pool.Query(ctx, "SELECT "+staffColumns+` FROM staff
		WHERE in_regions(region_path, $1) AND id > $2 ORDER BY id LIMIT $3`,
		ltreePaths(visible), f.After, f.First+1)
	if err != nil {
		return nil, false, fmt.Errorf("list staff: %w", err)
	}
	return collectPage(rows, f.First, "staff", func(r pgx.CollectableRow) (*healthcode.Staff, error) { return scanStaff(r) })
}

const grantColumns = "id, staff_id, role, region_code, COALESCE(granted_by, 0), granted_at, pending"

func scanGrant(row pgx.Row) (*healthcode.Grant, error) {
	var g healthcode.Grant
	var role string
	err := row.Scan(&g.ID, &g.StaffID, &role, &g.RegionCode, &g.GrantedBy, &g.GrantedAt, &g.Pending)
	g.Role = healthcode.Role(role)
	return &g, err
}

// GrantsOf implements healthcode.StaffService.
func (s *StaffService) GrantsOf(ctx context.Context, staffID int64) ([]*healthcode.Grant, error) {
	grants, errs := s.GrantsOfStaff(ctx, []int64{staffID})
	return grants[0], errs[0]
}

// GrantsOfStaff implements healthcode.StaffService: two statements for any
// number of accounts.
func (s *StaffService) GrantsOfStaff(ctx context.Context, staffIDs []int64) ([][]*healthcode.Grant, []error) {
	out, errs, fail := batch[[]*healthcode.Grant](len(staffIDs))
	a, err := actor(ctx)
	if err != nil {
		return fail(err)
	}
	rows, err := s.DB.Pool.Query(ctx, "SELECT "+staffColumns+" FROM staff WHERE id = ANY($1)", staffIDs)
	if err != nil {
		return fail(fmt.Errorf("read staff: %w", err))
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.Staff, error) { return scanStaff(r) })
	if err != nil {
		return fail(fmt.Errorf("read staff: %w", err))
	}
	byID := make(map[int64]*healthcode.Staff, len(list))
	for _, st := range list {
		byID[st.ID] = st
	}
	var visible []int64
	for i, id := range staffIDs {
		if errs[i] = s.seeStaff(ctx, a, id, byID[id]); errs[i] == nil {
			visible = append(visible, id)
		}
	}
	if len(visible) == 0 {
		return out, errs
	}
	rows, err = s.DB.Pool.Query(ctx, "SELECT "+grantColumns+" FROM grants WHERE staff_id = ANY($1) ORDER BY id", visible)
	if err != nil {
		return fail(fmt.Errorf("list grants: %w", err))
	}
	grants, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.Grant, error) { return scanGrant(r) })
	if err != nil {
		return fail(fmt.Errorf("list grants: %w", err))
	}
	// Another account's grants show inside the caller's staff.read regions
	// only: a grant elsewhere (at a parent region, in another city) is
	// outside the caller's jurisdiction and stays hidden.
	var regions []string
	if slices.ContainsFunc(visible, func(id int64) bool { return a.Kind != healthcode.ActorStaff || id != a.ID }) {
		if regions, err = s.DB.scope(ctx, a, healthcode.PermStaffRead, ""); err != nil {
			return fail(err)
		}
	}
	of := map[int64][]*healthcode.Grant{}
	for _, g := range grants {
		if (a.Kind != healthcode.ActorStaff || g.StaffID != a.ID) && !insideAny(g.RegionCode, regions) {
			continue
		}
		of[g.StaffID] = append(of[g.StaffID], g)
	}
	for i, id := range staffIDs {
		if errs[i] == nil {
			out[i] = of[id]
			if out[i] == nil {
				out[i] = []*healthcode.Grant{}
			}
		}
	}
	return out, errs
}

// GrantRole implements healthcode.StaffService.
func (s *StaffService) GrantRole(ctx context.Context, staffID int64, role healthcode.Role, regionCode string) (*healthcode.Grant, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !grantable(role) {
		return nil, healthcode.Errorf(healthcode.EINVALID, "未知或不可授予的角色：%s", healthcode.Truncate(string(role), 30))
	}
	if err := healthcode.ValidRegionCode(regionCode); err != nil {
		return nil, err
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermGrantManage, regionCode); err != nil {
		return nil, err
	}
	if a.Kind == healthcode.ActorStaff && a.ID == staffID {
		return nil, healthcode.Errorf(healthcode.EFORBIDDEN, "不能给自己授予角色")
	}
	var out *healthcode.Grant
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		if _, err := s.visibleStaff(ctx, tx, a, staffID, true); err != nil {
			return err
		}
		pending := a.Kind != healthcode.ActorSystem && slices.Contains(healthcode.ApprovingRoles, role)
		g, err := scanGrant(tx.QueryRow(ctx, `INSERT INTO grants (staff_id, role, region_code, granted_by, granted_at, pending)
			SELECT $1, $2, code, $4, $5, $6 FROM regions WHERE code = $3 RETURNING `+grantColumns,
			staffID, string(role), regionCode, createdBy(a), tx.Now, pending))
		if errors.Is(err, pgx.ErrNoRows) {
			return healthcode.Errorf(healthcode.ENOTFOUND, "地区不存在")
		} else if healthcode.ErrorCode(mapError(err, "")) == healthcode.ECONFLICT {
			return healthcode.Errorf(healthcode.ECONFLICT, "该账号已在此地区拥有该角色")
		} else if err != nil {
			return fmt.Errorf("insert grant: %w", err)
		}
		out = g
		action := "grant.request"
		if !pending {
			tx.MarkGrantsChanged()
			action = "grant.create"
		}
		return tx.Audit(ctx, healthcode.AuditRecord{
			Role: s.DB.roleFor(ctx, a, healthcode.PermGrantManage, regionCode), RegionCode: regionCode,
			Action: action, Object: "grant:" + strconv.FormatInt(g.ID, 10),
			Detail: map[string]any{"staffId": staffID, "role": string(role)},
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeRole implements healthcode.StaffService.
func (s *StaffService) RevokeRole(ctx context.Context, grantID int64) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	return s.DB.InTx(ctx, func(tx *Tx) error {
		g, err := scanGrant(tx.QueryRow(ctx, "SELECT "+grantColumns+" FROM grants WHERE id = $1 FOR UPDATE", grantID))
		if err != nil {
			return mapError(err, "授权不存在")
		}
		if err := s.DB.authorize(ctx, a, healthcode.PermGrantManage, g.RegionCode, hidden("授权不存在")); err != nil {
			return err
		}
		role := s.DB.roleFor(ctx, a, healthcode.PermGrantManage, g.RegionCode)
		if _, err := tx.Exec(ctx, "DELETE FROM grants WHERE id = $1", grantID); err != nil {
			return fmt.Errorf("delete grant: %w", err)
		}
		tx.MarkGrantsChanged()
		return tx.Audit(ctx, healthcode.AuditRecord{
			Role: role, RegionCode: g.RegionCode,
			Action: "grant.revoke", Object: "grant:" + strconv.FormatInt(grantID, 10),
			Detail: map[string]any{"staffId": g.StaffID, "role": string(g.Role)},
		})
	})
}

func grantable(r healthcode.Role) bool {
	for _, s := range healthcode.StaffRoles {
		if r == s {
			return true
		}
	}
	return false
}

// ltreePaths turns region codes into the ltree paths that in_regions(path,
// $n) takes: the one way to filter rows by the regions a caller may see.
func ltreePaths(codes []string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = ltreePath(c)
	}
	return out
}

// VerifyPhone implements healthcode.StaffService.
func (s *StaffService) VerifyPhone(ctx context.Context, phone, code string) (*healthcode.Staff, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if a.Kind != healthcode.ActorStaff {
		return nil, healthcode.ErrForbidden
	}
	if !healthcode.ValidPhone(phone) {
		return nil, errBadPhone
	}
	db := s.DB
	phoneHash := db.PII.Hash("phone", phone)
	var out *healthcode.Staff
	var result error
	err = db.InTx(ctx, func(tx *Tx) error {
		if err := xactLock(ctx, tx, phoneLockKey(phoneHash)); err != nil {
			return err
		}
		var err error
		if result, err = db.consumeSMSCode(ctx, tx, phone, phoneHash, code); result != nil || err != nil {
			return err
		}
		var other int64
		err = tx.QueryRow(ctx, "SELECT id FROM staff WHERE person_hash = $1 AND id <> $2", phoneHash, a.ID).Scan(&other)
		if err == nil {
			result = healthcode.Errorf(healthcode.ECONFLICT, "该手机号已绑定其他工作人员账号：一人只能实名绑定一个账号")
			return nil
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("look up staff phone: %w", err)
		}
		out, err = scanStaff(tx.QueryRow(ctx, `UPDATE staff SET person_hash = $2, person_verified_at = $3,
				phone_hash = $2, phone_enc = $4, phone_masked = $5
			WHERE id = $1 RETURNING `+staffColumns, a.ID, phoneHash, tx.Now, db.PII.Encrypt(phone), pii.MaskPhone(phone)))
		if err != nil {
			return fmt.Errorf("verify staff phone: %w", err)
		}
		return tx.Audit(ctx, healthcode.AuditRecord{RegionCode: out.RegionCode, Action: "staff.verify_phone",
			Object: a.Subject(), Detail: map[string]any{"phone": out.Phone}})
	})
	if err != nil {
		return nil, err
	}
	if result != nil {
		return nil, result
	}
	return out, nil
}

// PendingGrants implements healthcode.StaffService: the approver's side of
// ApproveGrant's checks, in one statement.
func (s *StaffService) PendingGrants(ctx context.Context, f healthcode.GrantFilter) ([]*healthcode.Grant, bool, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, false, err
	}
	if a.Kind != healthcode.ActorStaff {
		return nil, false, healthcode.ErrForbidden
	}
	manage, err := s.DB.scope(ctx, a, healthcode.PermGrantManage, "")
	if err != nil {
		return nil, false, err
	}
	// The region that approves: the parent of the grant's region, the
	// province itself for a grant at the province. A natural person holds
	// one verified account (staff_person_hash_idx), so leaving out the
	// caller's account leaves out its person.
	rows, err := s.DB.Pool.Query(ctx, `SELECT g.id, g.staff_id, g.role, g.region_code, COALESCE(g.granted_by, 0), g.granted_at, g.pending FROM grants g
		JOIN regions r ON r.code = g.region_code
		WHERE g.pending AND g.id > $2
		  AND in_regions(CASE WHEN nlevel(r.path) > 1 THEN subpath(r.path, 0, nlevel(r.path) - 1) ELSE r.path END, $1)
		  AND g.staff_id <> $3 AND g.granted_by IS DISTINCT FROM $3
		ORDER BY g.id LIMIT $4`,
		ltreePaths(manage), f.After, a.ID, f.First+1)
	if err != nil {
		return nil, false, fmt.Errorf("list pending grants: %w", err)
	}
	return collectPage(rows, f.First, "pending grants", func(r pgx.CollectableRow) (*healthcode.Grant, error) { return scanGrant(r) })
}

// ApproveGrant implements healthcode.StaffService.
func (s *StaffService) ApproveGrant(ctx context.Context, grantID int64) (*healthcode.Grant, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if a.Kind != healthcode.ActorStaff {
		return nil, healthcode.ErrForbidden
	}
	var out *healthcode.Grant
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		g, err := scanGrant(tx.QueryRow(ctx, "SELECT "+grantColumns+" FROM grants WHERE id = $1 FOR UPDATE", grantID))
		if err != nil {
			return mapError(err, "授权不存在")
		}
		// An administrator of the parent region (of the province for the province).
		at := g.RegionCode
		if ancestors := healthcode.AncestorCodes(g.RegionCode); len(ancestors) > 1 {
			at = ancestors[1]
		}
		if err := s.DB.authorize(ctx, a, healthcode.PermGrantManage, at, hidden("授权不存在")); err != nil {
			return err
		}
		if !g.Pending {
			return healthcode.Errorf(healthcode.ECONFLICT, "该授权无需审核或已审核")
		}
		if a.ID == g.StaffID {
			return healthcode.Errorf(healthcode.EFORBIDDEN, "不能审核授予自己的角色")
		}
		if err := s.DB.differentPerson(ctx, tx, "staff:"+strconv.FormatInt(g.GrantedBy, 10), a, "授权须由上级管理员中的另一人审核"); err != nil {
			return err
		}
		mine, err := personHash(ctx, tx, a.Subject())
		if err != nil {
			return err
		}
		grantee, err := personHash(ctx, tx, "staff:"+strconv.FormatInt(g.StaffID, 10))
		if err != nil {
			return err
		}
		if grantee != nil && string(grantee) == string(mine) {
			return healthcode.Errorf(healthcode.EFORBIDDEN, "不能审核授予自己的角色")
		}
		if _, err := tx.Exec(ctx, "UPDATE grants SET pending = false, approved_by = $2, approved_at = $3 WHERE id = $1",
			grantID, a.ID, tx.Now); err != nil {
			return fmt.Errorf("approve grant: %w", err)
		}
		g.Pending = false
		out = g
		tx.MarkGrantsChanged()
		return tx.Audit(ctx, healthcode.AuditRecord{
			Role: s.DB.roleFor(ctx, a, healthcode.PermGrantManage, at), RegionCode: g.RegionCode,
			Action: "grant.approve", Object: "grant:" + strconv.FormatInt(grantID, 10),
			Detail: map[string]any{"staffId": g.StaffID, "role": string(g.Role), "grantedBy": g.GrantedBy},
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
