// Package demo is the demo province of `healthcode dev`: the demo accounts,
// a synthetic population in proportion to the census, and two weeks of
// activity replayed through the services (checkpoints and scans, hotline
// tickets, weekly reports, joint meeting lists, national pushes, indicators
// and rankings). It sits above storage and uses the services as any client
// would; storage offers it only narrow bulk methods (ImportPersons and the
// reads the services do not offer in bulk). Dev mode and tests only.
package demo

import (
	"context"

	"healthcode"
	"healthcode/postgres"
)

// Password is the password of every demo account. Demo accounts exist only
// in dev mode.
const Password = "healthcode2020"

// Accounts are the dev-mode logins listed in the README.
var Accounts = []postgres.DevAccount{
	{Username: "admin", DisplayName: "省级管理员", Role: healthcode.RoleAdmin, RegionCode: "61", Phone: "19900000001"},
	{Username: "xian_admin", DisplayName: "西安市管理员", Role: healthcode.RoleAdmin, RegionCode: "6101", Phone: "19900000002"},
	{Username: "yanta_admin", DisplayName: "雁塔区管理员", Role: healthcode.RoleAdmin, RegionCode: "610113", Phone: "19900000003"},
	{Username: "beilin_admin", DisplayName: "碑林区管理员", Role: healthcode.RoleAdmin, RegionCode: "610103", Phone: "19900000004"},
	{Username: "operator", DisplayName: "12320话务员", Role: healthcode.RoleOperator, RegionCode: "61", Phone: "19900000005"},
	{Username: "supervisor", DisplayName: "省督导组", Role: healthcode.RoleSupervisor, RegionCode: "61", Phone: "19900000006"},
	{Username: "auditor", DisplayName: "省审计员", Role: healthcode.RoleAuditor, RegionCode: "61", Phone: "19900000007"},
	{Username: "rule_admin", DisplayName: "省规则管理员", Role: healthcode.RoleRuleAdmin, RegionCode: "61", Phone: "19900000008"},
	// The second rule admin: a rule set submitted by one comes into force
	// when the other approves it.
	{Username: "rule_admin2", DisplayName: "省规则管理员（复核）", Role: healthcode.RoleRuleAdmin, RegionCode: "61", Phone: "19900000014"},
	{Username: "yanta_health", DisplayName: "雁塔区卫健人员", Role: healthcode.RoleHealthOfficer, RegionCode: "610113", Phone: "19900000009"},
	// The second health officer: a change into or out of red by one needs
	// the other (docs/security-colour.md).
	{Username: "yanta_health2", DisplayName: "雁塔区卫健人员（复核）", Role: healthcode.RoleHealthOfficer, RegionCode: "610113", Phone: "19900000012"},
	// A provincial health officer: designates other provinces' areas, which
	// only a grant at the province (61) reaches.
	{Username: "prov_health", DisplayName: "省卫健委卫生健康人员", Role: healthcode.RoleHealthOfficer, RegionCode: "61", Phone: "19900000013"},
	{Username: "yanta_handler", DisplayName: "雁塔区承办人员", Role: healthcode.RoleHandler, RegionCode: "610113", Phone: "19900000010"},
	{Username: "hotline_handler", DisplayName: "各区县承办人员（演示）", Role: healthcode.RoleHandler, RegionCode: "61", Phone: "19900000011"},
}

// SeedAccounts creates the demo accounts (Accounts, with Password) and their
// grants when missing. Only dev mode calls it (`healthcode dev`, `healthcode
// seed`, tests). Errors: FORBIDDEN outside dev mode (db.Dev false).
func SeedAccounts(ctx context.Context, db *postgres.DB) error {
	return db.SeedDevAccounts(ctx, Accounts, Password)
}
