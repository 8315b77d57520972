package credential

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"healthcode"
)

func kids(keys []JWK) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.Kid)
	}
	return out
}

func TestKeyID(t *testing.T) {
	ring, _ := NewMemoryKeyRing("61")
	a := ring.Active()
	pub, err := a.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	if a.Kid != KeyID(pub) || len(a.Kid) != 11 { // 8 bytes → 11 base64url characters
		t.Fatalf("kid %q", a.Kid)
	}
}

func TestRotation(t *testing.T) {
	ring, _ := NewMemoryKeyRing("61")
	s, _ := NewSigner(ring)
	oldKid := ring.Active().Kid

	// A paper code signed with the old key just before the rotation.
	paper := claimsAt("61", t0, PaperTokenLifetime)
	paper.Kind = KindPaper
	oldTok := mustSign(t, s, paper)

	lifetime := PaperTokenLifetime + DefaultSkew
	newKid, err := ring.Rotate(t0, lifetime)
	if err != nil {
		t.Fatal(err)
	}
	if newKid == oldKid || ring.Active().Kid != newKid {
		t.Fatalf("active %q after rotation to %q", ring.Active().Kid, newKid)
	}
	newTok := mustSign(t, s, claimsAt("61", t0, 5*time.Minute))
	if h := segment(t, newTok, 0); h["kid"] != newKid {
		t.Fatalf("signer did not follow the rotation: kid %v", h["kid"])
	}

	until := t0.Add(lifetime)
	// Until now+lifetime both keys are published and the old token verifies
	// against a freshly built key set.
	for _, at := range []time.Time{t0, t0.Add(7 * 24 * time.Hour), until.Add(-time.Second)} {
		if got := kids(ring.PublicKeys(at)); !slices.Contains(got, oldKid) || !slices.Contains(got, newKid) {
			t.Fatalf("published at %v: %v", at, got)
		}
		ks := BuildKeySet(ring, nil, at)
		if _, err := Verify(oldTok, &ks, nil, at, DefaultSkew); err != nil {
			t.Fatalf("old token at %v: %v", at, err)
		}
	}
	ks := BuildKeySet(ring, nil, t0)
	for _, k := range ks.Keys {
		if k.Kid == oldKid && (k.NotAfter == nil || !k.NotAfter.Equal(until)) {
			t.Fatalf("old key NotAfter = %v, want %v", k.NotAfter, until)
		}
		if k.Kid == newKid && k.NotAfter != nil {
			t.Fatalf("active key has NotAfter %v", k.NotAfter)
		}
	}

	// Nothing to prune before the end of publication.
	if removed, err := ring.Prune(until.Add(-time.Second)); err != nil || len(removed) != 0 {
		t.Fatalf("early prune removed %v (%v)", removed, err)
	}
	// From now+lifetime on the old key is no longer published, and Prune drops it.
	if got := kids(ring.PublicKeys(until)); !slices.Equal(got, []string{newKid}) {
		t.Fatalf("published at the end: %v", got)
	}
	removed, err := ring.Prune(until)
	if err != nil || !slices.Equal(removed, []string{oldKid}) {
		t.Fatalf("prune removed %v (%v)", removed, err)
	}
	if got := kids(ring.PublicKeys(t0)); !slices.Equal(got, []string{newKid}) {
		t.Fatalf("after prune: %v", got)
	}
	ksAfter := BuildKeySet(ring, nil, until)
	_, err = Verify(oldTok, &ksAfter, nil, until, 0)
	wantReason(t, err, ReasonUnknownKey)
	// A scanner still holding the old set rejects the key after NotAfter+skew.
	_, err = Verify(oldTok, &ks, nil, until.Add(DefaultSkew+time.Second), DefaultSkew)
	wantReason(t, err, ReasonUnknownKey)

	if _, err := ring.Rotate(t0, 0); healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Fatalf("zero lifetime: %v", err)
	}
}

func TestKeyRingPersists(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadKeyRing(dir, "61", false); err == nil {
		t.Fatal("empty directory without create: no error")
	}
	ring, err := LoadKeyRing(dir, "61", true)
	if err != nil {
		t.Fatal(err)
	}
	first := ring.Active().Kid
	path := filepath.Join(dir, "signing", first+".json")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %o, want 600", info.Mode().Perm())
	}
	if di, _ := os.Stat(filepath.Join(dir, "signing")); di.Mode().Perm() != 0o700 {
		t.Fatalf("key dir mode %o, want 700", di.Mode().Perm())
	}
	var f map[string]any
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &f); err != nil || f["kty"] != "OKP" || f["d"] == "" || f["iss"] != "61" {
		t.Fatalf("key file %s (%v)", data, err)
	}

	s, _ := NewSigner(ring)
	paper := claimsAt("61", t0, PaperTokenLifetime)
	paper.Kind = KindPaper
	tok := mustSign(t, s, paper)

	// Reloading gives the same key, without creating another.
	again, err := LoadKeyRing(dir, "61", true)
	if err != nil || again.Active().Kid != first {
		t.Fatalf("reload: %v %v", again, err)
	}
	ks := BuildKeySet(again, nil, t0)
	if _, err := Verify(tok, &ks, nil, t0, 0); err != nil {
		t.Fatalf("token from before the reload: %v", err)
	}

	// Rotation and pruning persist too.
	second, err := again.Rotate(t0.Add(time.Hour), PaperTokenLifetime)
	if err != nil {
		t.Fatal(err)
	}
	third, err := LoadKeyRing(dir, "61", false)
	if err != nil {
		t.Fatal(err)
	}
	if third.Active().Kid != second {
		t.Fatalf("active after reload %q, want %q", third.Active().Kid, second)
	}
	pub := third.PublicKeys(t0.Add(2 * time.Hour))
	if len(pub) != 2 {
		t.Fatalf("published after reload: %+v", pub)
	}
	for _, k := range pub {
		switch {
		case k.Kid == first && k.NotAfter != nil && k.NotAfter.Equal(t0.Add(time.Hour+PaperTokenLifetime)):
		case k.Kid == second && k.NotAfter == nil:
		default:
			t.Fatalf("published after reload: %+v", pub)
		}
	}
	if _, err := third.Prune(t0.Add(time.Hour + PaperTokenLifetime)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("pruned key file still there: %v", err)
	}
	fourth, err := LoadKeyRing(dir, "61", false)
	if err != nil || !slices.Equal(kids(fourth.PublicKeys(t0)), []string{second}) {
		t.Fatalf("after prune and reload: %v", err)
	}

	// Another issuer's directory, a loose mode and a corrupt file are refused.
	if _, err := LoadKeyRing(dir, "6101", true); err == nil || !strings.Contains(err.Error(), "belongs to issuer") {
		t.Fatalf("other issuer: %v", err)
	}
	keyPath := filepath.Join(dir, "signing", second+".json")
	if err := os.Chmod(keyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyRing(dir, "61", false); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("mode 0644: %v", err)
	}
	if err := os.Chmod(keyPath, 0o600); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(keyPath)
	if err := os.WriteFile(keyPath, []byte(strings.Replace(string(data), `"kty"`, `"ktx"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyRing(dir, "61", false); err == nil {
		t.Fatal("corrupt key file accepted")
	}
}

func TestInterruptedRotation(t *testing.T) {
	// Two unretired keys on disk (a rotation that crashed between its writes):
	// the newer one is active and the next rotation retires both.
	dir := t.TempDir()
	ring, _ := LoadKeyRing(dir, "61", true)
	older := ring.Active().Kid
	k := newRingKey(time.Now().Add(time.Hour))
	if err := ring.persist(k); err != nil {
		t.Fatal(err)
	}
	again, err := LoadKeyRing(dir, "61", false)
	if err != nil || again.Active().Kid != k.kid {
		t.Fatalf("active %v err %v", again.Active().Kid, err)
	}
	now := time.Now().Add(2 * time.Hour)
	if _, err := again.Rotate(now, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, j := range again.PublicKeys(now) {
		if (j.Kid == older || j.Kid == k.kid) && j.NotAfter == nil {
			t.Fatalf("key %s still published without limit", j.Kid)
		}
	}
}

func TestNewMemoryKeyRingValidates(t *testing.T) {
	for _, bad := range []string{"", "Sixty-One", "61/01", strings.Repeat("6", 33)} {
		if _, err := NewMemoryKeyRing(bad); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestSignDuringRotation(t *testing.T) {
	ring, _ := NewMemoryKeyRing("61")
	s, _ := NewSigner(ring)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			if _, err := ring.Rotate(t0.Add(time.Duration(i)*time.Minute), time.Hour); err != nil {
				t.Error(err)
				return
			}
			ring.Prune(t0.Add(time.Duration(i) * time.Minute))
		}
	}()
	for range 200 {
		tok := mustSign(t, s, claimsAt("61", t0, time.Minute))
		kid := segment(t, tok, 0)["kid"].(string)
		found := false
		for _, k := range ring.PublicKeys(t0) {
			found = found || k.Kid == kid
		}
		if !found {
			t.Fatalf("token signed with unpublished key %s", kid)
		}
	}
	<-done
}

// Rotation without downtime for offline scanners: Prepublish publishes the
// next key while the active one keeps signing (the scanners learn it at
// their next refresh); a replica loading the directory then still signs
// with the old key; Rotate activates exactly the published key, so every
// token signed after the rotation verifies against a key set fetched
// before it.
func TestPrepublishedRotation(t *testing.T) {
	dir := t.TempDir()
	ring, err := LoadKeyRing(dir, "61", true)
	if err != nil {
		t.Fatal(err)
	}
	oldKid := ring.Active().Kid
	next, err := ring.Prepublish(t0)
	if err != nil || next == oldKid {
		t.Fatalf("Prepublish = %q, %v", next, err)
	}
	if again, err := ring.Prepublish(t0.Add(time.Hour)); err != nil || again != next {
		t.Fatalf("second Prepublish = %q, %v; want the same standby %q", again, err, next)
	}
	if ring.Active().Kid != oldKid || ring.Standby() != next {
		t.Fatalf("after Prepublish: active %q, standby %q", ring.Active().Kid, ring.Standby())
	}
	if got := kids(ring.PublicKeys(t0)); !slices.Contains(got, next) || !slices.Contains(got, oldKid) {
		t.Fatalf("published after Prepublish: %v", got)
	}
	// A scanner fetches the key set now, before the rotation.
	scannerSet := BuildKeySet(ring, nil, t0)

	replica, err := LoadKeyRing(dir, "61", false)
	if err != nil || replica.Active().Kid != oldKid || replica.Standby() != next {
		t.Fatalf("replica loading the directory: active %q standby %q, %v", replica.Active().Kid, replica.Standby(), err)
	}
	if removed, err := ring.Prune(t0.Add(365 * 24 * time.Hour)); err != nil || len(removed) != 0 {
		t.Fatalf("prune removed %v (%v)", removed, err)
	}

	at := t0.Add(24 * time.Hour)
	kid, err := ring.Rotate(at, PaperTokenLifetime+DefaultSkew)
	if err != nil || kid != next || ring.Active().Kid != next || ring.Standby() != "" {
		t.Fatalf("Rotate = %q, %v; active %q; want the prepublished %q", kid, err, ring.Active().Kid, next)
	}
	reloaded, err := LoadKeyRing(dir, "61", false)
	if err != nil || reloaded.Active().Kid != next {
		t.Fatalf("reloaded after rotation: %v, %v", reloaded.Active().Kid, err)
	}
	s, _ := NewSigner(reloaded)
	tok := mustSign(t, s, claimsAt("61", at, 5*time.Minute))
	if _, err := Verify(tok, &scannerSet, nil, at, DefaultSkew); err != nil {
		t.Fatalf("a token of the new key against the key set fetched before the rotation: %v", err)
	}
	// Without Prepublish, the same scanner would not know a fresh key.
	fresh, err := ring.Rotate(at.Add(time.Hour), PaperTokenLifetime+DefaultSkew)
	if err != nil || fresh == next {
		t.Fatal(err)
	}
	s2, _ := NewSigner(ring)
	_, err = Verify(mustSign(t, s2, claimsAt("61", at.Add(time.Hour), 5*time.Minute)), &scannerSet, nil, at.Add(time.Hour), DefaultSkew)
	wantReason(t, err, ReasonUnknownKey)
}
