package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"healthcode/credential"
)

// With the dev clock 15 days ahead, a token the dev platform signs verifies
// offline: `healthcode verify` takes its time from the dev clock that
// `healthcode dev` mirrors into HEALTHCODE_DATA_DIR (or from --at); without
// it the token is not yet valid on the wall clock.
func TestVerifyOnTheDevClock(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HEALTHCODE_DATA_DIR", dir)
	ring, err := credential.NewMemoryKeyRing(credential.IssuerProvince)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := credential.NewSigner(ring)
	if err != nil {
		t.Fatal(err)
	}
	offset := 15 * 24 * time.Hour
	devNow := time.Now().Add(offset).Truncate(time.Second)
	token, err := signer.Sign(credential.Claims{Issuer: ring.Issuer(), CodeID: "hc_1", Colour: "GREEN", MaskedName: "张*丰",
		Kind: credential.KindElectronic, IssuedAt: devNow, ExpiresAt: devNow.Add(5 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := json.Marshal(credential.BuildKeySet(ring, nil, devNow)) // keys.json as the dev platform serves it
	keys := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(keys, ks, 0o600); err != nil {
		t.Fatal(err)
	}
	verify := func(extra ...string) (bool, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		valid, err := verifyOffline(append([]string{token, "--keys", keys}, extra...), &out, &errOut)
		if err != nil {
			t.Fatal(err)
		}
		return valid, out.String() + errOut.String()
	}
	if valid, out := verify(); valid || !strings.Contains(out, "NOT_YET_VALID") {
		t.Fatalf("on the wall clock: %v %s, want NOT_YET_VALID", valid, out)
	}
	if err := writeDevClock(dir, offset); err != nil { // what `healthcode dev` does when the clock moves
		t.Fatal(err)
	}
	if valid, out := verify(); !valid || !strings.Contains(out, "按开发时钟核验") {
		t.Fatalf("on the dev clock: %v %s, want valid", valid, out)
	}
	if valid, out := verify("--at", time.Now().Format(time.RFC3339)); valid {
		t.Fatalf("--at now: %v %s, want not yet valid", valid, out)
	}
	if valid, out := verify("--at", devNow.Add(time.Minute).Format(time.RFC3339)); !valid {
		t.Fatalf("--at the dev time: %v %s, want valid", valid, out)
	}
	if valid, out := verify("--at", devNow.Add(10*time.Minute).Format(time.RFC3339)); valid || !strings.Contains(out, "EXPIRED") {
		t.Fatalf("--at after the expiry: %v %s, want EXPIRED", valid, out)
	}
}
