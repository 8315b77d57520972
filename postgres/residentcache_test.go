package postgres

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"healthcode"
)

var cacheT0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func cacheKey(i int) [32]byte { return sha256.Sum256(fmt.Appendf(nil, "hcr_%d", i)) }

func cacheEntry(account, person int64, filled time.Time) *residentEntry {
	e := &residentEntry{sessionID: account * 10, accountID: account, masked: "138****0000", expiresAt: filled.Add(30 * 24 * time.Hour), filled: filled}
	if person != 0 {
		e.row.pid = &person
	}
	return e
}

// liveCache returns a cache whose listener is (as if) connected.
func liveCache(entries int, ttl time.Duration) *ResidentCache {
	c := NewResidentCache(entries, ttl)
	c.setLive(true)
	return c
}

// An entry is served only while the listener is connected, before the
// session expires, before the code is due, and younger than the TTL (by
// the injected clock, never from the future).
func TestResidentCacheServesOnlyWhileValid(t *testing.T) {
	c := NewResidentCache(100, time.Minute)
	k := cacheKey(1)
	c.put(k, cacheEntry(1, 11, cacheT0), c.begin())
	if c.get(k, cacheT0) != nil || c.Stats().Entries != 0 {
		t.Fatal("a cache whose listener never connected kept or served an entry")
	}
	c.setLive(true)
	e := cacheEntry(1, 11, cacheT0)
	due := cacheT0.Add(30 * time.Second)
	e.row.reevaluateAt = &due
	e.expiresAt = cacheT0.Add(20 * time.Second)
	c.put(k, e, c.begin())
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {19 * time.Second, true}, {20 * time.Second, false}, {-time.Second, false}} {
		if got := c.get(k, cacheT0.Add(tc.at)) != nil; got != tc.want {
			t.Fatalf("get at +%s (session until +20s) = %v, want %v", tc.at, got, tc.want)
		}
	}
	e.expiresAt = cacheT0.Add(time.Hour)
	if c.get(k, cacheT0.Add(29*time.Second)) == nil || c.get(k, due) != nil {
		t.Fatal("a code due at +30s: want served before, not at")
	}
	e.row.reevaluateAt = nil
	if c.get(k, cacheT0.Add(59*time.Second)) == nil || c.get(k, cacheT0.Add(time.Minute)) != nil {
		t.Fatal("TTL 1m: want served at +59s, not at +1m")
	}
	// A disconnection empties the cache and stops it serving; the
	// reconnection serves what is read after it only.
	c.setLive(false)
	if c.get(k, cacheT0) != nil || c.Stats().Entries != 0 {
		t.Fatal("served or kept while disconnected")
	}
	c.put(k, cacheEntry(1, 11, cacheT0), c.begin())
	if c.Stats().Entries != 0 {
		t.Fatal("kept a read made while disconnected")
	}
	c.setLive(true)
	if c.get(k, cacheT0) != nil {
		t.Fatal("served an entry from before the reconnection")
	}
	st := c.Stats()
	if st.Hits == 0 || st.Misses == 0 || st.Discarded != 2 {
		t.Fatalf("stats = %+v", st)
	}
}

// A read that overlapped an invalidation is not kept, whatever it named; one
// that did not is.
func TestResidentCacheSequenceGuardsFills(t *testing.T) {
	c := liveCache(100, time.Minute)
	for _, invalidate := range []func(){
		func() { c.Invalidate([]int64{999}, nil) }, // another person: the read is still dropped
		func() { c.Invalidate(nil, []int64{1}) },
		c.Flush,
		func() { c.notified("p:11") },
		func() { c.notified("*") },
		func() { c.setLive(false); c.setLive(true) },
	} {
		seq := c.begin()
		invalidate() // a writer committed and its notification arrived during the read
		c.put(cacheKey(1), cacheEntry(1, 11, cacheT0), seq)
		if c.get(cacheKey(1), cacheT0) != nil {
			t.Fatal("kept a read that overlapped an invalidation")
		}
	}
	c.notified("sync:abc") // a barrier invalidates nothing
	seq := c.begin()
	c.put(cacheKey(1), cacheEntry(1, 11, cacheT0), seq)
	if c.get(cacheKey(1), cacheT0) == nil {
		t.Fatal("did not keep a read with no invalidation meanwhile")
	}
}

// Notifications drop exactly the entries of the persons and accounts they
// name (all on "*" or anything unreadable).
func TestResidentCacheInvalidatesByID(t *testing.T) {
	c := liveCache(1000, time.Minute)
	fill := func() {
		for i := 1; i <= 20; i++ {
			pid := int64(100 + i)
			if i%5 == 0 {
				pid = 0 // no own person yet
			}
			// Two sessions per account.
			c.put(cacheKey(i), cacheEntry(int64(i), pid, cacheT0), c.begin())
			c.put(cacheKey(1000+i), cacheEntry(int64(i), pid, cacheT0), c.begin())
		}
	}
	kept := func() (accounts []int64) {
		for i := 1; i <= 20; i++ {
			a, b := c.get(cacheKey(i), cacheT0) != nil, c.get(cacheKey(1000+i), cacheT0) != nil
			if a != b {
				t.Fatalf("account %d: one session kept, not the other", i)
			}
			if a {
				accounts = append(accounts, int64(i))
			}
		}
		return accounts
	}
	all := func(except ...int64) []int64 {
		var out []int64
		for i := int64(1); i <= 20; i++ {
			if !slices.Contains(except, i) {
				out = append(out, i)
			}
		}
		return out
	}
	for _, tc := range []struct {
		payload string
		want    []int64
	}{
		{"p:103", all(3)},
		{"p:103,107,999", all(3, 7)},
		{"a:5,6", all(5, 6)},
		{"p:102;a:10", all(2, 10)},
		{"p:", all()},
		{"*", nil},
		{"p:1x", nil},
		{"q:1", nil},
	} {
		fill()
		c.notified(tc.payload)
		if got := kept(); !slices.Equal(got, tc.want) {
			t.Fatalf("after %q kept accounts %v, want %v", tc.payload, got, tc.want)
		}
		c.Flush()
	}
	if st := c.Stats(); st.Entries != 0 {
		t.Fatalf("after a flush: %d entries", st.Entries)
	}
	// The indexes follow replaced and evicted entries: re-binding a key
	// to another person and invalidating the old one keeps it.
	c.put(cacheKey(1), cacheEntry(1, 101, cacheT0), c.begin())
	c.put(cacheKey(1), cacheEntry(1, 202, cacheT0), c.begin())
	c.Invalidate([]int64{101}, nil)
	if c.get(cacheKey(1), cacheT0) == nil {
		t.Fatal("invalidating a person the entry no longer has dropped it")
	}
	c.Invalidate([]int64{202}, nil)
	if c.get(cacheKey(1), cacheT0) != nil {
		t.Fatal("invalidating the entry's person kept it")
	}
}

// The cache holds at most its bound, evicting one entry per fill past it.
func TestResidentCacheBounded(t *testing.T) {
	c := liveCache(residentCacheShards*4, time.Minute) // 4 per shard
	for i := range 10_000 {
		c.put(cacheKey(i), cacheEntry(int64(i+1), int64(i+1), cacheT0), c.begin())
	}
	st := c.Stats()
	if st.Entries > residentCacheShards*4 || st.Entries < residentCacheShards*3 || st.Evictions != int64(10_000-st.Entries) {
		t.Fatalf("stats after 10,000 fills = %+v", st)
	}
	for i := range c.shards {
		sh := &c.shards[i]
		var indexed int
		for _, keys := range sh.byAccount {
			indexed += len(keys)
		}
		if indexed != len(sh.entries) || len(sh.byPerson) != len(sh.entries) {
			t.Fatalf("shard %d: %d entries, %d indexed by account, %d persons", i, len(sh.entries), indexed, len(sh.byPerson))
		}
	}
}

// Concurrent readers, fillers and invalidations (run with -race): a key
// whose account was invalidated after the read began is never served
// afterwards with what that read saw.
func TestResidentCacheConcurrent(t *testing.T) {
	c := liveCache(10_000, time.Minute)
	const accounts = 50
	// version is what the "database" holds per account; applied the
	// version whose notification has been applied (entries older than it
	// must be gone).
	var version, applied [accounts]int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				a := r.IntN(accounts)
				k := cacheKey(a)
				mu.Lock()
				floor := applied[a]
				mu.Unlock()
				if e := c.get(k, cacheT0); e != nil {
					if e.sessionID < floor {
						t.Errorf("account %d: served version %d after the notification of %d was applied", a, e.sessionID, floor)
						return
					}
					continue
				}
				seq := c.begin()
				mu.Lock()
				v := version[a] // the read
				mu.Unlock()
				e := cacheEntry(int64(a), int64(1000+a), cacheT0)
				e.sessionID = v
				c.put(k, e, seq)
			}
		}()
	}
	for i := range 20_000 {
		a := i % accounts
		mu.Lock()
		version[a]++ // a writer commits ...
		mu.Unlock()
		if i%100 == 0 {
			time.Sleep(time.Millisecond) // let readers fill and hit
		}
		switch i % 3 { // ... and its notification is applied
		case 0:
			c.Invalidate(nil, []int64{int64(a)})
		case 1:
			c.notified(fmt.Sprintf("p:%d", 1000+a))
		default:
			if i%300 == 2 {
				c.Flush()
			} else {
				c.Invalidate([]int64{int64(1000 + a)}, []int64{int64(a)})
			}
		}
		mu.Lock()
		applied[a] = version[a]
		mu.Unlock()
	}
	close(stop)
	wg.Wait()
	if st := c.Stats(); st.Hits == 0 || st.Discarded == 0 {
		t.Logf("stats = %+v (no hits or no discarded reads: the interleaving was not exercised)", st)
	}
}

// A resident's own write on a replica drops their cached session there at
// commit, with no notification (none arrives here: nothing listens), so
// they read their own declaration, check-in or logout at once; another
// caller's write does not.
func TestResidentCacheOwnWrites(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	ctx := context.Background()
	c := NewResidentCache(100, 0)
	c.setLive(true) // as if listening; no notification will come
	b.db.ResidentCache = c
	var account int64
	if err := b.db.Pool.QueryRow(ctx, `INSERT INTO resident_accounts (phone_hash, phone_enc) VALUES ($1, $2) RETURNING id`,
		b.db.PII.Hash("phone", "13800138000"), b.db.PII.Encrypt("13800138000")).Scan(&account); err != nil {
		t.Fatal(err)
	}
	var sess *healthcode.Session
	if err := b.db.InTx(ctx, func(tx *Tx) (err error) {
		sess, err = b.db.openSession(ctx, tx, healthcode.ActorResident, account)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	auth := func(wantHit bool) *healthcode.Actor {
		t.Helper()
		hits := c.Stats().Hits
		a, err := b.db.Authenticate(ctx, sess.Token)
		if err != nil {
			t.Fatal(err)
		}
		if hit := c.Stats().Hits > hits; hit != wantHit || a.ID != account || a.Name != "138****8000" {
			t.Fatalf("authenticate: hit %v (want %v), actor %+v", hit, wantHit, a)
		}
		return a
	}
	auth(false)
	a := auth(true)
	staff := healthcode.NewContextWithActor(ctx, &healthcode.Actor{Kind: healthcode.ActorStaff, ID: 1})
	if err := b.db.InTx(staff, func(tx *Tx) error { _, err := tx.Exec(ctx, "SELECT 1"); return err }); err != nil {
		t.Fatal(err)
	}
	auth(true)
	resident := healthcode.NewContextWithActor(ctx, a)
	if err := b.db.InTx(resident, func(tx *Tx) error { _, err := tx.Exec(ctx, "SELECT 1"); return err }); err != nil {
		t.Fatal(err)
	}
	auth(false)
	auth(true)
	if err := b.db.Logout(resident); err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.Authenticate(ctx, sess.Token); healthcode.ErrorCode(err) != healthcode.EUNAUTHENTICATED {
		t.Fatalf("after logout on this replica: %v", err)
	}
}
