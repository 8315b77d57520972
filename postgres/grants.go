package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"healthcode"
)

// GrantsChannel is the PostgreSQL notification channel on which InTx
// announces committed grant changes (Tx.MarkGrantsChanged).
const GrantsChannel = "grants_changed"

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
