package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"healthcode"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
	"healthcode/rbac"
)

// grantsFixture inserts two staff accounts homed in Yanta (610113) and returns
// their ids.
func grantsFixture(t *testing.T, db *postgres.DB) (int64, int64) {
	t.Helper()
	ctx := context.Background()
	var ids [2]int64
	for i, name := range []string{"yanta.admin", "xian.officer"} {
		err := db.Pool.QueryRow(ctx, `INSERT INTO staff (username, display_name, password_hash, region_code, region_path)
			VALUES ($1, $2, 'x', '610113', '61.6101.610113') RETURNING id`, name, "测试"+name).Scan(&ids[i])
		if err != nil {
			t.Fatalf("insert staff: %v", err)
		}
	}
	return ids[0], ids[1]
}

func insertGrant(t *testing.T, db *postgres.DB, staffID int64, role healthcode.Role, region string) int64 {
	t.Helper()
	var id int64
	err := db.InTx(context.Background(), func(tx *postgres.Tx) error {
		tx.MarkGrantsChanged()
		return tx.QueryRow(context.Background(), `INSERT INTO grants (staff_id, role, region_code, granted_at)
			VALUES ($1, $2, $3, $4) RETURNING id`, staffID, string(role), region, tx.Now).Scan(&id)
	})
	if err != nil {
		t.Fatalf("insert grant: %v", err)
	}
	return id
}

func TestLoadGrants(t *testing.T) {
	t.Parallel()
	db := &postgres.DB{Pool: pgtest.New(t)}
	ctx := context.Background()

	grants, err := db.LoadGrants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(grants) != 0 {
		t.Fatalf("fresh database has %d grants", len(grants))
	}

	admin, officer := grantsFixture(t, db)
	g1 := insertGrant(t, db, admin, healthcode.RoleAdmin, "610113")
	g2 := insertGrant(t, db, officer, healthcode.RoleHealthOfficer, "6101")
	if _, err := db.Pool.Exec(ctx, "UPDATE grants SET granted_by = $1 WHERE id = $2", admin, g2); err != nil {
		t.Fatal(err)
	}

	grants, err = db.LoadGrants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(grants) != 2 {
		t.Fatalf("LoadGrants = %d grants, want 2", len(grants))
	}
	want := []healthcode.Grant{
		{ID: g1, StaffID: admin, Role: healthcode.RoleAdmin, RegionCode: "610113"},
		{ID: g2, StaffID: officer, Role: healthcode.RoleHealthOfficer, RegionCode: "6101", GrantedBy: admin},
	}
	for i, g := range grants {
		if g.GrantedAt.IsZero() {
			t.Errorf("grant %d: zero GrantedAt", g.ID)
		}
		g.GrantedAt = time.Time{}
		if g != want[i] {
			t.Errorf("grant %d = %+v, want %+v", i, g, want[i])
		}
	}

	// The enforcer over LoadGrants answers from the stored grants.
	e, err := rbac.New(db.LoadGrants)
	if err != nil {
		t.Fatal(err)
	}
	a := &healthcode.Actor{Kind: healthcode.ActorStaff, ID: admin}
	if err := e.Authorize(ctx, a, healthcode.PermPersonRead, "610113001001"); err != nil {
		t.Errorf("Yanta admin in Yanta: %v", err)
	}
	if err := e.Authorize(ctx, a, healthcode.PermPersonRead, "610103"); !errors.Is(err, healthcode.ErrForbidden) {
		t.Errorf("Yanta admin in Beilin: %v", err)
	}
}
