package postgres

import (
	"context"
	"fmt"

	"healthcode"
)

// DemoPassword is the password of every demo account. Demo accounts exist
// only in dev mode.
const DemoPassword = "healthcode2020"

// DemoAccount is one account created by SeedDemo.
type DemoAccount struct {
	Username    string
	DisplayName string
	Role        healthcode.Role
	RegionCode  string
}

// DemoAccounts are the dev-mode logins listed in the README.
var DemoAccounts = []DemoAccount{
	{"admin", "省级管理员", healthcode.RoleAdmin, "61"},
	{"xian_admin", "西安市管理员", healthcode.RoleAdmin, "6101"},
	{"yanta_admin", "雁塔区管理员", healthcode.RoleAdmin, "610113"},
	{"beilin_admin", "碑林区管理员", healthcode.RoleAdmin, "610103"},
	{"operator", "12320话务员", healthcode.RoleOperator, "61"},
	{"supervisor", "省督导组", healthcode.RoleSupervisor, "61"},
	{"auditor", "省审计员", healthcode.RoleAuditor, "61"},
	{"rule_admin", "省规则管理员", healthcode.RoleRuleAdmin, "61"},
	{"yanta_health", "雁塔区卫健人员", healthcode.RoleHealthOfficer, "610113"},
	{"yanta_handler", "雁塔区承办人员", healthcode.RoleHandler, "610113"},
	{"hotline_handler", "各区县承办人员（演示）", healthcode.RoleHandler, "61"},
}

// SeedDemo creates the demo accounts and their grants when missing. Only dev
// mode calls it; it refuses when db.Dev is false. Errors: FORBIDDEN outside
// dev mode.
func (db *DB) SeedDemo(ctx context.Context) error {
	if !db.Dev {
		return healthcode.Errorf(healthcode.EFORBIDDEN, "demo accounts exist only in dev mode")
	}
	hash, err := demoPasswordHash()
	if err != nil {
		return fmt.Errorf("hash demo password: %w", err)
	}
	return db.InTx(ctx, func(tx *Tx) error {
		for _, d := range DemoAccounts {
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
