package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/rules"
)

// maxRuleWindow bounds how long after a stay an area designation can still
// change a GREEN colour (the largest window a valid rule set allows). A
// colour other than GREEN can rest on an older stay, up to
// rules.StayHorizon: a stay_risk clause with normalDays holds after its
// window until the person's check-ins clear it, and a change of its area's
// level clears it too.
const maxRuleWindow = rules.MaxWindow

// FanOutArea writes one codes:reevaluate task per batch of persons with a
// stay in the designated region (or a descendant) that ended within the
// largest rule window, residents included (their residence is a stay) and
// scanned persons too (a scan is a stay at its venue's region), and of the
// persons whose code is not GREEN with such a stay within rules.StayHorizon
// (when the published rule set has a stay_risk clause with normalDays, which
// can rest on such a stay). The worker calls it for codes:fanout_area; it is
// idempotent per designation.
func (db *DB) FanOutArea(ctx context.Context, areaRiskID int64) (int, error) {
	return db.fanOutArea(ctx, areaRiskID, false)
}

// LateFanOutDelay is how long after an area designation its late fan-out
// runs (FanOutAreaLate).
const LateFanOutDelay = time.Minute

// FanOutAreaLate is the second pass of an area designation, LateFanOutDelay
// after it: the persons of FanOutArea whose stays or scans were recorded
// since LateFanOutDelay before the designation. It catches the transactions
// that had read the risks in force before the designation committed and
// committed only after the first pass had read the stays, so they evaluated
// their person without the designation and the first pass missed them.
// The worker calls it for codes:fanout_area with "late"; idempotent.
func (db *DB) FanOutAreaLate(ctx context.Context, areaRiskID int64) (int, error) {
	return db.fanOutArea(ctx, areaRiskID, true)
}

func (db *DB) fanOutArea(ctx context.Context, areaRiskID int64, late bool) (int, error) {
	n := 0
	err := db.InTx(ctx, func(tx *Tx) error {
		var region string
		var created time.Time
		if err := tx.QueryRow(ctx, "SELECT region_code, created_at FROM area_risks WHERE id = $1", areaRiskID).Scan(&region, &created); err != nil {
			return mapError(err, "area risk not found")
		}
		// The late pass takes the facts recorded since shortly before the
		// designation; the first every fact (since the start of time).
		since, cause := time.Time{}, "area_risk:"+strconv.FormatInt(areaRiskID, 10)
		if late {
			since, cause = created.Add(-LateFanOutDelay), cause+":late"
		}
		ids, err := areaPersons(ctx, tx, region, since)
		if err != nil {
			return err
		}
		for i := 0; i < len(ids); i += healthcode.ReevaluateBatchSize {
			batch := ids[i:min(i+healthcode.ReevaluateBatchSize, len(ids))]
			payload, _ := json.Marshal(healthcode.BatchPayload{IDs: batch, Cause: cause})
			if _, err := tx.Outbox(ctx, healthcode.TaskReevaluateBatch, payload, cause+":"+strconv.Itoa(i/healthcode.ReevaluateBatchSize)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// areaPersons lists, in id order, the persons an area designation of region
// reaches (see FanOutArea) whose stays or scans were recorded since since
// (zero: all).
func areaPersons(ctx context.Context, tx *Tx, region string, since time.Time) ([]int64, error) {
	// Stays older than the largest window matter only to a code that
	// is not GREEN, and only under a clause that waits for check-ins.
	rs, err := publishedRuleSet(ctx, tx)
	if err != nil {
		return nil, err
	}
	older := maxRuleWindow
	if waitsForCheckins(rs) {
		older = rules.StayHorizon
	}
	// Scans in the region are found through its venues (a scan index
	// by venue and time), the region's own path bounding the result.
	rows, err := tx.Query(ctx, `SELECT person_id FROM stays
			WHERE place LIKE $1 || '%' AND retracted_at IS NULL AND created_at >= $3
			  AND (to_at IS NULL OR to_at > $2 OR to_at > $4 AND EXISTS (
			       SELECT 1 FROM codes c WHERE c.person_id = stays.person_id AND c.colour <> 'GREEN'))
			UNION
			SELECT s.person_id FROM regions r JOIN venues v ON v.region_path <@ r.path
			  JOIN scans s ON s.venue_id = v.id AND s.scanned_at > LEAST($2, $4)
			 WHERE r.code = $1 AND s.region_path <@ r.path AND s.person_id IS NOT NULL AND s.stay_id IS NOT NULL
			   AND s.retracted_at IS NULL AND s.received_at >= $3
			   AND (s.scanned_at > $2 OR EXISTS (SELECT 1 FROM codes c WHERE c.person_id = s.person_id AND c.colour <> 'GREEN'))
			ORDER BY 1`, region, tx.Now.Add(-maxRuleWindow), since, tx.Now.Add(-older))
	if err != nil {
		return nil, fmt.Errorf("find persons in %s: %w", region, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("find persons in %s: %w", region, err)
	}
	return ids, nil
}

// waitsForCheckins reports whether a clause of rs can hold on a stay after
// its window (a stay_risk clause with normalDays).
func waitsForCheckins(rs *rules.RuleSet) bool {
	for _, c := range rs.Clauses {
		if c.Kind == rules.KindStayRisk && c.Params.NormalDays != nil {
			return true
		}
	}
	return false
}

// FanOutAll writes one codes:reevaluate_range task per id range of
// healthcode.ReevaluateBatchSize persons. The worker calls it after a rule set is published.
func (db *DB) FanOutAll(ctx context.Context, cause string) (int, error) {
	n := 0
	err := db.InTx(ctx, func(tx *Tx) error {
		var lo, hi *int64
		if err := tx.QueryRow(ctx, "SELECT min(id), max(id) FROM persons").Scan(&lo, &hi); err != nil {
			return fmt.Errorf("person id range: %w", err)
		}
		if lo == nil {
			return nil
		}
		for from := *lo; from <= *hi; from += healthcode.ReevaluateBatchSize {
			payload, _ := json.Marshal(healthcode.RangePayload{From: from, To: from + healthcode.ReevaluateBatchSize, Cause: cause})
			if _, err := tx.Outbox(ctx, healthcode.TaskReevaluateRange, payload, cause+":"+strconv.FormatInt(from, 10)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// ReevaluateIDs re-evaluates the listed persons in one transaction (at most
// healthcode.ReevaluateBatchSize). Workers call it. It returns the number of persons evaluated.
func (db *DB) ReevaluateIDs(ctx context.Context, ids []int64, cause string) (int, error) {
	if len(ids) > healthcode.ReevaluateBatchSize {
		return 0, fmt.Errorf("batch of %d persons exceeds %d", len(ids), healthcode.ReevaluateBatchSize)
	}
	var n int
	err := db.InTx(ctx, func(tx *Tx) error {
		codes, err := db.reevaluate(ctx, tx, ids, cause)
		n = len(codes)
		return err
	})
	return n, err
}

// ReevaluateRange re-evaluates persons with from <= id < to in one
// transaction. Workers call it. It locks every id of the range (persons
// created meanwhile wait for it) and records the range in code_evaluations,
// so that codes whose result did not change are not rewritten just to carry
// the new rule-set version (docs/rules.md).
func (db *DB) ReevaluateRange(ctx context.Context, from, to int64, cause string) (int, error) {
	if to-from > healthcode.ReevaluateBatchSize {
		return 0, fmt.Errorf("range of %d persons exceeds %d", to-from, healthcode.ReevaluateBatchSize)
	}
	if to <= from {
		return 0, nil
	}
	var n int
	err := db.InTx(ctx, func(tx *Tx) error {
		codes, err := db.reevaluateBatch(ctx, tx, cause, from, to-1, nil)
		n = len(codes)
		return err
	})
	return n, err
}

// reevaluateSelected re-evaluates, in one transaction, the persons whose ids
// the query selects, and returns how many it evaluated.
func (db *DB) reevaluateSelected(ctx context.Context, cause, query string, args ...any) (int, error) {
	var n int
	err := db.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("select persons to re-evaluate: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("select persons to re-evaluate: %w", err)
		}
		codes, err := db.reevaluate(ctx, tx, ids, cause)
		n = len(codes)
		return err
	})
	return n, err
}

// ReevaluateDue re-evaluates, in batches, the codes whose reevaluate_at has
// passed, until none is left or budget is spent. The per-minute scheduled
// task calls it. It returns the number of codes re-evaluated.
func (db *DB) ReevaluateDue(ctx context.Context, budget time.Duration) (int, error) {
	deadline := time.Now().Add(budget)
	total := 0
	for time.Now().Before(deadline) {
		n, err := db.reevaluateSelected(ctx, "time", `SELECT person_id FROM codes WHERE reevaluate_at <= $1
			ORDER BY reevaluate_at LIMIT $2 FOR UPDATE SKIP LOCKED`, db.now(), healthcode.ReevaluateBatchSize)
		if err != nil {
			return total, err
		}
		total += n
		if n < healthcode.ReevaluateBatchSize {
			break
		}
	}
	return total, nil
}
