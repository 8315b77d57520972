// Package pgtest gives each test its own migrated PostgreSQL database,
// cloned from a template on the server named by TEST_DATABASE_URL (which
// `make test` starts). Tests run in parallel, each on its own database.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"healthcode/devenv"
	"healthcode/migrations"
)

// AdminURL returns the URL of the test server's maintenance database, failing
// the test when TEST_DATABASE_URL is not set.
func AdminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		t.Fatal("TEST_DATABASE_URL is not set: run the tests with `make test`, which starts PostgreSQL and Redis")
	}
	return u
}

// NewURL creates a fresh database migrated to the latest version and returns
// its URL; the database is dropped when the test ends.
func NewURL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	admin := AdminURL(t)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to test server: %v", err)
	}
	defer conn.Close(ctx)
	tpl := "hc_tpl_" + migrations.Fingerprint()
	if err := ensureTemplate(ctx, conn, admin, tpl); err != nil {
		t.Fatalf("prepare template database: %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "hc_t_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tpl)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	})
	return withDatabase(admin, name)
}

// NewEmptyURL creates a fresh database with no schema at all (for migration
// tests) and returns its URL; it is dropped when the test ends.
func NewEmptyURL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	admin := AdminURL(t)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to test server: %v", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "hc_e_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	})
	return withDatabase(admin, name)
}

// New returns a pool on a fresh migrated database, closed when the test ends.
// It connects as the least-privileged application role (devenv.AppRole), as
// the platform does: no superuser, no DDL, no UPDATE or DELETE on audit_log.
// A test that must act as the owner (tampering with the audit log) opens
// Owner.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), AppURL(NewURL(t)))
	if err != nil {
		t.Fatalf("connect to test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// AppURL returns url with the user replaced by the application role.
func AppURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	p.User = url.User(devenv.AppRole)
	return p.String()
}

// Owner returns a pool on pool's database connected as the owner (the test
// server's superuser), closed when the test ends: for tests that play an
// attacker with the database's superuser (rewriting the audit log).
func Owner(t testing.TB, pool *pgxpool.Pool) *pgxpool.Pool {
	t.Helper()
	owner, err := pgxpool.New(context.Background(), withDatabase(AdminURL(t), pool.Config().ConnConfig.Database))
	if err != nil {
		t.Fatalf("connect as owner: %v", err)
	}
	t.Cleanup(owner.Close)
	return owner
}

func ensureTemplate(ctx context.Context, conn *pgx.Conn, admin, tpl string) error {
	// One process at a time builds the template; the others wait and reuse it.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(727274)"); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(727274)")
	// The role exists before the migrations run, so that they grant it.
	if err := devenv.EnsureAppRole(ctx, conn); err != nil {
		return err
	}
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", tpl).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	build := tpl + "_build"
	if _, err := conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", build)); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+build); err != nil {
		return err
	}
	if err := migrations.Up(withDatabase(admin, build)); err != nil {
		return err
	}
	_, err := conn.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", build, tpl))
	return err
}

func withDatabase(admin, name string) string {
	u, err := url.Parse(admin)
	if err != nil {
		return admin
	}
	u.Path = "/" + name
	return u.String()
}
