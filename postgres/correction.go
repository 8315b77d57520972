package postgres

import (
	"context"
	"fmt"
	"strconv"

	"healthcode"
	"healthcode/pii"
)

// CorrectPersonInfo implements healthcode.CodeService.
func (s *CodeService) CorrectPersonInfo(ctx context.Context, personID int64, c healthcode.PersonCorrection) (*healthcode.Person, *healthcode.Code, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, nil, err
	}
	pid, err := ownPerson(ctx, s.DB.Pool, a, personID)
	if err != nil {
		return nil, nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	fields := c.Fields()
	db := s.DB
	var code *healthcode.Code
	err = db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, "SELECT id FROM persons WHERE id = $1 FOR UPDATE", pid); err != nil {
			return err
		}
		if c.Name != nil {
			if _, err := tx.Exec(ctx, "UPDATE persons SET name_enc = $2, name_masked = $3 WHERE id = $1",
				pid, db.PII.Encrypt(*c.Name), pii.MaskName(*c.Name)); err != nil {
				return fmt.Errorf("correct name: %w", err)
			}
		}
		if c.Phone != nil {
			if _, err := tx.Exec(ctx, "UPDATE persons SET phone_hash = $2, phone_enc = $3, phone_masked = $4 WHERE id = $1",
				pid, db.PII.Hash("phone", *c.Phone), db.PII.Encrypt(*c.Phone), pii.MaskPhone(*c.Phone)); err != nil {
				return fmt.Errorf("correct phone: %w", err)
			}
		}
		if c.Address != nil {
			if _, err := tx.Exec(ctx, "UPDATE persons SET address_enc = $2 WHERE id = $1", pid, db.PII.Encrypt(*c.Address)); err != nil {
				return fmt.Errorf("correct address: %w", err)
			}
		}
		if c.Employer != nil {
			if _, err := tx.Exec(ctx, "UPDATE persons SET employer = '', employer_enc = $2, employer_masked = $3 WHERE id = $1",
				pid, db.encryptOptional(*c.Employer), pii.MaskText(*c.Employer)); err != nil {
				return fmt.Errorf("correct employer: %w", err)
			}
		}
		ref := "correction:" + strconv.FormatInt(pid, 10)
		if c.ResidenceCode != nil {
			var path string
			if err := tx.QueryRow(ctx, "SELECT path::text FROM regions WHERE code = $1", *c.ResidenceCode).Scan(&path); err != nil {
				return healthcode.FieldError("居住地", "地区代码 %s 不存在，请重新选择", *c.ResidenceCode)
			}
			tag, err := tx.Exec(ctx, "UPDATE persons SET residence_code = $2, residence_path = $3::text::ltree WHERE id = $1 AND residence_code <> $2",
				pid, *c.ResidenceCode, path)
			if err != nil {
				return fmt.Errorf("correct residence: %w", err)
			}
			if tag.RowsAffected() > 0 {
				tx.MarkIndicatorDays(tx.Now) // coverage counts persons where they live
				if _, err := tx.Exec(ctx, `UPDATE stays SET to_at = $2 WHERE person_id = $1 AND source = 'RESIDENCE'
					AND to_at IS NULL AND retracted_at IS NULL`, pid, tx.Now); err != nil {
					return fmt.Errorf("end residence: %w", err)
				}
				if _, err := tx.Exec(ctx, `INSERT INTO stays (person_id, place, place_path, from_at, source, source_ref, actor, created_at)
					VALUES ($1, $2, $3::text::ltree, $4, 'RESIDENCE', $5, $6, $4)`, pid, *c.ResidenceCode, path, tx.Now, ref, a.Subject()); err != nil {
					return fmt.Errorf("record residence: %w", err)
				}
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE persons SET updated_at = $2 WHERE id = $1", pid, tx.Now); err != nil {
			return err
		}
		var region string
		if err := tx.QueryRow(ctx, "SELECT residence_code FROM persons WHERE id = $1", pid).Scan(&region); err != nil {
			return err
		}
		if err := tx.Audit(ctx, healthcode.AuditRecord{Role: healthcode.RoleResident, RegionCode: region,
			Action: "person.correct", Object: "person:" + strconv.FormatInt(pid, 10), Detail: map[string]any{"fields": fields}}); err != nil {
			return err
		}
		codes, err := db.reevaluate(ctx, tx, []int64{pid}, ref)
		code = codes[pid]
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	persons, err := s.MyPersons(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range persons {
		if p.ID == pid {
			return p, code, nil
		}
	}
	return nil, code, nil
}
