package demo_test

import (
	"context"
	"math"
	"reflect"
	"testing"
	"time"

	"healthcode"
	"healthcode/demo"
	"healthcode/pii"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
)

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

// synthCode is a code as stored (clauses in jsonb's normal form).
type synthCode struct {
	Colour, Clauses, Version string
	ReevaluateAt             *time.Time
}

// synthCodes reads every stored code.
func synthCodes(t *testing.T, db *postgres.DB) map[int64]synthCode {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), "SELECT person_id, colour, clauses::text, rule_set_version, reevaluate_at FROM codes")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]synthCode{}
	for rows.Next() {
		var id int64
		var c synthCode
		if err := rows.Scan(&id, &c.Colour, &c.Clauses, &c.Version, &c.ReevaluateAt); err != nil {
			t.Fatal(err)
		}
		out[id] = c
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func synthCount(t *testing.T, db *postgres.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestSeedSynthetic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := syntheticDB(t)
	const n = 2000
	got, err := demo.SeedSynthetic(ctx, db, n, 42)
	if err != nil {
		t.Fatal(err)
	}
	if got != n || synthCount(t, db, "SELECT count(*) FROM persons") != n {
		t.Fatalf("created %d, stored %d; want %d", got, synthCount(t, db, "SELECT count(*) FROM persons"), n)
	}

	// The share per city follows the census (Xi'an about 32.8%).
	census := map[string]float64{"6101": 12952907, "6102": 698322, "6103": 3321853, "6104": 3959842, "6105": 4688744,
		"6106": 2282581, "6107": 3211462, "6108": 3624750, "6109": 2493436, "6110": 2041231, "610403": 253871}
	total := 0.0
	for _, v := range census {
		total += v
	}
	rows, err := db.Pool.Query(ctx, `SELECT CASE WHEN residence_path <@ '61.6104.610403' THEN '610403'
		ELSE left(residence_code, 4) END, count(*) FROM persons GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	shares := map[string]float64{}
	for rows.Next() {
		var unit string
		var k int
		if err := rows.Scan(&unit, &k); err != nil {
			t.Fatal(err)
		}
		shares[unit] = float64(k) / n
	}
	rows.Close()
	for unit, pop := range census {
		want := pop / total
		// Four standard deviations of a binomial share.
		if tol := 4 * math.Sqrt(want*(1-want)/n); math.Abs(shares[unit]-want) > tol {
			t.Errorf("share of %s = %.3f, want %.3f ± %.3f", unit, shares[unit], want, tol)
		}
	}
	if s := shares["6101"]; s < 0.30 || s > 0.36 {
		t.Errorf("Xi'an share = %.3f, want about 0.33", s)
	}

	// Every person: exactly one ongoing residence, at their residence, and a code.
	if bad := synthCount(t, db, `SELECT count(*) FROM persons p WHERE (SELECT count(*) FROM stays s WHERE s.person_id = p.id
		AND s.source = 'RESIDENCE' AND s.to_at IS NULL AND s.retracted_at IS NULL AND s.place = p.residence_code
		AND s.place_path = p.residence_path) <> 1`); bad != 0 {
		t.Errorf("%d persons without exactly one ongoing residence stay", bad)
	}
	if bad := synthCount(t, db, "SELECT count(*) FROM persons p WHERE NOT EXISTS (SELECT 1 FROM codes c WHERE c.person_id = p.id)"); bad != 0 {
		t.Errorf("%d persons without a code", bad)
	}
	if k := synthCount(t, db, "SELECT count(*) FROM code_history WHERE cause = $1 AND from_colour IS NULL", demo.SyntheticCause); k != n {
		t.Errorf("code_history rows = %d, want %d", k, n)
	}
	if k := synthCount(t, db, "SELECT count(*) FROM persons p JOIN regions r ON r.code = p.residence_code AND r.path = p.residence_path WHERE r.level = 'COMMUNITY'"); k != n {
		t.Errorf("%d persons live in a community with a matching path, want %d", k, n)
	}

	// The mix of facts is roughly as documented.
	travel := synthCount(t, db, "SELECT count(*) FROM stays WHERE source = 'TRAVEL'")
	abroad := synthCount(t, db, "SELECT count(*) FROM stays WHERE place LIKE 'ABROAD:%'")
	health := synthCount(t, db, "SELECT count(*) FROM health_records")
	if travel < n/20 || travel > n/5 || abroad < 3 || abroad > n/40 || health < n || health > 3*n {
		t.Errorf("travel %d, abroad %d, health records %d for %d persons", travel, abroad, health, n)
	}
	red := synthCount(t, db, "SELECT count(*) FROM codes WHERE colour = 'RED'")
	yellow := synthCount(t, db, "SELECT count(*) FROM codes WHERE colour = 'YELLOW'")
	if red == 0 || yellow == 0 || red+yellow > n/5 {
		t.Errorf("red %d, yellow %d of %d: want a few of each", red, yellow, n)
	}

	// ID numbers are valid, of the residence's county, encrypted and hashed
	// like a declaration; names and phones likewise.
	rows, err = db.Pool.Query(ctx, `SELECT residence_code, doc_hash, doc_enc, doc_masked, name_enc, name_masked,
		phone_hash, phone_enc, phone_masked, address_enc FROM persons`)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	phones := 0
	for rows.Next() {
		var region, docMasked, nameMasked, phoneMasked string
		var docHash, docEnc, nameEnc, phoneHash, phoneEnc, addrEnc []byte
		if err := rows.Scan(&region, &docHash, &docEnc, &docMasked, &nameEnc, &nameMasked, &phoneHash, &phoneEnc, &phoneMasked, &addrEnc); err != nil {
			t.Fatal(err)
		}
		doc, err := db.PII.Decrypt(docEnc)
		if err != nil {
			t.Fatal(err)
		}
		if norm, err := healthcode.NormalizeDocument(healthcode.DocIDCard, doc, now); err != nil || norm != doc {
			t.Fatalf("ID number %s: %v", doc, err)
		}
		if doc[:6] != region[:6] || string(docHash) != string(db.PII.Hash("doc:ID_CARD", doc)) || docMasked != pii.MaskID(doc) {
			t.Fatalf("ID number %s of a person in %s: prefix, hash or mask wrong", doc, region)
		}
		if y := doc[6:10]; y < "1940" || y > "2020" {
			t.Fatalf("ID number %s: birth year %s outside 1940–2020", doc, y)
		}
		name, err := db.PII.Decrypt(nameEnc)
		if err != nil || nameMasked != pii.MaskName(name) || len([]rune(name)) < 2 {
			t.Fatalf("name %q masked %q: %v", name, nameMasked, err)
		}
		if _, err := db.PII.Decrypt(addrEnc); err != nil {
			t.Fatal(err)
		}
		if phoneEnc != nil {
			phones++
			phone, err := db.PII.Decrypt(phoneEnc)
			if err != nil || !healthcode.ValidPhone(phone) || phoneMasked != pii.MaskPhone(phone) || string(phoneHash) != string(db.PII.Hash("phone", phone)) {
				t.Fatalf("phone %q masked %q: %v", phone, phoneMasked, err)
			}
		}
	}
	rows.Close()
	if phones < n*8/10 {
		t.Errorf("only %d of %d persons have a phone", phones, n)
	}

	// The stored codes are what re-evaluation computes: re-evaluating
	// everyone through the workers' path changes no code and no colour.
	before := synthCodes(t, db)
	var lo, hi int64
	if err := db.Pool.QueryRow(ctx, "SELECT min(id), max(id) FROM persons").Scan(&lo, &hi); err != nil {
		t.Fatal(err)
	}
	evaluated := 0
	for from := lo; from <= hi; from += healthcode.ReevaluateBatchSize {
		k, err := db.ReevaluateRange(ctx, from, from+healthcode.ReevaluateBatchSize, "test")
		if err != nil {
			t.Fatal(err)
		}
		evaluated += k
	}
	if evaluated != n {
		t.Fatalf("re-evaluated %d persons, want %d", evaluated, n)
	}
	after := synthCodes(t, db)
	if len(after) != len(before) {
		t.Fatalf("%d codes after re-evaluation, %d before", len(after), len(before))
	}
	for id, b := range before {
		a := after[id]
		sameTime := a.ReevaluateAt == nil && b.ReevaluateAt == nil ||
			a.ReevaluateAt != nil && b.ReevaluateAt != nil && a.ReevaluateAt.Equal(*b.ReevaluateAt)
		if a.Colour != b.Colour || a.Clauses != b.Clauses || a.Version != b.Version || !sameTime {
			t.Errorf("person %d: stored %+v, re-evaluated %+v", id, b, a)
		}
	}
	if k := synthCount(t, db, "SELECT count(*) FROM code_history"); k != n {
		t.Errorf("re-evaluation recorded %d colour changes", k-n)
	}
}

// The same seed gives the same persons; seeding it again into the same
// database draws new ID numbers instead of failing.
func TestSeedSyntheticDeterministic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type plain struct{ Doc, Name, Region, Colour string }
	load := func(db *postgres.DB, minID int64) []plain {
		rows, err := db.Pool.Query(ctx, `SELECT p.doc_enc, p.name_enc, p.residence_code, c.colour FROM persons p
			JOIN codes c ON c.person_id = p.id WHERE p.id >= $1 ORDER BY p.id`, minID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []plain
		for rows.Next() {
			var docEnc, nameEnc []byte
			var p plain
			if err := rows.Scan(&docEnc, &nameEnc, &p.Region, &p.Colour); err != nil {
				t.Fatal(err)
			}
			p.Doc, _ = db.PII.Decrypt(docEnc)
			p.Name, _ = db.PII.Decrypt(nameEnc)
			out = append(out, p)
		}
		return out
	}
	a, b := syntheticDB(t), syntheticDB(t)
	const n = 300
	for _, db := range []*postgres.DB{a, b} {
		if k, err := demo.SeedSynthetic(ctx, db, n, 7); err != nil || k != n {
			t.Fatalf("seed: %d, %v", k, err)
		}
	}
	pa, pb := load(a, 0), load(b, 0)
	if len(pa) != n || !reflect.DeepEqual(pa, pb) {
		t.Fatalf("two seedings with the same seed differ (%d and %d persons)", len(pa), len(pb))
	}
	var next int64
	if err := a.Pool.QueryRow(ctx, "SELECT max(id) + 1 FROM persons").Scan(&next); err != nil {
		t.Fatal(err)
	}
	if k, err := demo.SeedSynthetic(ctx, a, n, 7); err != nil || k != n {
		t.Fatalf("seeding the same seed again: %d, %v", k, err)
	}
	again := load(a, next)
	if len(again) != n {
		t.Fatalf("second seeding stored %d persons, want %d", len(again), n)
	}
	for i := range again {
		if again[i].Doc == pa[i].Doc || again[i].Name != pa[i].Name || again[i].Region != pa[i].Region {
			t.Fatalf("person %d of the second seeding: %+v, first: %+v", i, again[i], pa[i])
		}
	}
	if k := synthCount(t, a, "SELECT count(DISTINCT doc_hash) FROM persons"); k != 2*n {
		t.Fatalf("%d distinct ID numbers, want %d", k, 2*n)
	}
}

func TestSeedSyntheticArguments(t *testing.T) {
	t.Parallel()
	db := &postgres.DB{}
	if _, err := demo.SeedSynthetic(context.Background(), db, 10, 1); healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Fatalf("without a cipher: %v, want INVALID", err)
	}
	cipher, _ := pii.NewCipher(make([]byte, pii.KeySize))
	db.PII = cipher
	if _, err := demo.SeedSynthetic(context.Background(), db, -1, 1); healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Fatalf("negative count: %v, want INVALID", err)
	}
	if k, err := demo.SeedSynthetic(context.Background(), db, 0, 1); k != 0 || err != nil {
		t.Fatalf("zero persons: %d, %v", k, err)
	}
}
