package graph_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"healthcode/graph/apitest"
	"healthcode/pii"
	"healthcode/postgres"
)

// sealLegacy seals v as the platform did before ciphertexts carried a key
// id: nonce | AES-GCM under the key derived from master, no header.
func sealLegacy(t *testing.T, master []byte, v string) []byte {
	t.Helper()
	k, err := hkdf.Key(sha256.New, master, nil, "healthcode pii encryption v1", 32)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(k)
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, []byte(v), nil)
}

// Issue 12 §6: the personal-data key rotates without downtime. Data written
// under key 1 (some in the format from before key ids) stays readable while
// key 2 is added, made current and every sealed column re-encrypted by
// Rekey (interrupted once and resumed, with the API answering reads
// meanwhile); then key 1 leaves the ring and every record still reads,
// lookups by phone still find people, and a colour change request sealed
// under key 1 is approved. A value under a key outside the ring stops
// Rekey with an error naming the row, the column and the key.
func TestPersonalDataKeyRotation(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	ctx := context.Background()
	home := s.community("610113")
	lookup, err := pii.LookupKeyFromMaster(apitest.TestKey)
	if err != nil {
		t.Fatal(err)
	}
	key2 := bytes.Repeat([]byte{8}, pii.KeySize)
	use := func(current uint32, keys map[uint32][]byte) {
		t.Helper()
		c, err := pii.NewKeyring(keys, current, lookup)
		if err != nil {
			t.Fatal(err)
		}
		s.DB.PII = c
	}
	_, operator := s.CreateStaff(t, "rekey_operator", "61", apitest.G("OPERATOR@61"))

	type person struct{ token, id, name, phone, doc, employer string }
	var people []person
	add := func(i int) {
		t.Helper()
		phone := fmt.Sprintf("138001387%02d", i)
		_, token := s.CreateResident(t, phone)
		p := person{token: token, name: []string{"赵", "钱", "孙", "李", "周", "吴", "郑", "王", "冯", "陈", "褚", "卫", "蒋"}[i] + "轮换",
			phone: phone, doc: idNumber(fmt.Sprintf("610113199001017%02d", i)), employer: fmt.Sprintf("西安市第%d医院", i+1)}
		p.id, _ = s.declare(token, declaration(p.name, p.doc, phone, home, map[string]any{"form": "PUBLIC_SECTOR", "employer": p.employer}))
		s.Do(t, operator, `mutation($p: ID!, $ph: String!) { createTicket(input: {kind: CONSULTATION, personId: $p, callerPhone: $ph, subject: "咨询", description: "转码"}) { id } }`,
			map[string]any{"p": p.id, "ph": phone}).MustData(t)
		people = append(people, p)
	}
	read := func(stage string) {
		t.Helper()
		for _, p := range people {
			var got map[string]any
			for _, d := range s.Do(t, p.token, `query { myDependents { id name docNumber phone address employer } }`, nil).MustData(t)["myDependents"].([]any) {
				if d := d.(map[string]any); d["id"] == p.id {
					got = d
				}
			}
			if got == nil || got["name"] != p.name || got["docNumber"] != p.doc || got["phone"] != p.phone ||
				got["address"] != "1号楼1单元101" || got["employer"] != p.employer {
				t.Fatalf("%s: person %s reads %v", stage, p.id, got)
			}
			found := s.Do(t, operator, `query($ph: String) { findPersons(phone: $ph) { id } }`, map[string]any{"ph": p.phone}).MustData(t)["findPersons"].([]any)
			if len(found) != 1 || found[0].(map[string]any)["id"] != p.id {
				t.Fatalf("%s: lookup by phone %s finds %v", stage, p.phone, found)
			}
		}
	}

	// Key 1: ten persons, one name in the format from before key ids, and a
	// pending colour change request (its payload sealed).
	for i := range 10 {
		add(i)
	}
	if _, err := s.Pool.Exec(ctx, `UPDATE persons SET name_enc = $2 WHERE id = $1`, people[0].id, sealLegacy(t, apitest.TestKey, people[0].name)); err != nil {
		t.Fatal(err)
	}
	_, officer := s.CreateStaff(t, "rekey_officer", "610113", apitest.G("HEALTH_OFFICER@610113"))
	s.Do(t, officer, `mutation($p: ID!) { recordMedicalEvent(personId: $p, kind: CONFIRMED) { colour } }`, map[string]any{"p": people[1].id}).MustData(t)
	// A staff phone and an institution's contact phone, sealed under key 1.
	s.checkpoint(t, "轮换医院", "610113")
	if _, err := s.Pool.Exec(ctx, `UPDATE staff SET phone_enc = $1`, s.DB.PII.Encrypt("19900000001")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool.Exec(ctx, `UPDATE institutions SET contact_phone_enc = $1`, s.DB.PII.Encrypt("02988888888")); err != nil {
		t.Fatal(err)
	}
	read("key 1")

	// Step 1: every replica learns key 2; step 2: key 2 becomes current.
	use(1, map[uint32][]byte{1: apitest.TestKey, 2: key2})
	read("key 2 as a read key")
	use(2, map[uint32][]byte{1: apitest.TestKey, 2: key2})
	add(10)
	read("key 2 current")

	// Step 3: rekey, interrupted after two batches, then resumed while the
	// API answers reads.
	cctx, cancel := context.WithCancel(ctx)
	batches := 0
	if _, err := s.DB.Rekey(cctx, postgres.RekeyOptions{BatchSize: 3, Progress: func(postgres.RekeyProgress) {
		if batches++; batches == 2 {
			cancel()
		}
	}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted rekey: %v", err)
	}
	var resumeFrom int64
	if err := s.Pool.QueryRow(ctx, `SELECT last_id FROM pii_rekey_progress WHERE key_id = 2 AND table_name = 'persons'`).Scan(&resumeFrom); err != nil || resumeFrom == 0 {
		t.Fatalf("saved progress = %d, %v", resumeFrom, err)
	}
	var done atomic.Bool
	reads := 0
	go func() {
		defer done.Store(true)
		res, err := s.DB.Rekey(ctx, postgres.RekeyOptions{BatchSize: 3})
		if err != nil {
			t.Errorf("rekey: %v", err)
			return
		}
		if res[0].Table != "persons" || res[0].Scanned >= len(people) {
			t.Errorf("resumed rekey scanned %d persons of %d: did not resume", res[0].Scanned, len(people))
		}
	}()
	for !done.Load() {
		read("during rekey")
		reads++
	}
	t.Logf("%d rounds of reads during the rekey", reads)

	// Check before removing key 1: a dry run from the start finds nothing
	// left under key 1.
	res, err := s.DB.Rekey(ctx, postgres.RekeyOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	tables := 0
	for _, p := range res {
		if p.Rewritten != 0 || p.ByKey[1] != 0 {
			t.Errorf("after rekey, %s: %d rows still under key 1 (%v)", p.Table, p.Rewritten, p.ByKey)
		}
		if p.ByKey[2] > 0 {
			tables++
		}
	}
	if tables != 6 {
		t.Errorf("values under key 2 in %d tables: %+v", tables, res)
	}
	var audited int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'pii.rekey'`).Scan(&audited); err != nil || audited == 0 {
		t.Fatalf("pii.rekey audit records: %d, %v", audited, err)
	}

	// Step 4: key 1 leaves the ring.
	use(2, map[uint32][]byte{2: key2})
	read("without key 1")
	if n := s.approvePending(t, "610113"); n != 1 {
		t.Fatalf("approved %d colour change requests sealed under key 1, want 1", n)
	}
	if c := s.colourOf(t, officer, people[1].id); c != "RED" {
		t.Fatalf("colour after the approval of a request sealed under key 1: %s", c)
	}

	// A value under a key the ring does not hold.
	stray, err := pii.NewKeyring(map[uint32][]byte{3: bytes.Repeat([]byte{9}, pii.KeySize)}, 3, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool.Exec(ctx, `UPDATE persons SET address_enc = $2 WHERE id = $1`, people[2].id, stray.Encrypt("x")); err != nil {
		t.Fatal(err)
	}
	_, err = s.DB.Rekey(ctx, postgres.RekeyOptions{DryRun: true})
	if !errors.Is(err, pii.ErrUnknownKey) || !strings.Contains(err.Error(), "persons id "+people[2].id+" column address_enc") ||
		!strings.Contains(err.Error(), "key 3") {
		t.Fatalf("rekey over a value under key 3: %v", err)
	}
}
