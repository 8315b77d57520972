package postgres_test

import (
	"context"
	neturl "net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"healthcode"
	"healthcode/migrations"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
)

func appendAudit(t *testing.T, db *postgres.DB, n int) {
	t.Helper()
	ctx := healthcode.NewContextWithActor(context.Background(), &healthcode.Actor{Kind: healthcode.ActorStaff, ID: 1, Name: "tester"})
	for i := 0; i < n; i++ {
		err := db.InTx(ctx, func(tx *postgres.Tx) error {
			return tx.Audit(ctx, healthcode.AuditRecord{Role: healthcode.RoleAdmin, RegionCode: "610113",
				Action: "test.change", Object: "thing:1", Reason: "测试", Detail: map[string]any{"i": i, "note": "x\"y"}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// The chain verifies; an altered row is found and named.
func TestAuditChainDetectsAlteredRow(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	db := &postgres.DB{Pool: pool}
	appendAudit(t, db, 5)
	v, err := db.VerifyAudit(context.Background())
	if err != nil || v.BrokenID != 0 || v.Checked != 5 {
		t.Fatalf("intact chain: %+v %v", v, err)
	}
	var third int64
	pool.QueryRow(context.Background(), "SELECT id FROM audit_log ORDER BY id OFFSET 2 LIMIT 1").Scan(&third)
	// Only a superuser bypassing the triggers can alter a record.
	_, err = pgtest.Owner(t, pool).Exec(context.Background(), `BEGIN; SET LOCAL session_replication_role = replica;
		UPDATE audit_log SET reason = '篡改' WHERE id = `+itoa(third)+`; COMMIT;`)
	if err != nil {
		t.Fatal(err)
	}
	v, err = db.VerifyAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if v.BrokenID != third || !strings.Contains(v.Problem, "hash") {
		t.Fatalf("altered record %d: got %+v", third, v)
	}
}

// A deleted record breaks the link of the one after it.
func TestAuditChainDetectsDeletedRow(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	db := &postgres.DB{Pool: pool}
	appendAudit(t, db, 4)
	var second, third int64
	pool.QueryRow(context.Background(), "SELECT id FROM audit_log ORDER BY id OFFSET 1 LIMIT 1").Scan(&second)
	pool.QueryRow(context.Background(), "SELECT id FROM audit_log ORDER BY id OFFSET 2 LIMIT 1").Scan(&third)
	if _, err := pgtest.Owner(t, pool).Exec(context.Background(), `BEGIN; SET LOCAL session_replication_role = replica;
		DELETE FROM audit_log WHERE id = `+itoa(second)+`; COMMIT;`); err != nil {
		t.Fatal(err)
	}
	v, _ := db.VerifyAudit(context.Background())
	if v.BrokenID != third {
		t.Fatalf("deleted record: got %+v, want break at %d", v, third)
	}
}

// Not even the owner can update, delete or truncate audit records without
// disabling the triggers (the application role has no such privileges at
// all: TestAuditAppRoleCannotRewrite).
func TestAuditAppendOnly(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	db := &postgres.DB{Pool: pool}
	appendAudit(t, db, 1)
	owner := pgtest.Owner(t, pool)
	for _, q := range []string{"UPDATE audit_log SET reason = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"} {
		if _, err := owner.Exec(context.Background(), q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only refusal", q, err)
		}
	}
}

// Connected as the application role, the audit log can be appended to but
// never updated or deleted: the migration withholds those privileges.
func TestAuditAppRoleCannotRewrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pgtest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.Exec(ctx, "CREATE ROLE healthcode_app LOGIN")
	admin.Close(ctx)
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	url := pgtest.NewEmptyURL(t)
	if err := migrations.Up(url); err != nil {
		t.Fatal(err)
	}
	u, _ := neturl.Parse(url)
	u.User = neturl.User("healthcode_app")
	pool, err := pgxpool.New(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := &postgres.DB{Pool: pool}
	appendAudit(t, db, 2)
	for _, q := range []string{"UPDATE audit_log SET reason = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"} {
		if _, err := pool.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("%s as healthcode_app: err = %v, want permission denied", q, err)
		}
	}
	for _, q := range []string{"UPDATE staff SET disabled = false", "UPDATE tickets SET overdue = false", "SELECT count(*) FROM scans"} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Errorf("healthcode_app: %s: %v", q, err)
		}
	}
	v, err := db.VerifyAudit(ctx)
	if err != nil || v.BrokenID != 0 || v.Checked != 2 {
		t.Fatalf("chain as app role: %+v %v", v, err)
	}
}

// Concurrent appends still form one chain.
func TestAuditConcurrentAppends(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	db := &postgres.DB{Pool: pool}
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			appendAudit(t, db, 10)
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
	v, err := db.VerifyAudit(context.Background())
	if err != nil || v.BrokenID != 0 || v.Checked != 40 {
		t.Fatalf("concurrent chain: %+v %v", v, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
