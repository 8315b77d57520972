package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"healthcode"
)

// sealedColumns lists every column that holds a value sealed by pii.Cipher,
// per table (each keyed by a bigint id). A new encrypted column must be
// added here, or `healthcode rekey` leaves it under the old key (the
// rotation test reads every column after the old key is gone).
var sealedColumns = []struct {
	Table   string
	Columns []string
}{
	{"persons", []string{"doc_enc", "name_enc", "phone_enc", "address_enc", "employer_enc"}},
	{"resident_accounts", []string{"phone_enc"}},
	{"staff", []string{"phone_enc"}},
	{"tickets", []string{"caller_phone_enc"}},
	{"institutions", []string{"contact_phone_enc"}},
	{"colour_requests", []string{"payload"}},
}

// RekeyOptions tune DB.Rekey.
type RekeyOptions struct {
	BatchSize int  // rows per transaction; 500 when 0
	DryRun    bool // count what would be re-encrypted, from the start of every table, and change nothing
	Restart   bool // ignore the saved progress and scan every table from its first row
	// Progress, when set, is called after every batch.
	Progress func(RekeyProgress)
}

// RekeyProgress is the state of one table after a batch.
type RekeyProgress struct {
	Table     string
	LastID    int64          // the highest id scanned so far
	Scanned   int            // rows scanned in this run
	Rewritten int            // rows re-encrypted (or, in a dry run, to re-encrypt) in this run
	ByKey     map[uint32]int // values found per key id in this run, current key included
	Done      bool
}

// Rekey re-encrypts every sealed column of every row under the cipher's
// current key (docs/security.md "Rotating the personal-data key"). It walks
// each table by id in batches, each batch one transaction that locks its
// rows (FOR UPDATE: a concurrent write of the same person waits for the
// batch, and writes after it seal under the current key anyway), opens
// every value with the key ring, re-seals the values under another key,
// records how far it got in pii_rekey_progress and appends an audit record
// (pii.rekey). An interrupted run resumes after the last committed batch;
// rows already under the current key are left alone, so a run is
// idempotent. The lookup hashes do not change (their key does not rotate).
// Errors: a value that no key of the ring opens (pii.ErrUnknownKey for a
// key missing from the ring) stops the run, naming table, row and column;
// storage errors.
func (db *DB) Rekey(ctx context.Context, opts RekeyOptions) ([]RekeyProgress, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	current := db.PII.Current()
	var out []RekeyProgress
	for _, t := range sealedColumns {
		p := RekeyProgress{Table: t.Table, ByKey: map[uint32]int{}}
		if !opts.DryRun && !opts.Restart {
			err := db.Pool.QueryRow(ctx, `SELECT last_id FROM pii_rekey_progress WHERE key_id = $1 AND table_name = $2`,
				int64(current), t.Table).Scan(&p.LastID)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return out, fmt.Errorf("read rekey progress: %w", err)
			}
		}
		for !p.Done {
			if err := ctx.Err(); err != nil {
				return append(out, p), err
			}
			var err error
			if opts.DryRun {
				err = db.rekeyBatch(ctx, db.Pool, t.Table, t.Columns, &p, opts, current)
			} else {
				err = db.InTx(ctx, func(tx *Tx) error { return db.rekeyBatch(ctx, tx, t.Table, t.Columns, &p, opts, current) })
			}
			if err != nil {
				return append(out, p), err
			}
			if opts.Progress != nil {
				opts.Progress(p)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// rekeyBatch scans the next batch of table after p.LastID and, unless a dry
// run, re-seals its stale values in q (a transaction).
func (db *DB) rekeyBatch(ctx context.Context, q querier, table string, cols []string, p *RekeyProgress, opts RekeyOptions, current uint32) error {
	lock := " FOR UPDATE"
	if opts.DryRun {
		lock = ""
	}
	rows, err := q.Query(ctx, fmt.Sprintf(`SELECT id, %s FROM %s WHERE id > $1 ORDER BY id LIMIT $2%s`,
		strings.Join(cols, ", "), table, lock), p.LastID, opts.BatchSize)
	if err != nil {
		return fmt.Errorf("rekey %s: %w", table, err)
	}
	type row struct {
		id   int64
		vals [][]byte
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		x := row{vals: make([][]byte, len(cols))}
		dest := []any{&x.id}
		for i := range x.vals {
			dest = append(dest, &x.vals[i])
		}
		return x, r.Scan(dest...)
	})
	if err != nil {
		return fmt.Errorf("rekey %s: %w", table, err)
	}
	if len(list) == 0 {
		p.Done = true
		return nil
	}
	ids := []int64{}
	fresh := make([][][]byte, len(cols)) // per column, the new value or NULL (unchanged)
	for _, x := range list {
		stale := false
		next := make([][]byte, len(cols))
		for i, v := range x.vals {
			if v == nil {
				continue
			}
			pt, id, err := db.PII.Open(v)
			if err != nil {
				return fmt.Errorf("rekey %s id %d column %s: %w", table, x.id, cols[i], err)
			}
			p.ByKey[id]++
			if id != current {
				stale, next[i] = true, db.PII.Encrypt(pt)
			}
		}
		if stale {
			ids = append(ids, x.id)
			for i := range cols {
				fresh[i] = append(fresh[i], next[i])
			}
		}
	}
	first, last := list[0].id, list[len(list)-1].id
	p.Scanned += len(list)
	p.Rewritten += len(ids)
	p.LastID = last
	if opts.DryRun {
		return nil
	}
	tx := q.(*Tx)
	if len(ids) > 0 {
		set, args := make([]string, len(cols)), []any{ids}
		unnest := []string{"$1::bigint[]"}
		names := []string{"id"}
		for i, c := range cols {
			set[i] = fmt.Sprintf("%s = COALESCE(u.%s, t.%s)", c, c, c)
			args = append(args, fresh[i])
			unnest = append(unnest, fmt.Sprintf("$%d::bytea[]", i+2))
			names = append(names, c)
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(`UPDATE %s t SET %s FROM unnest(%s) AS u(%s) WHERE t.id = u.id`,
			table, strings.Join(set, ", "), strings.Join(unnest, ", "), strings.Join(names, ", ")), args...); err != nil {
			return fmt.Errorf("rekey %s: %w", table, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO pii_rekey_progress (key_id, table_name, last_id, rewritten, updated_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key_id, table_name)
		DO UPDATE SET last_id = EXCLUDED.last_id, rewritten = pii_rekey_progress.rewritten + EXCLUDED.rewritten, updated_at = EXCLUDED.updated_at`,
		int64(current), table, last, len(ids), tx.Now); err != nil {
		return fmt.Errorf("save rekey progress: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	return tx.Audit(ctx, healthcode.AuditRecord{RegionCode: "61", Action: "pii.rekey", Object: table,
		Detail: map[string]any{"key": current, "rows": len(ids), "first": first, "last": last}})
}
