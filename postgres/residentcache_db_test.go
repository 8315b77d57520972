package postgres_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"healthcode/demo"
	"healthcode/pii"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
)

// The triggers of migration 000038, fired by the application's
// least-privileged role, send one notification per statement on
// code_cache naming the persons or accounts it changed, "*" past 200 ids
// and for rule sets and re-evaluation progress, and nothing for what the
// cached read does not depend on; Listener.Sync returns once everything
// sent before it has been handled.
func TestCodeCacheNotifications(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t) // the application role
	var role string
	if err := pool.QueryRow(ctx, "SELECT current_user").Scan(&role); err != nil || role != "healthcode_app" {
		t.Fatalf("connected as %q (%v), want the application role", role, err)
	}
	cipher, err := pii.NewCipher([]byte("benchmark-key-0123456789abcdefgh"))
	if err != nil {
		t.Fatal(err)
	}
	db := &postgres.DB{Pool: pool, PII: cipher}
	if err := db.EnsureRuleSet(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.SeedSynthetic(ctx, db, 250, 7); err != nil {
		t.Fatal(err)
	}
	l := postgres.NewListener(db)
	var mu sync.Mutex
	var got []string
	l.Handle(postgres.CodeCacheChannel, func(p string) {
		if !strings.HasPrefix(p, "sync:") {
			mu.Lock()
			got = append(got, p)
			mu.Unlock()
		}
	}, nil)
	runListener(t, l)
	var pid, account int64
	if err := pool.QueryRow(ctx, "SELECT min(person_id) FROM codes").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO resident_accounts (phone_hash, phone_enc) VALUES ('\x01', '\x02') RETURNING id`).Scan(&account); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what, sql string
		want      []string
	}{
		{"a code written", "UPDATE codes SET updated_at = now() WHERE person_id = $1", []string{"p:$pid"}},
		{"many codes written", "UPDATE codes SET updated_at = now()", []string{"*"}},
		{"a person's masked name", "UPDATE persons SET name_masked = name_masked || '' WHERE id = $1", nil},
		{"a person renamed", "UPDATE persons SET name_masked = '某*' WHERE id = $1", []string{"p:$pid"}},
		{"a binding", "INSERT INTO account_persons (person_id, account_id, relation, created_at) VALUES ($1, $2, 'SELF', now())", []string{"a:$account"}},
		{"a new session", "INSERT INTO sessions (token_hash, kind, resident_id, expires_at) VALUES ('\\x03', 'RESIDENT', $2, now() + interval '1 day')", nil},
		{"a session revoked", "UPDATE sessions SET revoked_at = now() WHERE resident_id = $2", []string{"a:$account"}},
		{"a phone changed", "UPDATE resident_accounts SET phone_enc = '\\x04' WHERE id = $2", []string{"a:$account"}},
		{"an unbinding", "DELETE FROM account_persons WHERE account_id = $2", []string{"a:$account"}},
		{"a rule set", "UPDATE rule_sets SET created_by = created_by", []string{"*"}},
	} {
		mu.Lock()
		got = nil
		mu.Unlock()
		var err error
		switch {
		case strings.Contains(tc.sql, "$2") && strings.Contains(tc.sql, "$1"):
			_, err = pool.Exec(ctx, tc.sql, pid, account)
		case strings.Contains(tc.sql, "$2"):
			_, err = pool.Exec(ctx, strings.ReplaceAll(tc.sql, "$2", "$1"), account)
		case strings.Contains(tc.sql, "$1"):
			_, err = pool.Exec(ctx, tc.sql, pid)
		default:
			_, err = pool.Exec(ctx, tc.sql)
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.what, err)
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = l.Sync(sctx)
		cancel()
		if err != nil {
			t.Fatalf("%s: sync: %v", tc.what, err)
		}
		var want []string
		for _, w := range tc.want {
			want = append(want, strings.NewReplacer("$pid", itoa(pid), "$account", itoa(account)).Replace(w))
		}
		mu.Lock()
		g := slices.Clone(got)
		mu.Unlock()
		if !slices.Equal(g, want) {
			t.Fatalf("%s: notified %q, want %q", tc.what, g, want)
		}
	}
}

// The cache serves nothing while its listener is disconnected and empties
// itself on both edges; Sync answers again after the reconnection.
func TestResidentCacheFollowsListener(t *testing.T) {
	t.Parallel()
	db := &postgres.DB{Pool: pgtest.New(t)}
	c := postgres.NewResidentCache(100, 0)
	l := postgres.NewListener(db)
	postgres.WatchResidentCache(l, c)
	if c.Stats().Live {
		t.Fatal("live before the listener connected")
	}
	runListener(t, l)
	if !c.Stats().Live {
		t.Fatal("not live once the listener connected")
	}
	flushes := c.Stats().Flushes
	terminateListener(t, db)
	deadline := time.Now().Add(10 * time.Second)
	for c.Stats().Live || l.Connected() {
		if time.Now().After(deadline) {
			t.Fatal("still live after the listener's connection was terminated")
		}
		time.Sleep(time.Millisecond)
	}
	for !l.Connected() {
		if time.Now().After(deadline) {
			t.Fatal("the listener did not reconnect")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := l.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if !st.Live || st.Flushes < flushes+2 {
		t.Fatalf("after a reconnection: %+v (flushes before %d)", st, flushes)
	}
}
