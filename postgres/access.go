package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"healthcode"
)

// logAccess records that the caller read what of persons pids, with the
// purpose of ctx (healthcode.WithPurpose) or fallback, in the access log
// the persons see (docs/privacy.md#the-access-log). A resident's reads of
// their own data and the workers' are not recorded. It is one INSERT,
// committed before the data is returned, so a read is never answered
// without its record; it takes no lock, unlike the audit chain. perm and
// region give the role that allowed the read.
func (db *DB) logAccess(ctx context.Context, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, pids []int64, what string, perm healthcode.Permission, region, fallback string) error {
	a := healthcode.ActorFromContext(ctx)
	if a == nil || a.Kind == healthcode.ActorResident || a.Kind == healthcode.ActorSystem || len(pids) == 0 {
		return nil
	}
	purpose := healthcode.PurposeFromContext(ctx)
	switch {
	case purpose != "" && fallback != "":
		purpose = fallback + "；" + purpose
	case purpose == "" && fallback != "":
		purpose = fallback
	case purpose == "":
		purpose = healthcode.NoPurpose
	}
	purpose = healthcode.Truncate(purpose, 200)
	role := db.roleFor(ctx, a, perm, region)
	record := func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO access_log (at, person_id, actor, role, region_code, what, purpose)
			SELECT $1, pid, $3, $4, COALESCE((SELECT region_code FROM staff WHERE id = $5 AND $3 LIKE 'staff:%'), $6), $7, $8
			FROM unnest($2::bigint[]) AS pid`,
			tx.Now, pids, a.Subject(), string(role), a.ID, a.RegionCode, what, purpose); err != nil {
			return fmt.Errorf("record access: %w", err)
		}
		// One account reading many distinct persons' data (MASS_PERSON_READ).
		return tx.checkAlert(ctx, a, healthcode.AlertMassPersonRead, map[string]any{"what": what, "persons": len(pids)})
	}
	if tx, ok := q.(*Tx); ok {
		return record(tx)
	}
	return db.InTx(ctx, record)
}

// MyAccessLog implements healthcode.PrivacyService.
func (s *PrivacyService) MyAccessLog(ctx context.Context, f healthcode.AccessFilter) ([]*healthcode.AccessRecord, bool, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, false, err
	}
	pid, err := ownPerson(ctx, s.DB.Pool, a, f.PersonID)
	if err != nil {
		return nil, false, err
	}
	return s.DB.accessLog(ctx, pid, f.First, f.After)
}

// accessLog lists a person's access records, newest first, with the
// readers' roles and units.
func (db *DB) accessLog(ctx context.Context, pid int64, first int, after int64) ([]*healthcode.AccessRecord, bool, error) {
	if first <= 0 {
		first = 100
	}
	rows, err := db.Pool.Query(ctx, `SELECT id, person_id, at, actor, role, what, purpose FROM access_log
		WHERE person_id = $1 AND ($2::bigint = 0 OR id < $2::bigint) ORDER BY id DESC LIMIT $3`, pid, after, first+1)
	if err != nil {
		return nil, false, fmt.Errorf("list access log: %w", err)
	}
	var actors []string
	list, more, err := collectPage(rows, first, "access log", func(r pgx.CollectableRow) (*healthcode.AccessRecord, error) {
		var rec healthcode.AccessRecord
		var subj, role string
		if err := r.Scan(&rec.ID, &rec.PersonID, &rec.At, &subj, &role, &rec.What, &rec.Purpose); err != nil {
			return nil, err
		}
		rec.Role, rec.Unit = role, subj // resolved below
		actors = append(actors, subj)
		return &rec, nil
	})
	if err != nil {
		return nil, false, err
	}
	who, err := db.attributions(ctx, actors)
	if err != nil {
		return nil, false, err
	}
	for _, rec := range list {
		at := who[rec.Unit]
		rec.Unit = ""
		if at != nil {
			for _, u := range []string{at.Unit, at.Institution, at.RegionName} {
				if u != "" {
					rec.Unit = u
					break
				}
			}
		}
		if rec.Role != "" {
			rec.Role = healthcode.Role(rec.Role).Label()
		} else if at != nil {
			rec.Role = at.Role()
		}
		if strings.TrimSpace(rec.Unit) == "" {
			rec.Unit = "陕西省"
		}
	}
	return list, more, nil
}

// readablePerson returns the person a may read about what: a resident's own
// person or dependent (personID 0: their own), or, for staff, personID when
// a holds person.read at the residence, the read written to the access log
// first. Errors: NOT_FOUND (not the resident's), FORBIDDEN or NOT_FOUND
// (outside the staff member's jurisdiction), INTERNAL.
func (db *DB) readablePerson(ctx context.Context, a *healthcode.Actor, personID int64, what string) (int64, error) {
	if a.Kind == healthcode.ActorResident {
		return ownPerson(ctx, db.Pool, a, personID)
	}
	region, err := db.authorizeOnPerson(ctx, db.Pool, a, healthcode.PermPersonRead, personID)
	if err != nil {
		return 0, err
	}
	return personID, db.logAccess(ctx, db.Pool, []int64{personID}, what, healthcode.PermPersonRead, region, "")
}
