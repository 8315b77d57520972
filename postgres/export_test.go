package postgres

import (
	"context"

	"healthcode"
)

// CurrentCode exposes currentCode (read a code, re-evaluating it when stale)
// to the tests of package postgres_test.
func (db *DB) CurrentCode(ctx context.Context, pid int64) (*healthcode.Code, error) {
	return db.currentCode(ctx, pid)
}

// FeverContactRoles exposes the roles texted about fever reports.
var FeverContactRoles = feverContactRoles
