package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"healthcode"
	"healthcode/credential"
	"healthcode/demo"
	"healthcode/pii"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
	"healthcode/rbac"
)

// scanFixture: persons with codes, an institution with one venue and its
// inspector, and a signer of our own tokens.
type scanFixture struct {
	pool      *pgxpool.Pool
	svc       *postgres.ScanService
	signer    *credential.Signer
	ctx       context.Context // the inspector's
	inspector int64
	venue     int64
	tokens    []string // one per person
	now       time.Time
}

func newScanFixture(t testing.TB, persons int) *scanFixture {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.New(t)
	cipher, _ := pii.NewCipher(bytes.Repeat([]byte{7}, pii.KeySize))
	db := &postgres.DB{Pool: pool, PII: cipher}
	if err := db.EnsureRuleSet(healthcode.NewContextWithActor(ctx, healthcode.SystemActor)); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.SeedSynthetic(ctx, db, persons, 7); err != nil {
		t.Fatal(err)
	}
	var inspector, venue int64
	err := pool.QueryRow(ctx, `WITH i AS (INSERT INTO institutions (name, credit_code, region_code, region_path, contact_name, created_by, created_at)
			SELECT '测试机构', '916100000000000001', code, path, '联系人', 'test', now() FROM regions WHERE code = '610113' RETURNING id),
		v AS (INSERT INTO venues (institution_id, name, type, region_code, region_path, created_by, created_at)
			SELECT i.id, '入口', 'INDOOR_PUBLIC', '610113', '61.6101.610113', 'test', now() FROM i RETURNING id, institution_id),
		s AS (INSERT INTO staff (username, display_name, password_hash, region_code, region_path)
			VALUES ('test_inspector', '防疫员', 'x', '610113', '61.6101.610113') RETURNING id),
		m AS (INSERT INTO institution_members (staff_id, institution_id, role, created_by, created_at)
			SELECT s.id, v.institution_id, 'INSPECTOR', 'test', now() FROM s, v RETURNING staff_id)
		SELECT (SELECT staff_id FROM m), (SELECT id FROM v)`).Scan(&inspector, &venue)
	if err != nil {
		t.Fatal(err)
	}
	enforcer, _ := rbac.New(func(context.Context) ([]healthcode.Grant, error) {
		return []healthcode.Grant{{ID: 1, StaffID: inspector, Role: healthcode.RoleInspector, RegionCode: "610113"}}, nil
	})
	db.Authz = enforcer
	ring, _ := credential.NewMemoryKeyRing(credential.IssuerProvince)
	creds := &postgres.CredentialService{DB: db, Ring: ring}
	signer, _ := credential.NewSigner(ring)
	rows, _ := pool.Query(ctx, "SELECT code_id, name_masked FROM persons ORDER BY id")
	type person struct{ Code, Name string }
	people, err := pgx.CollectRows(rows, pgx.RowToStructByPos[person])
	if err != nil {
		t.Fatal(err)
	}
	f := &scanFixture{pool: pool, svc: &postgres.ScanService{DB: db, Credentials: creds}, signer: signer, inspector: inspector, venue: venue,
		now: time.Now().Truncate(time.Second),
		ctx: healthcode.NewContextWithActor(ctx, &healthcode.Actor{Kind: healthcode.ActorStaff, ID: inspector, Name: "inspector"})}
	for _, p := range people {
		tok, err := signer.Sign(credential.Claims{Issuer: "61", CodeID: p.Code, Colour: "GREEN", MaskedName: p.Name,
			Kind: credential.KindElectronic, IssuedAt: f.now, ExpiresAt: f.now.Add(5 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		f.tokens = append(f.tokens, tok)
	}
	return f
}

// batch returns scans k*1000+i for i in [from, to), person i.
func (f *scanFixture) batch(k, from, to int) []healthcode.ScanInput {
	var out []healthcode.ScanInput
	for i := from; i < to; i++ {
		temp := 36.5
		out = append(out, healthcode.ScanInput{ScanID: fmt.Sprintf("%08x-0000-4000-8000-%012x", k, i), Token: f.tokens[i%len(f.tokens)],
			VenueID: f.venue, ScannedAt: f.now.Add(-time.Duration(i) * time.Millisecond), Temperature: &temp, Role: healthcode.ScanVisitor})
	}
	return out
}

func (f *scanFixture) count(t *testing.T, sql string) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantCount reports an error when sql counts other than want rows.
func (f *scanFixture) wantCount(t *testing.T, want int, sql string) {
	t.Helper()
	if n := f.count(t, sql); n != want {
		t.Errorf("%s: %d, want %d", sql, n, want)
	}
}

func statuses(res []healthcode.ScanResult) map[string]int {
	out := map[string]int{}
	for _, r := range res {
		out[r.Status]++
	}
	return out
}

// Per-scan answers are exact in a batch that mixes new scans, scans uploaded
// before and a scan repeated within the batch; each new scan is written once
// and is its person's stay.
func TestRecordScansDuplicates(t *testing.T) {
	f := newScanFixture(t, 20)
	if _, err := f.svc.RecordScans(f.ctx, f.batch(1, 0, 10)); err != nil {
		t.Fatal(err)
	}
	in := append(f.batch(1, 5, 15), f.batch(1, 12, 13)...) // 5..9 uploaded before, 12 twice
	res, err := f.svc.RecordScans(f.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		want := healthcode.ScanAccepted
		if i < 5 || i == len(in)-1 {
			want = healthcode.ScanDuplicate
		}
		if r.Status != want || r.ScanID != in[i].ScanID {
			t.Errorf("scan %d (%s) = %+v, want %s", i, in[i].ScanID, r, want)
		}
	}
	// A first upload that repeats a scan of its own (written by COPY).
	first := append(f.batch(3, 0, 3), f.batch(3, 1, 2)...)
	res, err = f.svc.RecordScans(f.ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(res); got[healthcode.ScanAccepted] != 3 || got[healthcode.ScanDuplicate] != 1 || res[3].Status != healthcode.ScanDuplicate {
		t.Errorf("first upload with a repeat: %+v", res)
	}
	f.wantCount(t, 18, "SELECT count(*) FROM scans")
	// Each scan is its person's stay, with a fact id of its own; a normal
	// temperature is no health record (it can change no colour).
	f.wantCount(t, 18, "SELECT count(DISTINCT stay_id) FROM scans WHERE person_id IS NOT NULL")
	f.wantCount(t, 0, "SELECT count(*) FROM stays WHERE source = 'SCAN'")
	f.wantCount(t, 0, "SELECT count(*) FROM health_records WHERE source = 'SCAN'")
	f.wantCount(t, 18, "SELECT count(*) FROM scans WHERE person_id IS NOT NULL AND region_path = '61.6101.610113'")
}

// Several uploads of the same batch at once accept each scan exactly once
// and write it (its person's stay) once.
func TestRecordScansConcurrentUploads(t *testing.T) {
	f := newScanFixture(t, 20)
	in := f.batch(2, 0, 20)
	var wg sync.WaitGroup
	results := make([][]healthcode.ScanResult, 4)
	for w := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.svc.RecordScans(f.ctx, in)
			if err != nil {
				t.Error(err)
			}
			results[w] = res
		}()
	}
	wg.Wait()
	accepted := map[string]int{}
	for _, res := range results {
		for _, r := range res {
			if r.Status == healthcode.ScanAccepted {
				accepted[r.ScanID]++
			} else if r.Status != healthcode.ScanDuplicate {
				t.Errorf("scan %s: %+v", r.ScanID, r)
			}
		}
	}
	for _, sc := range in {
		if accepted[sc.ScanID] != 1 {
			t.Errorf("scan %s accepted %d times", sc.ScanID, accepted[sc.ScanID])
		}
	}
	f.wantCount(t, 20, "SELECT count(DISTINCT stay_id) FROM scans WHERE person_id IS NOT NULL")
	f.wantCount(t, 20, "SELECT count(*) FROM scans")
}

// Uploads never wait on each other for connections: with every connection
// of the pool taken by an upload's transaction, none of them waits for a
// second connection to look up its persons (a deadlock until the request's
// deadline, seen with four concurrent uploads on a pool of four).
func TestRecordScansPoolExhausted(t *testing.T) {
	f := newScanFixture(t, 20)
	cfg := f.pool.Config()
	cfg.MaxConns = 1
	small, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(small.Close)
	f.svc.DB.Pool = small
	ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.svc.RecordScans(ctx, f.batch(2, w*5, w*5+5)); err != nil {
				t.Errorf("upload %d: %v", w, err)
			}
		}()
	}
	wg.Wait()
	f.wantCount(t, 20, "SELECT count(*) FROM scans")
}

// A token whose signature fails is rejected as BAD_SIGNATURE and is not
// stored, although the batch's scans were written before the signatures
// were settled; the rest of the batch is stored once.
func TestRecordScansForgedSignature(t *testing.T) {
	f := newScanFixture(t, 10)
	in := f.batch(4, 0, 10)
	tok := []byte(in[3].Token)
	k := len(tok) - 10 // inside the signature
	if tok[k] == 'A' {
		tok[k] = 'B'
	} else {
		tok[k] = 'A'
	}
	in[3].Token = string(tok)
	res, err := f.svc.RecordScans(f.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if i == 3 {
			if r.Status != healthcode.ScanRejected || r.Reason != credential.ReasonBadSignature || r.Colour != "" {
				t.Errorf("forged scan = %+v", r)
			}
		} else if r.Status != healthcode.ScanAccepted || r.Colour != healthcode.Green {
			t.Errorf("scan %d = %+v", i, r)
		}
	}
	f.wantCount(t, 9, "SELECT count(*) FROM scans")
	f.wantCount(t, 0, fmt.Sprintf("SELECT count(*) FROM scans WHERE scan_id = '%s'", in[3].ScanID))
}
