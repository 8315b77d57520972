package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
)

// GrantsChannel is the PostgreSQL notification channel on which InTx
// announces committed grant changes (Tx.MarkGrantsChanged).
const GrantsChannel = "grants_changed"

// grantsListenerName is the application_name of the listener connection, so
// that operators (and tests) can find it in pg_stat_activity.
const grantsListenerName = "healthcode-grants-listener"

// Reconnect backoff of ListenGrants: 250 ms doubling per failed attempt, at
// most 30 s; reset once LISTEN succeeds.
const (
	grantsListenBackoffBase = 250 * time.Millisecond
	grantsListenBackoffMax  = 30 * time.Second
)

// LoadGrants returns every grant of every staff account, ordered by id. The
// rbac enforcer calls it (as its load function) at start-up and after each
// invalidation; it does no authorization of its own and must not be exposed
// to callers. Errors: INTERNAL (database failure, wrapped).
func (db *DB) LoadGrants(ctx context.Context) ([]healthcode.Grant, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, staff_id, role, region_code, COALESCE(granted_by, 0), granted_at
		FROM grants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("load grants: %w", err)
	}
	grants, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (healthcode.Grant, error) {
		var g healthcode.Grant
		var role string
		err := r.Scan(&g.ID, &g.StaffID, &role, &g.RegionCode, &g.GrantedBy, &g.GrantedAt)
		g.Role = healthcode.Role(role)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("load grants: %w", err)
	}
	return grants, nil
}

// ListenGrants keeps a dedicated connection to databaseURL listening on
// grants_changed and calls onChange on every notification, and once after
// each successful (re)connection, since notifications sent while it was
// disconnected are lost. On any connection error it logs (db.Logger, when
// set), waits with exponential backoff and reconnects, until ctx is done.
// Each process with an rbac enforcer runs it in a goroutine with onChange set
// to the enforcer's Invalidate; onChange must not block.
// Errors: INTERNAL when databaseURL cannot be parsed; nil once ctx is done.
func (db *DB) ListenGrants(ctx context.Context, databaseURL string, onChange func()) error {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("listen grants: parse database url: %w", err)
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = grantsListenerName

	backoff := grantsListenBackoffBase
	for {
		err := listenGrantsOnce(ctx, cfg, onChange, func() { backoff = grantsListenBackoffBase })
		if ctx.Err() != nil {
			return nil
		}
		if db.Logger != nil {
			db.Logger.Warn("grants listener disconnected; reconnecting", "error", err, "backoff", backoff)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(backoff*2, grantsListenBackoffMax)
	}
}

// listenGrantsOnce connects, listens and relays notifications until an error
// or ctx ends it. It calls listening once LISTEN has succeeded.
func listenGrantsOnce(ctx context.Context, cfg *pgx.ConnConfig, onChange, listening func()) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+GrantsChannel); err != nil {
		return fmt.Errorf("listen %s: %w", GrantsChannel, err)
	}
	listening()
	onChange() // changes made while we were not listening
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("wait for %s: %w", GrantsChannel, err)
		}
		onChange()
	}
}
