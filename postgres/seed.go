package postgres

import (
	"context"
	"fmt"

	"healthcode"
)

// DevAccount is a staff account that SeedDevAccounts creates, with its one
// grant.
type DevAccount struct {
	Username    string
	DisplayName string
	Role        healthcode.Role
	RegionCode  string
}

// SeedDevAccounts creates the staff accounts with password and their grants
// when missing; an existing account keeps its password and gets its display
// name and, when missing, its grant. Each new grant is audited
// (seed.demo_account). Only dev mode calls it (the demo accounts of package
// demo); it refuses when db.Dev is false and checks no grants.
// Errors: FORBIDDEN outside dev mode.
func (db *DB) SeedDevAccounts(ctx context.Context, accounts []DevAccount, password string) error {
	if !db.Dev {
		return healthcode.Errorf(healthcode.EFORBIDDEN, "demo accounts exist only in dev mode")
	}
	hash, err := db.hashNewPassword(password)
	if err != nil {
		return fmt.Errorf("hash demo password: %w", err)
	}
	return db.InTx(ctx, func(tx *Tx) error {
		for _, d := range accounts {
			var id int64
			err := tx.QueryRow(ctx, `INSERT INTO staff (username, display_name, password_hash, region_code, region_path, created_at)
				SELECT $1, $2, $3, code, path, $5 FROM regions WHERE code = $4
				ON CONFLICT (username) DO UPDATE SET display_name = EXCLUDED.display_name
				RETURNING id`, d.Username, d.DisplayName, hash, d.RegionCode, tx.Now).Scan(&id)
			if err != nil {
				return fmt.Errorf("seed %s: %w", d.Username, err)
			}
			tag, err := tx.Exec(ctx, `INSERT INTO grants (staff_id, role, region_code, granted_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT DO NOTHING`, id, string(d.Role), d.RegionCode, tx.Now)
			if err != nil {
				return fmt.Errorf("seed grant of %s: %w", d.Username, err)
			}
			if tag.RowsAffected() > 0 {
				tx.MarkGrantsChanged()
				if err := tx.Audit(ctx, healthcode.AuditRecord{RegionCode: d.RegionCode, Action: "seed.demo_account",
					Object: fmt.Sprintf("staff:%d", id), Reason: "dev mode demo data",
					Detail: map[string]any{"username": d.Username, "role": string(d.Role)}}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
