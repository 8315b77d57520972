package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"healthcode"
	"healthcode/pii"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
	"healthcode/rbac"
)

// runListener runs l until the test ends and waits until it is connected.
func runListener(t *testing.T, l *postgres.Listener) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Listener.Run returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the listener did not stop when its context was cancelled")
		}
	})
	select {
	case <-l.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the listener did not connect")
	}
}

// terminateListener ends the listener's connection from the server side, as
// a database restart does.
func terminateListener(t *testing.T, db *postgres.DB) {
	t.Helper()
	var killed int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'healthcode-listener' AND datname = current_database()`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d listener connections, want 1", killed)
	}
}

func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	panic("unreachable")
}

// TestListenerGrants: a revocation committed by another process reaches the
// enforcer through NOTIFY; while the listener is disconnected, staff are
// refused with UNAVAILABLE rather than answered on grants that may have been
// revoked unseen; and a revocation committed meanwhile (its notification
// lost) holds as soon as the listener is back, because it reloads the grants
// before it answers again.
func TestListenerGrants(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := &postgres.DB{Pool: pgtest.New(t)}
	admin, officer := grantsFixture(t, db)
	adminGrant := insertGrant(t, db, admin, healthcode.RoleAdmin, "610113")
	officerGrant := insertGrant(t, db, officer, healthcode.RoleAdmin, "610113")

	e, err := rbac.New(db.LoadGrants)
	if err != nil {
		t.Fatal(err)
	}
	l := postgres.NewListener(db)
	postgres.WatchGrants(l, e)
	notified := make(chan struct{}, 16)
	l.Handle(postgres.GrantsChannel, func(string) { notified <- struct{}{} }, nil)
	// The test holds the listener after a disconnection until it says so.
	states, release := make(chan bool, 16), make(chan struct{})
	l.OnState(func(connected bool) {
		states <- connected
		if !connected {
			<-release
		}
	})
	runListener(t, l)
	if !wait(t, states, "connected") {
		t.Fatal("first state is disconnected")
	}

	a := &healthcode.Actor{Kind: healthcode.ActorStaff, ID: admin}
	o := &healthcode.Actor{Kind: healthcode.ActorStaff, ID: officer}
	if err := e.Authorize(ctx, a, healthcode.PermGrantManage, "610113001"); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	// Another process revokes: this process's enforcer only hears of it.
	revoke := func(id int64) {
		t.Helper()
		if err := db.InTx(ctx, func(tx *postgres.Tx) error {
			tx.MarkGrantsChanged()
			_, err := tx.Exec(ctx, "DELETE FROM grants WHERE id = $1", id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	revoke(adminGrant)
	wait(t, notified, "the revocation's notification")
	if err := e.Authorize(ctx, a, healthcode.PermGrantManage, "610113001"); !errors.Is(err, healthcode.ErrForbidden) {
		t.Fatalf("after revocation: %v, want FORBIDDEN", err)
	}

	terminateListener(t, db)
	if wait(t, states, "disconnected") {
		t.Fatal("still connected")
	}
	revoke(officerGrant) // its notification is lost
	err = e.Authorize(ctx, o, healthcode.PermGrantManage, "610113001")
	if healthcode.ErrorCode(err) != healthcode.EUNAVAILABLE {
		t.Fatalf("while the listener is down: %v, want UNAVAILABLE", err)
	}
	// Residents are not affected.
	if err := e.Authorize(ctx, &healthcode.Actor{Kind: healthcode.ActorResident, ID: 1}, healthcode.PermRegionRead, "610113"); err != nil {
		t.Fatalf("resident while the listener is down: %v", err)
	}
	close(release)
	if !wait(t, states, "reconnected") {
		t.Fatal("not reconnected")
	}
	if err := e.Authorize(ctx, o, healthcode.PermGrantManage, "610113001"); !errors.Is(err, healthcode.ErrForbidden) {
		t.Fatalf("after reconnecting: %v, want FORBIDDEN (the revocation made while disconnected)", err)
	}
	if l.Reconnects() != 1 {
		t.Fatalf("reconnects %d, want 1", l.Reconnects())
	}
}

// TestRevocationHoldsOnEveryReplica: a grant revoked through one replica is
// refused by another on its very next request, before (or without) any
// notification: the request's session lookup reads the grants version, and
// a replica whose grants are older reloads them first.
func TestRevocationHoldsOnEveryReplica(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := pgtest.New(t)
	cipher, err := pii.NewCipher(bytes.Repeat([]byte{7}, pii.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	// Two replicas: their own handles and enforcers, no listener at all.
	replica := func() (*postgres.DB, *rbac.Enforcer) {
		db := &postgres.DB{Pool: pool, PII: cipher}
		e, err := rbac.New(db.LoadGrants)
		if err != nil {
			t.Fatal(err)
		}
		db.Authz, db.GrantsChanged = e, e.Invalidate
		return db, e
	}
	one, _ := replica()
	admin, _ := grantsFixture(t, one)
	grant := insertGrant(t, one, admin, healthcode.RoleAdmin, "610113")
	two, e2 := replica()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	token := "hcs_" + base64.RawURLEncoding.EncodeToString(raw)
	hash := sha256.Sum256([]byte(token))
	if _, err := pool.Exec(ctx, `INSERT INTO sessions (token_hash, kind, staff_id, expires_at)
		VALUES ($1, 'STAFF', $2, now() + interval '1 day')`, hash[:], admin); err != nil {
		t.Fatal(err)
	}
	request := func() error { // one request on replica two
		a, err := two.Authenticate(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		return e2.Authorize(ctx, a, healthcode.PermGrantManage, "610113001")
	}
	if err := request(); err != nil {
		t.Fatalf("before the revocation: %v", err)
	}
	if err := one.InTx(ctx, func(tx *postgres.Tx) error {
		tx.MarkGrantsChanged()
		_, err := tx.Exec(ctx, "DELETE FROM grants WHERE id = $1", grant)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := request(); !errors.Is(err, healthcode.ErrForbidden) {
		t.Fatalf("the next request on the other replica: %v, want FORBIDDEN", err)
	}
}
