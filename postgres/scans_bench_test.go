package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/credential"
)

// BenchmarkRecordScans: batches of 1,000 scans through RecordScans (token
// verification, venue checks, the scans as stays of the scanned persons and
// their re-evaluation included) against a raw COPY of the same rows into the
// same partitioned table, measured in the same run. It also reports the share
// of the time spent verifying signatures.
func BenchmarkRecordScans(b *testing.B) {
	ctx := context.Background()
	const batch, batches = 1000, 20
	f := newScanFixture(keepTB{b}, batch)
	pool, svc, signer, inspector, venue := f.pool, f.svc, f.signer, f.inspector, f.venue
	rows, _ := pool.Query(ctx, "SELECT code_id, name_masked, id FROM persons ORDER BY id LIMIT $1", batch)
	type person struct {
		Code, Name string
		ID         int64
	}
	people, err := pgx.CollectRows(rows, pgx.RowToStructByPos[person])
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	makeBatch := func(k int) []healthcode.ScanInput {
		out := make([]healthcode.ScanInput, batch)
		for i := range out {
			p := people[i%len(people)]
			tok, err := signer.Sign(credential.Claims{Issuer: "61", CodeID: p.Code, Colour: "GREEN", MaskedName: p.Name,
				Kind: credential.KindElectronic, IssuedAt: now, ExpiresAt: now.Add(5 * time.Minute)})
			if err != nil {
				b.Fatal(err)
			}
			temp := 36.5
			out[i] = healthcode.ScanInput{ScanID: fmt.Sprintf("%08x-0000-4000-8000-%012x", k, i), Token: tok, VenueID: venue,
				ScannedAt: now.Add(-time.Duration(i) * time.Millisecond), Temperature: &temp, Role: healthcode.ScanVisitor}
		}
		return out
	}
	// Batch 2k goes through RecordScans and batch 2k+1 is the COPY
	// baseline's: the two alternate, so that both meet the same table and
	// the same load on the machine. The first pair warms up (today's
	// partition, connections, plans) and is not timed.
	inputs := make([][]healthcode.ScanInput, 2*(batches+1))
	for k := range inputs {
		inputs[k] = makeBatch(k)
	}
	actx := f.ctx
	record := func(in []healthcode.ScanInput) time.Duration {
		start := time.Now()
		res, err := svc.RecordScans(actx, in)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Status != healthcode.ScanAccepted {
				b.Fatalf("scan not accepted: %+v", r)
			}
		}
		return time.Since(start)
	}
	copyRows := func(in []healthcode.ScanInput) time.Duration {
		start := time.Now()
		src := pgx.CopyFromSlice(len(in), func(i int) ([]any, error) {
			sc := in[i]
			p := people[i%len(people)]
			return []any{sc.ScanID, sc.ScannedAt, now, sc.VenueID, int64(1), inspector, "61", p.Code,
				p.ID, "GREEN", *sc.Temperature, sc.Role, false, "61.6101.610113"}, nil
		})
		if _, err := pool.CopyFrom(ctx, pgx.Identifier{"scans"}, []string{"scan_id", "scanned_at", "received_at", "venue_id",
			"institution_id", "inspector_id", "issuer", "code_id", "person_id", "colour", "temperature", "scan_role", "fever",
			"region_path"}, src); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	// Verification alone (on every core), to report its share.
	ks, _ := f.svc.Credentials.KeySet(ctx)
	v, _ := credential.NewVerifier(&ks, nil)
	var verifyD time.Duration
	for k := 1; k <= batches; k++ {
		in := inputs[2*k]
		items := make([]credential.BatchItem, len(in))
		for i, sc := range in {
			items[i] = credential.BatchItem{Token: sc.Token, At: sc.ScannedAt}
		}
		start := time.Now()
		for _, r := range v.VerifyBatch(items, credential.DefaultSkew) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
		verifyD += time.Since(start)
	}

	record(inputs[0])
	copyRows(inputs[1])
	b.ResetTimer()
	var serviceD, copyD time.Duration
	for k := 1; k <= batches; k++ {
		serviceD += record(inputs[2*k])
		copyD += copyRows(inputs[2*k+1])
	}
	b.StopTimer()
	n := float64(batch * batches)
	b.ReportMetric(n/serviceD.Seconds(), "scans/s")
	b.ReportMetric(n/copyD.Seconds(), "copy_scans/s")
	b.ReportMetric(copyD.Seconds()/serviceD.Seconds(), "x_baseline")
	b.ReportMetric(verifyD.Seconds()/serviceD.Seconds(), "verify_share")
}
