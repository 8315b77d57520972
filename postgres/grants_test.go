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

// waitChange waits for one onChange call.
func waitChange(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("no onChange %s", what)
	}
}

func TestListenGrants(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	url := pool.Config().ConnConfig.ConnString()
	db := &postgres.DB{Pool: pool}
	ctx, cancel := context.WithCancel(context.Background())
	admin, _ := grantsFixture(t, db)
	grantID := insertGrant(t, db, admin, healthcode.RoleAdmin, "610113")

	e, err := rbac.New(db.LoadGrants)
	if err != nil {
		t.Fatal(err)
	}
	changes := make(chan struct{}, 100)
	done := make(chan error, 1)
	go func() {
		done <- db.ListenGrants(ctx, url, func() {
			e.Invalidate()
			changes <- struct{}{}
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ListenGrants returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("ListenGrants did not stop when its context was cancelled")
		}
	})
	waitChange(t, changes, "after connecting")

	a := &healthcode.Actor{Kind: healthcode.ActorStaff, ID: admin}
	if err := e.Authorize(ctx, a, healthcode.PermGrantManage, "610113001"); err != nil {
		t.Fatalf("before revocation: %v", err)
	}

	// Revoke in a transaction that marks grants changed: the notification
	// invalidates the enforcer and the next request is refused.
	if err := db.InTx(ctx, func(tx *postgres.Tx) error {
		tx.MarkGrantsChanged()
		_, err := tx.Exec(ctx, "DELETE FROM grants WHERE id = $1", grantID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	waitChange(t, changes, "after a grants transaction")
	if err := e.Authorize(ctx, a, healthcode.PermGrantManage, "610113001"); !errors.Is(err, healthcode.ErrForbidden) {
		t.Fatalf("after revocation: %v, want ErrForbidden", err)
	}

	// A transaction that does not mark grants changed sends nothing.
	if err := db.InTx(ctx, func(tx *postgres.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE staff SET display_name = 'x' WHERE id = $1", admin)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changes:
		t.Fatal("onChange after a transaction that did not change grants")
	case <-time.After(300 * time.Millisecond):
	}

	// Kill the listener's connection: it reconnects and calls onChange once
	// more for whatever it may have missed.
	var killed int
	if err := pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'healthcode-grants-listener' AND datname = current_database()`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d listener connections, want 1", killed)
	}
	waitChange(t, changes, "after reconnecting")
	insertGrant(t, db, admin, healthcode.RoleAdmin, "6101")
	waitChange(t, changes, "after a grant on the new connection")
	if err := e.Authorize(ctx, a, healthcode.PermGrantManage, "610113001"); err != nil {
		t.Fatalf("after new grant: %v", err)
	}
}

func TestListenGrantsBadURL(t *testing.T) {
	t.Parallel()
	db := &postgres.DB{}
	if err := db.ListenGrants(context.Background(), "postgres://%zz", func() {}); err == nil {
		t.Fatal("ListenGrants with a malformed URL: nil error")
	}
}
