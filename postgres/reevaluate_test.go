package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"healthcode"
	"healthcode/demo"
	"healthcode/pii"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
	"healthcode/rules"
)

// publishCopy publishes the default rule set under another version (same
// clauses), retiring the one in force.
func publishCopy(t *testing.T, db *postgres.DB, version string) {
	t.Helper()
	ctx := context.Background()
	rs := rules.Default()
	rs.Version = version
	body, err := json.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, func(tx *postgres.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE rule_sets SET status = 'RETIRED' WHERE status = 'PUBLISHED'"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO rule_sets (version, body, status, created_by, created_at, approved_by, published_at)
			VALUES ($1, $2, 'PUBLISHED', 'test', $3, 'test', $3)`, version, body, tx.Now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// reevaluateAll runs FanOutAll's ranges through ReevaluateRange.
func reevaluateAll(t *testing.T, db *postgres.DB, cause string) {
	t.Helper()
	ctx := context.Background()
	var lo, hi int64
	if err := db.Pool.QueryRow(ctx, "SELECT min(id), max(id) FROM persons").Scan(&lo, &hi); err != nil {
		t.Fatal(err)
	}
	for from := lo; from <= hi; from += healthcode.ReevaluateBatchSize {
		if _, err := db.ReevaluateRange(ctx, from, from+healthcode.ReevaluateBatchSize, cause); err != nil {
			t.Fatal(err)
		}
	}
}

// A published rule set that changes no result re-evaluates everyone without
// writing a code: the ranges are recorded in code_evaluations, and a code
// read afterwards carries the new version. Once another rule set is
// published, the same code is stale again and re-evaluated on read.
func TestReevaluateRangeRecordsVersionWithoutWrites(t *testing.T) {
	t.Parallel()
	db := syntheticDB(t)
	ctx := context.Background()
	const n = 1500 // two ranges
	if _, err := demo.SeedSynthetic(ctx, db, n, 11); err != nil {
		t.Fatal(err)
	}
	original := rules.Default().Version
	var pid int64
	var updated time.Time
	if err := db.Pool.QueryRow(ctx, "SELECT person_id, updated_at FROM codes ORDER BY person_id LIMIT 1").Scan(&pid, &updated); err != nil {
		t.Fatal(err)
	}
	history := synthCount(t, db, "SELECT count(*) FROM code_history")

	publishCopy(t, db, "test-v2")
	// Before the ranges are re-evaluated, every code is stale.
	if k := synthCount(t, db, "SELECT count(*) FROM codes WHERE code_rule_set_version(person_id, rule_set_version) = 'test-v2'"); k != 0 {
		t.Fatalf("%d codes under test-v2 before re-evaluation", k)
	}
	mark := time.Now()
	reevaluateAll(t, db, "ruleset:test-v2")
	if k := synthCount(t, db, "SELECT count(*) FROM codes WHERE updated_at >= $1", mark); k != 0 {
		t.Errorf("%d codes written although no result changed", k)
	}
	if k := synthCount(t, db, "SELECT count(*) FROM codes WHERE rule_set_version = $1", original); k != n {
		t.Errorf("%d codes keep their stored version, want all %d", k, n)
	}
	if k := synthCount(t, db, "SELECT count(*) FROM codes WHERE code_rule_set_version(person_id, rule_set_version) <> 'test-v2'"); k != 0 {
		t.Errorf("%d codes not under test-v2 after re-evaluating every range", k)
	}
	if k := synthCount(t, db, "SELECT count(*) FROM code_evaluations WHERE rule_set_version = 'test-v2'"); k != 2 {
		t.Errorf("%d ranges recorded, want 2", k)
	}
	if k := synthCount(t, db, "SELECT count(*) FROM code_history"); k != history {
		t.Errorf("%d colour changes recorded", k-history)
	}

	// Read after publish: the new version, without a write.
	code, err := db.CurrentCode(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	if code.RuleSetVersion != "test-v2" || !code.UpdatedAt.Equal(updated) {
		t.Errorf("code read after the re-evaluation: version %q updated %s, want test-v2 updated %s",
			code.RuleSetVersion, code.UpdatedAt, updated)
	}
	if k := synthCount(t, db, "SELECT count(*) FROM codes WHERE updated_at >= $1", mark); k != 0 {
		t.Errorf("reading a code wrote %d codes", k)
	}

	// Another rule set: the code is stale again (its range row is of a
	// retired version) and reading it re-evaluates and relabels it.
	publishCopy(t, db, "test-v3")
	if k := synthCount(t, db, "SELECT count(*) FROM codes WHERE code_rule_set_version(person_id, rule_set_version) <> $1", original); k != 0 {
		t.Errorf("%d codes not back to their stored version once test-v2 is retired", k)
	}
	code, err = db.CurrentCode(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := db.Pool.QueryRow(ctx, "SELECT rule_set_version FROM codes WHERE person_id = $1", pid).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if code.RuleSetVersion != "test-v3" || stored != "test-v3" {
		t.Errorf("stale code read under test-v3: version %q, stored %q", code.RuleSetVersion, stored)
	}

	// A person re-evaluated on their own keeps the behaviour without ranges:
	// the code is relabelled.
	var other int64
	if err := db.Pool.QueryRow(ctx, "SELECT max(person_id) FROM codes").Scan(&other); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ReevaluateIDs(ctx, []int64{other}, "test"); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, "SELECT rule_set_version FROM codes WHERE person_id = $1", other).Scan(&stored); err != nil || stored != "test-v3" {
		t.Errorf("singly re-evaluated code stored under %q (%v), want test-v3", stored, err)
	}

	// Re-evaluating the ranges under test-v3 replaces test-v2's rows.
	reevaluateAll(t, db, "ruleset:test-v3")
	if k := synthCount(t, db, "SELECT count(*) FROM code_evaluations WHERE rule_set_version <> 'test-v3'"); k != 0 {
		t.Errorf("%d ranges of retired versions left", k)
	}
	if k := synthCount(t, db, "SELECT count(*) FROM codes WHERE code_rule_set_version(person_id, rule_set_version) <> 'test-v3'"); k != 0 {
		t.Errorf("%d codes not under test-v3", k)
	}
}

// syntheticDB returns a DB on a fresh database with a fixed personal-data
// key and the default rule set published.
func syntheticDB(t testing.TB) *postgres.DB {
	t.Helper()
	cipher, err := pii.NewCipher([]byte("synthetic-test-key-0123456789abc"))
	if err != nil {
		t.Fatal(err)
	}
	db := &postgres.DB{Pool: pgtest.New(t), PII: cipher}
	if err := db.EnsureRuleSet(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func synthCount(t *testing.T, db *postgres.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
