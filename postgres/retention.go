package postgres

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
)

var _ healthcode.DataPurger = (*DB)(nil)

// scanPartitionsSQL lists the day partitions of scans.
const scanPartitionsSQL = `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	WHERE i.inhparent = 'scans'::regclass`

// PurgeExpiredData implements healthcode.DataPurger: one transaction, each
// step a count (dry run) or a delete; whole scan partitions are dropped. The
// step's row count is what went (or would go).
func (db *DB) PurgeExpiredData(ctx context.Context, r healthcode.Retention, dryRun bool) ([]healthcode.PurgeItem, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var items []healthcode.PurgeItem
	err := db.InTx(ctx, func(tx *Tx) error {
		now := tx.Now
		steps := []struct {
			kind, action string
			before       time.Time
			from, where  string // the rows: FROM … WHERE …, $1 the cut-off
			change       string // the statement that removes them, $1 the cut-off
		}{
			{"declarations", "delete", now.Add(-r.Declarations), "declarations d",
				`d.created_at < $1 AND NOT EXISTS (SELECT 1 FROM pass_card_applications a WHERE a.declaration_id = d.id)
				 AND NOT EXISTS (SELECT 1 FROM subsystem_records s WHERE s.declaration_id = d.id)`, ""},
			{"check-ins", "delete", now.Add(-r.CheckIns), "health_records h", "h.at < $1", ""},
			{"stays", "delete", now.Add(-r.Stays), "stays st", "st.to_at IS NOT NULL AND st.to_at < $1", ""},
			{"tickets", "anonymise", now.Add(-r.Tickets), "tickets t",
				"t.state = 'CLOSED' AND t.updated_at < $1 AND (t.person_id IS NOT NULL OR t.caller_phone_enc IS NOT NULL OR t.description <> '')",
				`UPDATE tickets t SET person_id = NULL, caller_phone_hash = NULL, caller_phone_enc = NULL, caller_masked = '',
				 description = '' WHERE `},
			{"access log", "delete", now.Add(-r.AccessLog), "access_log l", "l.at < $1", ""},
		}
		for _, st := range steps {
			var n int64
			if dryRun {
				if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+st.from+" WHERE "+st.where, st.before).Scan(&n); err != nil {
					return fmt.Errorf("count expired %s: %w", st.kind, err)
				}
			} else {
				stmt := st.change
				if stmt == "" {
					table, alias, _ := strings.Cut(st.from, " ")
					stmt = "DELETE FROM " + table + " " + alias + " WHERE "
				}
				if st.kind == "tickets" {
					if _, err := tx.Exec(ctx, `DELETE FROM ticket_evidence e USING tickets t WHERE e.ticket_id = t.id AND `+st.where, st.before); err != nil {
						return fmt.Errorf("purge ticket evidence: %w", err)
					}
				}
				tag, err := tx.Exec(ctx, stmt+st.where, st.before)
				if err != nil {
					return fmt.Errorf("purge %s: %w", st.kind, err)
				}
				n = tag.RowsAffected()
			}
			items = append(items, healthcode.PurgeItem{Kind: st.kind, Action: st.action, Before: st.before, Rows: n})
		}
		scans, err := db.purgeScanPartitions(ctx, tx, now.Add(-r.Scans), dryRun)
		if err != nil {
			return err
		}
		items = append(items, scans...)
		items = append(items, healthcode.PurgeItem{Kind: "audit", Action: "keep", Before: now.Add(-r.Audit)})
		if dryRun {
			return nil
		}
		detail := map[string]any{}
		for _, it := range items {
			if it.Rows > 0 {
				detail[it.Kind+" "+it.Action] = it.Rows
			}
		}
		return tx.Audit(ctx, healthcode.AuditRecord{Action: "data.purge", Object: "retention", Reason: "按保存期限删除或匿名化个人信息",
			Detail: detail})
	})
	if err == nil && !dryRun {
		db.scanPartitions().Clear()
	}
	return items, err
}

// purgeScanPartitions drops (or counts) the day partitions of scans whose
// whole day ended before the cut-off.
func (db *DB) purgeScanPartitions(ctx context.Context, tx *Tx, before time.Time, dryRun bool) ([]healthcode.PurgeItem, error) {
	rows, err := tx.Query(ctx, scanPartitionsSQL)
	if err != nil {
		return nil, fmt.Errorf("list scan partitions: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list scan partitions: %w", err)
	}
	sort.Strings(names)
	var items []healthcode.PurgeItem
	for _, name := range names {
		day, err := time.ParseInLocation("20060102", strings.TrimPrefix(name, "scans_"), healthcode.CST)
		if err != nil || day.AddDate(0, 0, 1).After(before) {
			continue
		}
		var n int64
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{name}.Sanitize()).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", name, err)
		}
		if !dryRun {
			// As its owner: the application role holds no DDL privilege.
			if _, err := tx.Exec(ctx, "SELECT drop_scan_partition($1::date)", day.Format(time.DateOnly)); err != nil {
				return nil, fmt.Errorf("drop %s: %w", name, err)
			}
		}
		items = append(items, healthcode.PurgeItem{Kind: "scans", Action: "drop partition " + name, Before: day.AddDate(0, 0, 1), Rows: n})
	}
	if len(items) == 0 {
		items = append(items, healthcode.PurgeItem{Kind: "scans", Action: "drop partition", Before: before})
	}
	return items, nil
}
