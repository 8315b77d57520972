package postgres_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http/httptest"
	"testing"
	"time"

	"healthcode"
	"healthcode/demo"
	"healthcode/exchange"
	"healthcode/pii"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
)

// The daily national push: the stub fails twice, then accepts; every batch
// gets one receipt, no record arrives twice, and a day acknowledged after
// 10:00 the next morning is flagged late.
func TestNationalPush(t *testing.T) {
	t.Parallel()
	ctx := healthcode.NewContextWithActor(context.Background(), healthcode.SystemActor)
	cipher, _ := pii.NewCipher(bytes.Repeat([]byte{7}, pii.KeySize))
	clock := &healthcode.OffsetClock{}
	db := &postgres.DB{Pool: pgtest.New(t), PII: cipher, Clock: clock}
	if err := db.EnsureRuleSet(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.SeedSynthetic(ctx, db, 2500, 11); err != nil {
		t.Fatal(err)
	}
	var seededAt time.Time
	db.Pool.QueryRow(ctx, "SELECT max(updated_at) FROM codes").Scan(&seededAt)
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	stub := exchange.NewStub(pub)
	srv := httptest.NewServer(stub)
	defer srv.Close()
	push := &postgres.NationalPush{DB: db, Key: key, Sender: &exchange.Client{URL: srv.URL, KeyID: "test"}}

	// The push runs at 00:30 of the next day; the stub answers late, after 10:00.
	day := seededAt
	next := time.Date(day.In(cst).Year(), day.In(cst).Month(), day.In(cst).Day()+1, 10, 30, 0, 0, cst)
	clock.Set(next)
	stub.FailNext(2)
	for attempt := 1; attempt <= 2; attempt++ {
		if err := push.Push(ctx, day); err == nil {
			t.Fatalf("attempt %d succeeded while the receiver fails", attempt)
		}
	}
	if err := push.Push(ctx, day); err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	if err := push.Push(ctx, day); err != nil { // a repeated run changes nothing
		t.Fatal(err)
	}
	if stub.Batches() != 3 || stub.Records() != 2500 {
		t.Fatalf("stub holds %d batches and %d records, want 3 and 2500", stub.Batches(), stub.Records())
	}
	var receipts, batches int
	var late bool
	db.Pool.QueryRow(ctx, "SELECT count(receipt), count(*) FROM national_push_batches").Scan(&receipts, &batches)
	db.Pool.QueryRow(ctx, "SELECT late FROM national_pushes").Scan(&late)
	if receipts != 3 || batches != 3 || !late {
		t.Fatalf("receipts %d of %d batches, late %v; want 3 of 3, late", receipts, batches, late)
	}
	// Nothing to alert about once acknowledged.
	if alerted, err := push.CheckPush(ctx, day); err != nil || alerted {
		t.Fatalf("check after delivery: alerted %v, %v", alerted, err)
	}
	// A day with no acknowledgement by 09:30 raises the alert once.
	other := day.AddDate(0, 0, -1)
	if alerted, err := push.CheckPush(ctx, other); err != nil || !alerted {
		t.Fatalf("check of an undelivered day: alerted %v, %v", alerted, err)
	}
	if alerted, _ := push.CheckPush(ctx, other); alerted {
		t.Fatal("alerted twice")
	}
}

var cst = time.FixedZone("CST", 8*3600)
