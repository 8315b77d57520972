package postgres

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"healthcode"
)

// GrantsChannel is the PostgreSQL notification channel on which InTx
// announces committed grant changes (Tx.MarkGrantsChanged).
const GrantsChannel = "grants_changed"

// LoadGrants returns every grant of every staff account, ordered by id, and
// remembers the grants version it read (see checkGrantsVersion). The rbac
// enforcer calls it (as its load function) at start-up and after each
// invalidation; it does no authorization of its own and must not be exposed
// to callers. Errors: INTERNAL (database failure, wrapped).
func (db *DB) LoadGrants(ctx context.Context) ([]healthcode.Grant, error) {
	// The version first: the grants read next are at least that new.
	var version int64
	if err := db.Pool.QueryRow(ctx, "SELECT version FROM grants_version").Scan(&version); err != nil {
		return nil, fmt.Errorf("load grants version: %w", err)
	}
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
	atomic.StoreInt64(&db.grantsLoaded, version)
	return grants, nil
}

// checkGrantsVersion invalidates this process's grants (GrantsChanged) when
// the database's grants version, read with a request's session, is newer
// than the one LoadGrants last read: another replica changed them and its
// notification has not arrived (or was lost). The enforcer then reloads
// before it authorizes the request.
func (db *DB) checkGrantsVersion(current int64) {
	if current > atomic.LoadInt64(&db.grantsLoaded) && db.GrantsChanged != nil {
		db.GrantsChanged()
	}
}
