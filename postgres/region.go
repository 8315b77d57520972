package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/divisions"
)

// RegionService implements healthcode.RegionService.
type RegionService struct{ DB *DB }

var _ healthcode.RegionService = (*RegionService)(nil)

const regionColumns = "code, name, level, COALESCE(parent_code, ''), path::text"

func scanRegion(row pgx.Row) (*healthcode.Region, error) {
	var r healthcode.Region
	var level string
	if err := row.Scan(&r.Code, &r.Name, &level, &r.ParentCode, &r.Path); err != nil {
		return nil, err
	}
	r.Level = healthcode.Level(level)
	return &r, nil
}

// FindRegion implements healthcode.RegionService.
func (s *RegionService) FindRegion(ctx context.Context, code string) (*healthcode.Region, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := healthcode.ValidRegionCode(code); err != nil {
		return nil, err
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermRegionRead, code); err != nil {
		return nil, err
	}
	r, err := scanRegion(s.DB.Pool.QueryRow(ctx, "SELECT "+regionColumns+" FROM regions WHERE code = $1", code))
	if err != nil {
		return nil, mapError(err, "地区不存在")
	}
	return r, nil
}

// RegionNames implements healthcode.RegionService.
func (s *RegionService) RegionNames(ctx context.Context, codes []string) ([]string, []error) {
	out, errs, fail := batch[string](len(codes))
	if _, err := actor(ctx); err != nil {
		return fail(err)
	}
	rows, err := s.DB.Pool.Query(ctx, "SELECT code, name FROM regions WHERE code = ANY($1)", codes)
	if err != nil {
		return fail(fmt.Errorf("region names: %w", err))
	}
	names := map[string]string{}
	var code, name string
	if _, err := pgx.ForEachRow(rows, []any{&code, &name}, func() error { names[code] = name; return nil }); err != nil {
		return fail(fmt.Errorf("region names: %w", err))
	}
	for i, c := range codes {
		out[i] = names[c]
		if out[i] == "" {
			// Outside the tree (another province): the national name,
			// 湖北省武汉市.
			out[i] = divisions.FullName(c)
		}
	}
	return out, errs
}

// FindRegions implements healthcode.RegionService.
func (s *RegionService) FindRegions(ctx context.Context, codes []string) ([]*healthcode.Region, []error) {
	out := make([]*healthcode.Region, len(codes))
	errs := make([]error, len(codes))
	a, err := actor(ctx)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
	var allowed []string
	for i, c := range codes {
		if err := healthcode.ValidRegionCode(c); err != nil {
			errs[i] = err
		} else if err := s.DB.authorize(ctx, a, healthcode.PermRegionRead, c); err != nil {
			errs[i] = err
		} else {
			allowed = append(allowed, c)
		}
	}
	found := map[string]*healthcode.Region{}
	if len(allowed) > 0 {
		rows, err := s.DB.Pool.Query(ctx, "SELECT "+regionColumns+" FROM regions WHERE code = ANY($1)", allowed)
		if err == nil {
			var list []*healthcode.Region
			list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.Region, error) { return scanRegion(r) })
			for _, r := range list {
				found[r.Code] = r
			}
		}
		if err != nil {
			err = fmt.Errorf("find regions: %w", err)
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
			return out, errs
		}
	}
	for i, c := range codes {
		if errs[i] != nil {
			continue
		}
		if r, ok := found[c]; ok {
			out[i] = r
		} else {
			errs[i] = healthcode.Errorf(healthcode.ENOTFOUND, "地区不存在")
		}
	}
	return out, errs
}

// ListRegions implements healthcode.RegionService.
func (s *RegionService) ListRegions(ctx context.Context, f healthcode.RegionFilter) ([]*healthcode.Region, bool, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, false, err
	}
	if f.ParentCode == "" {
		f.ParentCode = healthcode.ProvinceCode
	}
	if err := healthcode.ValidRegionCode(f.ParentCode); err != nil {
		return nil, false, err
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermRegionRead, f.ParentCode); err != nil {
		return nil, false, err
	}
	var exists bool
	if err := s.DB.Pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM regions WHERE code = $1)", f.ParentCode).Scan(&exists); err != nil {
		return nil, false, fmt.Errorf("look up region: %w", err)
	}
	if !exists {
		return nil, false, healthcode.Errorf(healthcode.ENOTFOUND, "地区不存在")
	}
	// Every child of a region the caller may read is inside the same grant.
	rows, err := s.DB.Pool.Query(ctx, "SELECT "+regionColumns+` FROM regions
		WHERE parent_code = $1 AND code > $2 ORDER BY code LIMIT $3`, f.ParentCode, f.After, f.First+1)
	if err != nil {
		return nil, false, fmt.Errorf("list regions: %w", err)
	}
	return collectPage(rows, f.First, "regions", func(r pgx.CollectableRow) (*healthcode.Region, error) { return scanRegion(r) })
}

// PublicRegions implements healthcode.RegionService.
func (s *RegionService) PublicRegions(ctx context.Context, parent string) ([]*healthcode.Region, error) {
	if parent == "" {
		parent = healthcode.ProvinceCode
	}
	if err := healthcode.ValidRegionCode(parent); err != nil {
		return nil, err
	}
	// The parent's NBS children: no street has more than a few hundred
	// communities (98 at most in the 2023 tables), so one list, no pages.
	rows, err := s.DB.Pool.Query(ctx, "SELECT "+regionColumns+` FROM regions
		WHERE parent_code = $1 AND level <> 'COMPOUND' ORDER BY code LIMIT 1000`, parent)
	if err != nil {
		return nil, fmt.Errorf("list public regions: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.Region, error) { return scanRegion(r) })
	if err != nil {
		return nil, fmt.Errorf("list public regions: %w", err)
	}
	if len(list) == 0 {
		var level string
		err := s.DB.Pool.QueryRow(ctx, "SELECT level FROM regions WHERE code = $1", parent).Scan(&level)
		if errors.Is(err, pgx.ErrNoRows) || level == string(healthcode.LevelCompound) {
			return nil, healthcode.Errorf(healthcode.ENOTFOUND, "地区不存在")
		} else if err != nil {
			return nil, fmt.Errorf("look up region: %w", err)
		}
	}
	return list, nil
}

// CreateCompound implements healthcode.RegionService.
func (s *RegionService) CreateCompound(ctx context.Context, communityCode, name string) (*healthcode.Region, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 50 {
		return nil, healthcode.Errorf(healthcode.EINVALID, "小区名称不能为空，且不超过 50 个字")
	}
	if lv, ok := healthcode.LevelOfCode(communityCode); !ok || lv != healthcode.LevelCommunity {
		return nil, healthcode.Errorf(healthcode.EINVALID, "小区只能建在村（社区）之下，请填写 12 位社区代码")
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermCompoundCreate, communityCode); err != nil {
		return nil, err
	}
	var out *healthcode.Region
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		// Lock the community row so concurrent creations pick distinct codes.
		var parentPath string
		err := tx.QueryRow(ctx, "SELECT path::text FROM regions WHERE code = $1 AND level = 'COMMUNITY' FOR UPDATE", communityCode).Scan(&parentPath)
		if errors.Is(err, pgx.ErrNoRows) {
			return healthcode.Errorf(healthcode.ENOTFOUND, "社区不存在")
		} else if err != nil {
			return fmt.Errorf("lock community: %w", err)
		}
		var next int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(max(right(code, 3)::int), 0) + 1 FROM regions WHERE parent_code = $1`,
			communityCode).Scan(&next); err != nil {
			return fmt.Errorf("next compound code: %w", err)
		}
		if next > 999 {
			return healthcode.Errorf(healthcode.ECONFLICT, "该社区的小区编号已用完")
		}
		code := fmt.Sprintf("%s%03d", communityCode, next)
		r, err := scanRegion(tx.QueryRow(ctx, `INSERT INTO regions (code, name, level, parent_code, path, created_by, created_at)
			VALUES ($1, $2, 'COMPOUND', $3, ($4 || '.' || $1)::ltree, $5, $6) RETURNING `+regionColumns,
			code, name, communityCode, parentPath, createdBy(a), tx.Now))
		if err != nil {
			if e := mapError(err, ""); healthcode.ErrorCode(e) == healthcode.ECONFLICT {
				return healthcode.Errorf(healthcode.ECONFLICT, "该社区已有同名小区")
			}
			return fmt.Errorf("create compound: %w", err)
		}
		out = r
		return tx.Audit(ctx, healthcode.AuditRecord{
			Role: s.DB.roleFor(ctx, a, healthcode.PermCompoundCreate, communityCode), RegionCode: code,
			Action: "region.create_compound", Object: "region:" + code, Detail: map[string]any{"name": name},
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// createdBy returns the actor's staff id for created_by columns, or nil.
func createdBy(a *healthcode.Actor) any {
	if a != nil && a.Kind == healthcode.ActorStaff {
		return a.ID
	}
	return nil
}
