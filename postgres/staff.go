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

const staffColumns = "id, username, display_name, region_code, created_at, COALESCE(created_by, 0), disabled, phone_masked"

func scanStaff(row pgx.Row) (*healthcode.Staff, error) {
	var s healthcode.Staff
	err := row.Scan(&s.ID, &s.Username, &s.DisplayName, &s.RegionCode, &s.CreatedAt, &s.CreatedBy, &s.Disabled, &s.Phone)
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
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.Staff, error) { return scanStaff(r) })
	if err != nil {
		return nil, false, fmt.Errorf("list staff: %w", err)
	}
	more := len(list) > f.First
	if more {
		list = list[:f.First]
	}
	return list, more, nil
}

const grantColumns = "id, staff_id, role, region_code, COALESCE(granted_by, 0), granted_at"

func scanGrant(row pgx.Row) (*healthcode.Grant, error) {
	var g healthcode.Grant
	var role string
	err := row.Scan(&g.ID, &g.StaffID, &role, &g.RegionCode, &g.GrantedBy, &g.GrantedAt)
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
	out := make([][]*healthcode.Grant, len(staffIDs))
	errs := make([]error, len(staffIDs))
	fail := func(err error) ([][]*healthcode.Grant, []error) {
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
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
		g, err := scanGrant(tx.QueryRow(ctx, `INSERT INTO grants (staff_id, role, region_code, granted_by, granted_at)
			SELECT $1, $2, code, $4, $5 FROM regions WHERE code = $3 RETURNING `+grantColumns,
			staffID, string(role), regionCode, createdBy(a), tx.Now))
		if errors.Is(err, pgx.ErrNoRows) {
			return healthcode.Errorf(healthcode.ENOTFOUND, "地区不存在")
		} else if healthcode.ErrorCode(mapError(err, "")) == healthcode.ECONFLICT {
			return healthcode.Errorf(healthcode.ECONFLICT, "该账号已在此地区拥有该角色")
		} else if err != nil {
			return fmt.Errorf("insert grant: %w", err)
		}
		out = g
		tx.MarkGrantsChanged()
		return tx.Audit(ctx, healthcode.AuditRecord{
			Role: s.DB.roleFor(ctx, a, healthcode.PermGrantManage, regionCode), RegionCode: regionCode,
			Action: "grant.create", Object: "grant:" + strconv.FormatInt(g.ID, 10),
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
