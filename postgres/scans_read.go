package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
)

// scanScope returns the SQL condition (and its argument) that limits scans to
// what the caller may see: an institution's members see its scans only;
// administrators see the scans of venues inside their scan.read regions.
func (s *ScanService) scanScope(ctx context.Context, a *healthcode.Actor) (string, any, error) {
	var institution int64
	err := s.DB.Pool.QueryRow(ctx, "SELECT institution_id FROM institution_members WHERE staff_id = $1", a.ID).Scan(&institution)
	if err == nil {
		return "institution_id = $1", institution, nil
	}
	visible, err := s.DB.scope(ctx, a, healthcode.PermScanRead, "")
	if err != nil {
		return "", nil, err
	}
	return "in_regions(region_path, $1)", ltreePaths(visible), nil
}

// Scans lists scans the caller may see, newest first. Institution members
// see their institution's; administrators those inside their scan.read
// regions. Errors: UNAUTHENTICATED, FORBIDDEN, INVALID (cursor).
func (s *ScanService) Scans(ctx context.Context, f healthcode.ScanFilter) ([]*healthcode.Scan, bool, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, false, err
	}
	scope, arg, err := s.scanScope(ctx, a)
	if err != nil {
		return nil, false, err
	}
	where, args := []string{scope}, []any{arg}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.VenueID != 0 {
		add("venue_id = ?", f.VenueID)
	}
	if f.From != nil {
		add("scanned_at >= ?", *f.From)
	}
	if f.To != nil {
		add("scanned_at < ?", *f.To)
	}
	if f.After != "" {
		at, id, err := healthcode.ParseScanCursor(f.After)
		if err == nil && !isUUID(id) {
			err = healthcode.Errorf(healthcode.EINVALID, "分页游标无效")
		}
		if err != nil {
			return nil, false, err
		}
		args = append(args, at, id)
		where = append(where, fmt.Sprintf("(scanned_at, scan_id) < ($%d, $%d::uuid)", len(args)-1, len(args)))
	}
	args = append(args, f.First+1)
	rows, err := s.DB.Pool.Query(ctx, `SELECT scan_id::text, scanned_at, received_at, venue_id, institution_id, issuer, colour,
		temperature::float8, scan_role, fever FROM scans WHERE `+strings.Join(where, " AND ")+
		` ORDER BY scanned_at DESC, scan_id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, false, fmt.Errorf("list scans: %w", err)
	}
	return collectPage(rows, f.First, "scans", func(r pgx.CollectableRow) (*healthcode.Scan, error) {
		var sc healthcode.Scan
		var colour string
		err := r.Scan(&sc.ScanID, &sc.ScannedAt, &sc.ReceivedAt, &sc.VenueID, &sc.InstitutionID, &sc.Issuer, &colour,
			&sc.Temperature, &sc.Role, &sc.Fever)
		sc.Colour = healthcode.Colour(colour)
		return &sc, err
	})
}

// VenueStats counts a venue's scans, fevers and colours in [from, to).
// Institution members of the venue's institution and administrators with
// scan.read at its region may ask. Errors: UNAUTHENTICATED, NOT_FOUND,
// INVALID.
func (s *ScanService) VenueStats(ctx context.Context, venueID int64, from, to time.Time) (*healthcode.VenueStats, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	if !to.After(from) || to.Sub(from) > 366*24*time.Hour {
		return nil, healthcode.Errorf(healthcode.EINVALID, "统计时段应在一年以内，且结束晚于开始")
	}
	scope, arg, err := s.scanScope(ctx, a)
	if err != nil {
		return nil, err
	}
	var inst int64
	var path string
	if err := s.DB.Pool.QueryRow(ctx, "SELECT institution_id, region_path::text FROM venues WHERE id = $1", venueID).Scan(&inst, &path); err != nil {
		return nil, mapError(err, "查验场所不存在")
	}
	var visible bool
	if strings.HasPrefix(scope, "institution_id") {
		visible = inst == arg.(int64)
	} else {
		err = s.DB.Pool.QueryRow(ctx, "SELECT in_regions($2::text::ltree, $1)", arg, path).Scan(&visible)
		if err != nil {
			return nil, fmt.Errorf("check venue scope: %w", err)
		}
	}
	if !visible {
		return nil, healthcode.Errorf(healthcode.ENOTFOUND, "查验场所不存在")
	}
	st := &healthcode.VenueStats{VenueID: venueID, From: from, To: to}
	err = s.DB.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE fever),
		count(*) FILTER (WHERE colour = 'GREEN'), count(*) FILTER (WHERE colour = 'YELLOW'), count(*) FILTER (WHERE colour = 'RED'),
		count(*) FILTER (WHERE scan_role = 'EMPLOYEE'), count(*) FILTER (WHERE scan_role = 'VISITOR')
		FROM scans WHERE venue_id = $1 AND scanned_at >= $2 AND scanned_at < $3`, venueID, from, to).
		Scan(&st.Scans, &st.Fevers, &st.Green, &st.Yellow, &st.Red, &st.Employees, &st.Visitors)
	if err != nil {
		return nil, fmt.Errorf("venue stats: %w", err)
	}
	return st, nil
}
