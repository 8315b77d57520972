package postgres

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"healthcode"
)

// CodeCacheChannel is the notification channel of the resident code cache:
// triggers on every table the resident session lookup reads (migration
// 000038) send on it the ids of the persons and accounts a statement
// changed ("p:1,2;a:3"), or "*" when it changed many rows or a table whose
// change concerns everyone (rule sets, the progress of a re-evaluation);
// Listener.Sync sends "sync:<nonce>" on it.
const CodeCacheChannel = "code_cache"

// Defaults of the resident code cache (CODE_CACHE, docs/operations.md).
const (
	// DefaultResidentCacheEntries bounds the sessions a replica keeps.
	DefaultResidentCacheEntries = 100_000
	// DefaultResidentCacheTTL bounds how long an entry is used after it was
	// read (the phone polls every 10 s): a bound on staleness should a
	// notification ever be lost without the listener noticing.
	DefaultResidentCacheTTL = time.Minute
	// maxNotifiedIDs is how many ids a trigger lists before it sends "*".
	maxNotifiedIDs      = 200
	residentCacheShards = 64
)

// ResidentCache keeps, per resident session token, what the resident
// session lookup read (authenticateResident: the session, the account's
// masked phone and the own person's code row), so that a repeated open or
// poll of the code page costs no statement. It is correct across replicas
// only while it follows CodeCacheChannel (WatchResidentCache): an entry is
// used only while the listener is connected, before the session expires,
// while the code is not due, and for at most TTL after it was read; every
// notification drops the entries of the persons and accounts it names (all
// of them on "*", on a reconnection and on a disconnection); and a read
// that overlapped any invalidation is not kept (the invalidation sequence,
// recorded before the read). Build it with NewResidentCache; a nil cache is
// off.
type ResidentCache struct {
	shards    [residentCacheShards]residentShard
	perShard  int
	ttl       time.Duration
	seq       atomic.Uint64 // bumped by every invalidation, before it drops entries
	live      atomic.Bool   // the listener is connected and the cache flushed since
	hits      atomic.Int64
	misses    atomic.Int64
	invalid   atomic.Int64 // notifications applied (ids or all)
	flushes   atomic.Int64
	discarded atomic.Int64 // reads not kept: an invalidation overlapped them
	evicted   atomic.Int64
}

// residentShard is a part of the cache, by token hash, with its entries
// indexed by account and own person for the invalidations.
type residentShard struct {
	mu        sync.Mutex
	entries   map[[32]byte]*residentEntry
	byAccount map[int64][][32]byte
	byPerson  map[int64][][32]byte
}

// addLocked keeps e under key, replacing what was there.
func (sh *residentShard) addLocked(key [32]byte, e *residentEntry) {
	sh.removeLocked(key)
	sh.entries[key] = e
	sh.byAccount[e.accountID] = append(sh.byAccount[e.accountID], key)
	if p := e.pid(); p != 0 {
		sh.byPerson[p] = append(sh.byPerson[p], key)
	}
}

// removeLocked drops the entry of key, if any.
func (sh *residentShard) removeLocked(key [32]byte) {
	e := sh.entries[key]
	if e == nil {
		return
	}
	delete(sh.entries, key)
	unindex(sh.byAccount, e.accountID, key)
	if p := e.pid(); p != 0 {
		unindex(sh.byPerson, p, key)
	}
}

// unindex removes key from index[id].
func unindex(index map[int64][][32]byte, id int64, key [32]byte) {
	keys := index[id]
	for i, k := range keys {
		if k == key {
			keys[i] = keys[len(keys)-1]
			keys = keys[:len(keys)-1]
			break
		}
	}
	if len(keys) == 0 {
		delete(index, id)
	} else {
		index[id] = keys
	}
}

// clearLocked drops every entry.
func (sh *residentShard) clearLocked() {
	clear(sh.entries)
	clear(sh.byAccount)
	clear(sh.byPerson)
}

// residentEntry is one cached session lookup.
type residentEntry struct {
	sessionID, accountID int64
	masked               string // the account's masked phone (Actor.Name)
	row                  ownCodeRow
	expiresAt            time.Time // the session's
	filled               time.Time // platform clock when the read started
}

// pid is the entry's own person (0: none yet).
func (e *residentEntry) pid() int64 {
	if e.row.pid == nil {
		return 0
	}
	return *e.row.pid
}

// NewResidentCache returns a cache of at most entries sessions (at least
// one per shard) used for at most ttl (DefaultResidentCacheTTL when 0). It
// serves nothing until WatchResidentCache's listener is connected.
func NewResidentCache(entries int, ttl time.Duration) *ResidentCache {
	if ttl <= 0 {
		ttl = DefaultResidentCacheTTL
	}
	c := &ResidentCache{perShard: max(1, entries/residentCacheShards), ttl: ttl}
	for i := range c.shards {
		c.shards[i] = residentShard{entries: map[[32]byte]*residentEntry{}, byAccount: map[int64][][32]byte{},
			byPerson: map[int64][][32]byte{}}
	}
	return c
}

// ResidentCacheStats are the cache's counters (the code_cache_* metrics).
type ResidentCacheStats struct {
	Hits, Misses  int64
	Invalidations int64 // notifications applied
	Flushes       int64 // of which dropping every entry
	Discarded     int64 // reads not kept because an invalidation overlapped them
	Evictions     int64 // entries dropped for room
	Entries       int
	Live          bool
}

// Stats returns the counters.
func (c *ResidentCache) Stats() ResidentCacheStats {
	s := ResidentCacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Invalidations: c.invalid.Load(),
		Flushes: c.flushes.Load(), Discarded: c.discarded.Load(), Evictions: c.evicted.Load(), Live: c.live.Load()}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		s.Entries += len(sh.entries)
		sh.mu.Unlock()
	}
	return s
}

func (c *ResidentCache) shard(key [32]byte) *residentShard {
	return &c.shards[binary.LittleEndian.Uint32(key[:4])%residentCacheShards]
}

// get returns the entry of key usable at now, or nil (a miss).
func (c *ResidentCache) get(key [32]byte, now time.Time) *residentEntry {
	if !c.live.Load() {
		c.misses.Add(1)
		return nil
	}
	sh := c.shard(key)
	sh.mu.Lock()
	e := sh.entries[key]
	sh.mu.Unlock()
	if e == nil || !e.usable(now, c.ttl) {
		c.misses.Add(1)
		return nil
	}
	c.hits.Add(1)
	return e
}

// usable reports whether e may answer at now: the session has not expired,
// the code is not due, and the entry is younger than ttl (and not from the
// future: a clock moved back).
func (e *residentEntry) usable(now time.Time, ttl time.Duration) bool {
	age := now.Sub(e.filled)
	return e.expiresAt.After(now) && (e.row.reevaluateAt == nil || e.row.reevaluateAt.After(now)) && age >= 0 && age < ttl
}

// begin returns the invalidation sequence to pass to put, read before the
// statement whose result put keeps.
func (c *ResidentCache) begin() uint64 { return c.seq.Load() }

// put keeps e under key unless an invalidation happened since begin
// returned seq, or the listener is not connected.
func (c *ResidentCache) put(key [32]byte, e *residentEntry, seq uint64) {
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	// Under the shard's lock: an invalidation bumps seq before it takes
	// the lock, so either it is seen here or it drops the entry after.
	if !c.live.Load() || c.seq.Load() != seq {
		c.discarded.Add(1)
		return
	}
	if _, ok := sh.entries[key]; !ok && len(sh.entries) >= c.perShard {
		// Evict one entry at random (map order), preferring a stale one
		// among the few looked at.
		n := 0
		for k, old := range sh.entries {
			n++
			if !old.usable(e.filled, c.ttl) || n >= 4 {
				sh.removeLocked(k)
				c.evicted.Add(1)
				break
			}
		}
	}
	sh.addLocked(key, e)
}

// Flush drops every entry.
func (c *ResidentCache) Flush() {
	c.seq.Add(1)
	c.flushes.Add(1)
	c.invalid.Add(1)
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		sh.clearLocked()
		sh.mu.Unlock()
	}
}

// Invalidate drops the entries of the given persons and accounts.
func (c *ResidentCache) Invalidate(persons, accounts []int64) {
	c.seq.Add(1)
	c.invalid.Add(1)
	if len(persons) == 0 && len(accounts) == 0 {
		return
	}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for _, id := range persons {
			for _, k := range slices.Clone(sh.byPerson[id]) {
				sh.removeLocked(k)
			}
		}
		for _, id := range accounts {
			for _, k := range slices.Clone(sh.byAccount[id]) {
				sh.removeLocked(k)
			}
		}
		sh.mu.Unlock()
	}
}

// setLive turns serving on (after a flush) or off.
func (c *ResidentCache) setLive(live bool) {
	if !live {
		c.live.Store(false)
		c.Flush()
		return
	}
	c.Flush()
	c.live.Store(true)
}

// notified applies a CodeCacheChannel payload. A payload it cannot read
// flushes everything.
func (c *ResidentCache) notified(payload string) {
	if strings.HasPrefix(payload, "sync:") {
		return
	}
	persons, accounts, err := parseCodeCachePayload(payload)
	if err != nil {
		c.Flush()
		return
	}
	c.Invalidate(persons, accounts)
}

// parseCodeCachePayload reads "p:1,2;a:3" (either part optional); "*" and
// anything unreadable is an error (flush all).
func parseCodeCachePayload(payload string) (persons, accounts []int64, err error) {
	if payload == "" || payload == "*" {
		return nil, nil, fmt.Errorf("flush all")
	}
	for part := range strings.SplitSeq(payload, ";") {
		kind, list, ok := strings.Cut(part, ":")
		if !ok || (kind != "p" && kind != "a") {
			return nil, nil, fmt.Errorf("bad part %q", part)
		}
		for s := range strings.SplitSeq(list, ",") {
			if s == "" {
				continue
			}
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("bad id %q", s)
			}
			if kind == "p" {
				persons = append(persons, id)
			} else {
				accounts = append(accounts, id)
			}
		}
	}
	return persons, accounts, nil
}

// WatchResidentCache keeps c current through l: every CodeCacheChannel
// notification drops what it names; a disconnection turns c off and empties
// it (while the listener is down, notifications are missed: the session
// lookup reads the database), and a reconnection empties it again before it
// serves. The serve command (and the tests' stacks) call it before l.Run.
func WatchResidentCache(l *Listener, c *ResidentCache) {
	l.Handle(CodeCacheChannel, c.notified, func(context.Context) error {
		c.Flush()
		return nil
	})
	l.OnState(c.setLive)
}

// ownWriteCommitted drops, after a resident's transaction committed on this
// replica, the cached sessions of their account, so that the resident reads
// their own write here at once (their declaration, check-in, claim or
// logout) instead of one notification later; the other replicas learn of
// it by the notification.
func (db *DB) ownWriteCommitted(ctx context.Context) {
	if db.ResidentCache == nil {
		return
	}
	if a := healthcode.ActorFromContext(ctx); a != nil && a.Kind == healthcode.ActorResident {
		db.ResidentCache.Invalidate(nil, []int64{a.ID})
	}
}
