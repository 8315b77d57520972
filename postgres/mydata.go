package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
)

// MyData implements healthcode.PrivacyService.
func (s *PrivacyService) MyData(ctx context.Context, personID int64) (map[string]any, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	db := s.DB
	pid, err := ownPerson(ctx, db.Pool, a, personID)
	if err != nil {
		return nil, err
	}
	p, err := db.ownPersonView(ctx, db.Pool, pid)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"exportedAt": db.now(),
		"person": map[string]any{"id": p.ID, "name": p.Name, "docType": p.DocType, "docNumber": p.DocNumber,
			"phone": p.Phone, "residenceCode": p.ResidenceCode, "address": p.Address, "employer": p.Employer,
			"relation": p.Relation, "createdAt": p.CreatedAt},
	}
	if code, err := db.currentCode(ctx, pid); err == nil {
		out["code"] = map[string]any{"colour": code.Colour, "clauses": code.Clauses, "ruleSetVersion": code.RuleSetVersion,
			"updatedAt": code.UpdatedAt, "reevaluateAt": code.ReevaluateAt}
	} else if healthcode.ErrorCode(err) != healthcode.ENOTFOUND {
		return nil, err
	}
	lists := []struct {
		key, sql string
		cols     []string
	}{
		{"colourHistory", `SELECT COALESCE(from_colour, ''), to_colour, array_to_string(clause_ids, ','), rule_set_version, cause, at
			FROM code_history WHERE person_id = $1 ORDER BY id`, []string{"from", "to", "clauses", "ruleSetVersion", "cause", "at"}},
		{"declarations", `SELECT id, form, origin, COALESCE(to_char(arrival_date, 'YYYY-MM-DD'), ''), transport, close_contact, created_at
			FROM declarations WHERE person_id = $1 ORDER BY id`, []string{"id", "form", "origin", "arrivalDate", "transport", "closeContact", "at"}},
		{"appeals", `SELECT id, kind, subject, state, created_at FROM tickets WHERE person_id = $1 ORDER BY id`,
			[]string{"id", "kind", "subject", "state", "at"}},
	}
	for _, l := range lists {
		rows, err := db.Pool.Query(ctx, l.sql, pid)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", l.key, err)
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (map[string]any, error) {
			vals, err := r.Values()
			if err != nil {
				return nil, err
			}
			m := map[string]any{}
			for i, c := range l.cols {
				m[c] = vals[i]
			}
			return m, nil
		})
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", l.key, err)
		}
		out[l.key] = list
	}
	facts, err := db.personFacts(ctx, pid)
	if err != nil {
		return nil, err
	}
	out["facts"] = facts
	if out["guardianships"], err = db.guardianships(ctx, db.Pool, pid); err != nil {
		return nil, err
	}
	if out["accessLog"], _, err = db.accessLog(ctx, pid, 10000, 0); err != nil {
		return nil, err
	}
	err = db.InTx(ctx, func(tx *Tx) error {
		return tx.Audit(ctx, healthcode.AuditRecord{RegionCode: p.ResidenceCode, Action: "person.export",
			Object: "person:" + strconv.FormatInt(pid, 10), Reason: "本人或监护人下载个人信息副本"})
	})
	if err != nil {
		return nil, err
	}
	return jsonReady(out), nil
}

// jsonReady turns times into RFC 3339 text so the map reads the same in
// any JSON encoder.
func jsonReady(m map[string]any) map[string]any {
	for k, v := range m {
		if t, ok := v.(time.Time); ok {
			m[k] = t.Format(time.RFC3339)
		}
	}
	return m
}
