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

// The demo checkpoint of SeedDemo: an institution in 雁塔区 with two venues,
// its administrator and an inspector (防疫员) for the scanner (/scan).
const (
	DemoInspector          = "yanta_inspector"
	DemoInstitutionAdmin   = "yanta_checkpoint_admin"
	demoInstitutionName    = "雁塔区联防联控演示查验点"
	demoInstitutionCredit  = "91610113HCDEM0001"
	demoInstitutionCounty  = "610113"
	demoInspectorFullName  = "雁塔区防疫员（演示）"
	demoInstitutionContact = "13900000000"
)

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

// SeedDemoCheckpoint registers the demo checkpoint (an institution in 雁塔区,
// two venues, its administrator and the inspector DemoInspector) through the
// checkpoint service, as an institution would, unless the inspector exists
// already. Dev mode calls it after SeedDemo. Errors: FORBIDDEN outside dev
// mode.
func (db *DB) SeedDemoCheckpoint(ctx context.Context) error {
	if !db.Dev {
		return healthcode.Errorf(healthcode.EFORBIDDEN, "demo accounts exist only in dev mode")
	}
	var exists bool
	if err := db.Pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM staff WHERE username = $1)", DemoInspector).Scan(&exists); err != nil {
		return fmt.Errorf("look up the demo inspector: %w", err)
	}
	if exists {
		return nil
	}
	var community string
	if err := db.Pool.QueryRow(ctx, `SELECT min(code) FROM regions WHERE level = 'COMMUNITY' AND code LIKE $1 || '%'`,
		demoInstitutionCounty).Scan(&community); err != nil {
		return fmt.Errorf("find a community of %s: %w", demoInstitutionCounty, err)
	}
	check, _ := healthcode.CreditCodeCheck(demoInstitutionCredit)
	cs := &CheckpointService{DB: db}
	sys := healthcode.NewContextWithActor(ctx, healthcode.SystemActor)
	reg, err := cs.RegisterInstitution(sys, healthcode.NewInstitution{Name: demoInstitutionName,
		CreditCode: demoInstitutionCredit + string(check), RegionCode: demoInstitutionCounty, ContactName: "联络员",
		ContactPhone: demoInstitutionContact, AdminUsername: DemoInstitutionAdmin, AdminDisplayName: "雁塔区查验点管理员",
		AdminPassword: DemoPassword})
	if err != nil {
		return fmt.Errorf("register the demo checkpoint: %w", err)
	}
	admin := healthcode.NewContextWithActor(ctx, &healthcode.Actor{Kind: healthcode.ActorStaff, ID: reg.Admin.ID, Name: reg.Admin.Username})
	for _, v := range []healthcode.NewVenue{
		{Name: "雁塔区演示小区东门", Type: healthcode.VenueResidentialEntrance, RegionCode: community},
		{Name: "雁塔区演示综合超市", Type: healthcode.VenueIndoorPublic, RegionCode: community},
	} {
		if _, err := cs.CreateVenue(admin, reg.Institution.ID, v); err != nil {
			return fmt.Errorf("create demo venue: %w", err)
		}
	}
	if _, err := cs.CreateInspector(admin, reg.Institution.ID, DemoInspector, demoInspectorFullName, DemoPassword); err != nil {
		return fmt.Errorf("create the demo inspector: %w", err)
	}
	return nil
}
