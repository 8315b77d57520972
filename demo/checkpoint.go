package demo

import (
	"context"
	"fmt"
	"strings"

	"healthcode"
	"healthcode/postgres"
)

// The demo checkpoint of SeedCheckpoint: an institution in 雁塔区 with two
// venues, its administrator and an inspector (防疫员) for the scanner (/scan).
const (
	// Inspector is the demo inspector's username (the README names it).
	Inspector = "yanta_inspector"
	// InstitutionAdmin is the demo checkpoint's administrator.
	InstitutionAdmin = "yanta_checkpoint_admin"

	institutionName    = "雁塔区联防联控演示查验点"
	institutionCredit  = "91610113HCDEM0001"
	institutionCounty  = "610113"
	inspectorFullName  = "雁塔区防疫员（演示）"
	institutionContact = "13900000000"
)

// SeedCheckpoint registers the demo checkpoint (an institution in 雁塔区, two
// venues, its administrator and the inspector Inspector, all with Password)
// through the checkpoint service, as an institution would; a second run
// finds the institution registered and does nothing. Only dev mode calls it,
// after SeedAccounts. Errors: FORBIDDEN outside dev mode (db.Dev false).
func SeedCheckpoint(ctx context.Context, db *postgres.DB) error {
	if !db.Dev {
		return healthcode.Errorf(healthcode.EFORBIDDEN, "demo accounts exist only in dev mode")
	}
	communities, err := db.Communities(ctx)
	if err != nil {
		return err
	}
	var community string
	for _, c := range communities {
		if strings.HasPrefix(c.Code, institutionCounty) {
			community = c.Code
			break
		}
	}
	if community == "" {
		return fmt.Errorf("no community in %s for the demo checkpoint", institutionCounty)
	}
	cs := &postgres.CheckpointService{DB: db}
	sys := healthcode.NewContextWithActor(ctx, healthcode.SystemActor)
	reg, err := cs.RegisterInstitution(sys, healthcode.NewInstitution{Name: institutionName,
		CreditCode: checkpointCreditCode(), RegionCode: institutionCounty, ContactName: "联络员",
		ContactPhone: institutionContact, AdminUsername: InstitutionAdmin, AdminDisplayName: "雁塔区查验点管理员",
		AdminPassword: Password})
	if healthcode.ErrorCode(err) == healthcode.ECONFLICT {
		return nil // seeded by an earlier run
	}
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
	if _, err := cs.CreateInspector(admin, reg.Institution.ID, Inspector, inspectorFullName, Password); err != nil {
		return fmt.Errorf("create the demo inspector: %w", err)
	}
	return nil
}

// checkpointCreditCode is the demo checkpoint's credit code, with its check
// character.
func checkpointCreditCode() string {
	check, _ := healthcode.CreditCodeCheck(institutionCredit)
	return institutionCredit + string(check)
}
