package postgres_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"healthcode/credential"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
)

// Issue 12 §5: deleting the newest audit records went unnoticed by
// `audit verify`. With a signed anchor published in the key directory, the
// deletion of the tail by the database superuser is reported, and so is a
// chain rewritten with recomputed hashes; a forged anchor is rejected.
func TestAuditAnchorDetectsDeletedTail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	db := &postgres.DB{Pool: pool}
	dir := t.TempDir()
	ring, err := credential.LoadKeyRing(dir, credential.IssuerProvince, true)
	if err != nil {
		t.Fatal(err)
	}
	anchors := &postgres.AuditAnchors{DB: db, Ring: ring, Path: filepath.Join(dir, postgres.AuditAnchorFile)}
	verify := func() (string, int64) {
		t.Helper()
		valid, problems, err := anchors.Load()
		if err != nil {
			t.Fatal(err)
		}
		if len(problems) > 0 {
			return strings.Join(problems, "; "), -1
		}
		v, err := db.VerifyAuditAnchored(ctx, valid)
		if err != nil {
			t.Fatal(err)
		}
		return v.Problem, v.BrokenID
	}

	if _, err := anchors.AnchorAudit(ctx); err != nil { // an empty chain
		t.Fatal(err)
	}
	appendAudit(t, db, 3)
	if _, err := anchors.AnchorAudit(ctx); err != nil {
		t.Fatal(err)
	}
	appendAudit(t, db, 2)
	head, err := anchors.AnchorAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if problem, broken := verify(); broken != 0 {
		t.Fatalf("intact chain reported broken at %d: %s", broken, problem)
	}

	// The superuser deletes the two newest records, bypassing the triggers:
	// the chain that is left is consistent, only the anchor shows the loss.
	if _, err := pgtest.Owner(t, pool).Exec(ctx, `BEGIN; SET LOCAL session_replication_role = replica;
		DELETE FROM audit_log WHERE id > (SELECT max(id) - 2 FROM audit_log); COMMIT;`); err != nil {
		t.Fatal(err)
	}
	if v, err := db.VerifyAudit(ctx); err != nil || v.BrokenID != 0 {
		t.Fatalf("without anchors the truncated chain looks intact: %+v %v", v, err)
	}
	problem, broken := verify()
	if broken != head.Seq-1 || !strings.Contains(problem, "deleted") {
		t.Fatalf("deleted tail: broken %d (%s), want %d", broken, problem, head.Seq-1)
	}
	// A later anchor refuses to paper over the loss.
	if _, err := anchors.AnchorAudit(ctx); err == nil {
		t.Fatal("anchored a chain shorter than the last anchor")
	}

	// Forging the anchors file without the key: rejected.
	raw, err := os.ReadFile(anchors.Path)
	if err != nil {
		t.Fatal(err)
	}
	var doc postgres.AuditAnchorsFile
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	doc.Anchors[len(doc.Anchors)-1].Seq -= 2
	forged, _ := json.Marshal(doc)
	if err := os.WriteFile(anchors.Path, forged, 0o644); err != nil {
		t.Fatal(err)
	}
	if problem, broken := verify(); broken != -1 || !strings.Contains(problem, "签名") {
		t.Fatalf("forged anchor accepted: %d %s", broken, problem)
	}
}

// Issue 12 §5: the application connected as a superuser in dev mode and in
// tests, so the audit triggers and row protections meant little. Tests (and
// dev) now connect as the application role: no superuser, no DDL, no
// rewriting of the audit log, and scan partitions only through the
// SECURITY DEFINER function.
func TestApplicationRoleIsLeastPrivileged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	var user string
	var super bool
	if err := pool.QueryRow(ctx, `SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&user, &super); err != nil {
		t.Fatal(err)
	}
	if user != "healthcode_app" || super {
		t.Fatalf("tests connect as %s (superuser %v), want healthcode_app without superuser", user, super)
	}
	for _, q := range []string{
		"DELETE FROM audit_log", "UPDATE audit_log SET reason = 'x'", "TRUNCATE audit_log",
		"SET session_replication_role = replica", "CREATE TABLE evil (id int)", "ALTER TABLE persons ADD COLUMN evil int",
		"DROP TABLE scans", "CREATE TABLE scans_20991231 PARTITION OF scans FOR VALUES FROM ('2099-12-31') TO ('2100-01-01')",
	} {
		if _, err := pool.Exec(ctx, q); err == nil {
			t.Errorf("the application role may %s", q)
		}
	}
	if _, err := pool.Exec(ctx, "SELECT create_scan_partition('2099-12-31')"); err != nil {
		t.Fatalf("create_scan_partition: %v", err)
	}
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass('scans_20991231') IS NOT NULL").Scan(&exists); err != nil || !exists {
		t.Fatalf("partition created: %v %v", exists, err)
	}
}
