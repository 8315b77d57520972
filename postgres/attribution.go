package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/pii"
)

// Attributions implements healthcode.StaffService.
func (s *StaffService) Attributions(ctx context.Context, subjects []string) ([]*healthcode.Attribution, []error) {
	out := make([]*healthcode.Attribution, len(subjects))
	errs := make([]error, len(subjects))
	if _, err := staffOnly(ctx); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
	found, err := s.DB.attributions(ctx, subjects)
	for i, subj := range subjects {
		out[i], errs[i] = found[subj], err
	}
	return out, errs
}

// attributions describes subjects for the labelling services: one query per
// kind of actor. A subject it does not know is described by itself.
func (db *DB) attributions(ctx context.Context, subjects []string) (map[string]*healthcode.Attribution, error) {
	out := map[string]*healthcode.Attribution{}
	ids := map[string][]int64{}
	for _, subj := range subjects {
		if _, ok := out[subj]; ok {
			continue
		}
		out[subj] = &healthcode.Attribution{Subject: subj, Kind: healthcode.ActorSystem, Name: subj}
		if subj == healthcode.SystemActor.Subject() {
			out[subj].Name = "系统"
			continue
		}
		prefix, num, ok := strings.Cut(subj, ":")
		id, err := strconv.ParseInt(num, 10, 64)
		if ok && err == nil {
			ids[prefix] = append(ids[prefix], id)
		}
	}
	if len(ids["staff"]) > 0 {
		rows, err := db.Pool.Query(ctx, `
			SELECT s.id, s.display_name, s.region_code, `+fullNameSQL("s.region_path")+`,
			       ARRAY(SELECT role FROM grants g WHERE g.staff_id = s.id AND NOT g.pending UNION SELECT m.role WHERE m.role IS NOT NULL),
			       COALESCE(i.name, ''),
			       ARRAY(SELECT u.name FROM grants g JOIN handling_units u ON u.region_code = g.region_code
			              WHERE g.staff_id = s.id AND g.role = 'HANDLER' ORDER BY u.id)
			  FROM staff s LEFT JOIN institution_members m ON m.staff_id = s.id LEFT JOIN institutions i ON i.id = m.institution_id
			 WHERE s.id = ANY($1)`, ids["staff"])
		if err != nil {
			return out, fmt.Errorf("attribute staff: %w", err)
		}
		list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*healthcode.Attribution, error) {
			var id int64
			var roles, units []string
			a := &healthcode.Attribution{Kind: healthcode.ActorStaff}
			if err := row.Scan(&id, &a.Name, &a.RegionCode, &a.RegionName, &roles, &a.Institution, &units); err != nil {
				return nil, err
			}
			for _, r := range healthcode.StaffRoles {
				for _, have := range roles {
					if string(r) == have {
						a.Roles = append(a.Roles, r)
						break
					}
				}
			}
			a.Unit = strings.Join(units, "、")
			a.Subject = "staff:" + strconv.FormatInt(id, 10)
			return a, nil
		})
		if err != nil {
			return out, fmt.Errorf("attribute staff: %w", err)
		}
		for _, a := range list {
			out[a.Subject] = a
		}
	}
	if len(ids["resident"]) > 0 {
		rows, err := db.Pool.Query(ctx, "SELECT id, phone_enc FROM resident_accounts WHERE id = ANY($1)", ids["resident"])
		if err != nil {
			return out, fmt.Errorf("attribute residents: %w", err)
		}
		var id int64
		var enc []byte
		_, err = pgx.ForEachRow(rows, []any{&id, &enc}, func() error {
			phone, err := db.PII.Decrypt(enc)
			if err != nil {
				return err
			}
			subj := "resident:" + strconv.FormatInt(id, 10)
			out[subj] = &healthcode.Attribution{Subject: subj, Kind: healthcode.ActorResident, Name: pii.MaskPhone(phone),
				Roles: []healthcode.Role{healthcode.RoleResident}}
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("attribute residents: %w", err)
		}
	}
	if len(ids["apikey"]) > 0 {
		rows, err := db.Pool.Query(ctx, `SELECT k.id, k.name, k.city_code, r.name, COALESCE(i.name, '')
			FROM api_keys k JOIN regions r ON r.code = k.city_code LEFT JOIN institutions i ON i.id = k.institution_id
			WHERE k.id = ANY($1)`, ids["apikey"])
		if err != nil {
			return out, fmt.Errorf("attribute api keys: %w", err)
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.Attribution, error) {
			var id int64
			a := &healthcode.Attribution{Kind: healthcode.ActorMachine, Roles: []healthcode.Role{healthcode.RoleSubsystem}}
			err := r.Scan(&id, &a.Name, &a.RegionCode, &a.RegionName, &a.Institution)
			if a.Institution != "" {
				// A medical institution's machine client: the evidence names the institution.
				a.Roles = []healthcode.Role{healthcode.RoleMedicalClient}
			}
			a.Subject = "apikey:" + strconv.FormatInt(id, 10)
			return a, err
		})
		if err != nil {
			return out, fmt.Errorf("attribute api keys: %w", err)
		}
		for _, a := range list {
			out[a.Subject] = a
		}
	}
	return out, nil
}

// attribution describes one subject, for text reports.
func (db *DB) attribution(ctx context.Context, subject string) (*healthcode.Attribution, error) {
	m, err := db.attributions(ctx, []string{subject})
	return m[subject], err
}

// fullNameSQL is an expression naming the region at path with its ancestors
// below the province (西安市雁塔区), or the province's own name.
func fullNameSQL(path string) string {
	return `(SELECT COALESCE(NULLIF(string_agg(a.name, '' ORDER BY nlevel(a.path)) FILTER (WHERE a.level <> 'PROVINCE'), ''),
		min(a.name)) FROM regions a WHERE a.path @> ` + path + `)`
}
