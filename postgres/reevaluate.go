package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"healthcode"
	"healthcode/rules"
)

// personLockSpace is the first key of the advisory locks that serialise the
// re-evaluation of one person.
const personLockSpace = 7001

// ruleSetCache keeps parsed rule sets by version; published versions never
// change, so an entry never goes stale.
var ruleSetCache sync.Map // version → *rules.RuleSet

// EnsureRuleSet publishes the default rule set (rules.Default(), Annex 1)
// when no rule set is published yet. When one is, and the current default's
// version is not stored yet (the platform was upgraded to a corrected
// default, e.g. annex1-2020-03-31-r2), it stores that default as a DRAFT
// submitted by system: a published rule set never changes, and a new one
// comes into force only when a rule admin previews and approves it
// (docs/rules.md). Startup (serve, worker, dev) calls it; it is idempotent.
func (db *DB) EnsureRuleSet(ctx context.Context) error {
	return db.InTx(ctx, func(tx *Tx) error {
		var published *string
		var defaultStored bool
		if err := tx.QueryRow(ctx, `SELECT (SELECT version FROM rule_sets WHERE status = 'PUBLISHED'),
			EXISTS (SELECT 1 FROM rule_sets WHERE version = $1)`, rules.DefaultVersion).Scan(&published, &defaultStored); err != nil {
			return fmt.Errorf("look up published rule set: %w", err)
		}
		if published != nil && defaultStored {
			return nil
		}
		rs := rules.Default()
		body, err := json.Marshal(rs)
		if err != nil {
			return err
		}
		if published == nil {
			if _, err := tx.Exec(ctx, `INSERT INTO rule_sets (version, body, status, created_by, created_at, approved_by, published_at)
				VALUES ($1, $2, 'PUBLISHED', 'system', $3, 'system', $3) ON CONFLICT (version) DO UPDATE
				SET status = 'PUBLISHED', approved_by = 'system', published_at = $3 WHERE rule_sets.status = 'DRAFT'`,
				rs.Version, body, tx.Now); err != nil {
				return fmt.Errorf("publish default rule set: %w", err)
			}
			return tx.Audit(ctx, healthcode.AuditRecord{Action: "ruleset.publish", Object: "ruleset:" + rs.Version,
				Reason: "default rule set (Annex 1)"})
		}
		if _, err := tx.Exec(ctx, `INSERT INTO rule_sets (version, body, status, created_by, created_at)
			VALUES ($1, $2, 'DRAFT', 'system', $3) ON CONFLICT (version) DO NOTHING`, rs.Version, body, tx.Now); err != nil {
			return fmt.Errorf("submit default rule set: %w", err)
		}
		return tx.Audit(ctx, healthcode.AuditRecord{Action: "ruleset.submit", Object: "ruleset:" + rs.Version,
			Reason: "new default rule set (Annex 1), in force once a rule admin approves it; published: " + *published})
	})
}

// publishedRuleSet returns the rule set in force.
func publishedRuleSet(ctx context.Context, q pgx.Tx) (*rules.RuleSet, error) {
	var version string
	var body []byte
	err := q.QueryRow(ctx, "SELECT version, body FROM rule_sets WHERE status = 'PUBLISHED'").Scan(&version, &body)
	if errors.Is(err, pgx.ErrNoRows) {
		rs := rules.Default()
		return rs, nil
	} else if err != nil {
		return nil, fmt.Errorf("load published rule set: %w", err)
	}
	return parseRuleSet(version, body)
}

// parseRuleSet parses the body of a published rule set, once per version.
func parseRuleSet(version string, body []byte) (*rules.RuleSet, error) {
	if rs, ok := ruleSetCache.Load(version); ok {
		return rs.(*rules.RuleSet), nil
	}
	rs, err := rules.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("parse rule set %s: %w", version, err)
	}
	ruleSetCache.Store(version, rs)
	return rs, nil
}

// ruleSetByVersion returns the rule set of a version (published or not): from
// the cache, else from rule_sets; Default() for the default's version when
// it is not stored (before any rule set is published). Errors: NOT_FOUND
// for an unknown version.
func ruleSetByVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, version string) (*rules.RuleSet, error) {
	if rs, ok := ruleSetCache.Load(version); ok {
		return rs.(*rules.RuleSet), nil
	}
	var body []byte
	err := q.QueryRow(ctx, "SELECT body FROM rule_sets WHERE version = $1", version).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) && version == rules.DefaultVersion {
		return rules.Default(), nil
	} else if err != nil {
		return nil, mapError(err, "规则版本不存在")
	}
	return parseRuleSet(version, body)
}

// withGreenClause gives a GREEN code without clauses the clause G of rs
// (rules.GreenClause): every clause of the rule set it was evaluated under,
// checked and found not to hold. Codes are stored without it: it depends on
// the rule set only, so readers add it.
func withGreenClause(code *healthcode.Code, rs *rules.RuleSet) {
	if code.Colour != healthcode.Green || len(code.Clauses) > 0 {
		return
	}
	g, ok := greenClauses.Load(rs.Version)
	if !ok {
		cr := rules.GreenClause(rs)
		g, _ = greenClauses.LoadOrStore(rs.Version, healthcode.CodeClause{ID: cr.ID, Colour: healthcode.Colour(cr.Colour),
			Citation: cr.Citation, Reason: cr.Reason})
	}
	code.Clauses = []healthcode.CodeClause{g.(healthcode.CodeClause)}
}

// greenClauses caches clause G by rule-set version (versions never change).
var greenClauses sync.Map // version → healthcode.CodeClause

// factHorizon bounds how far back stays and designations are loaded: the
// evaluator ignores a stay that ended rules.StayHorizon or more ago (a
// stay_risk clause waiting for check-ins lapses then), and windows are
// shorter still (≤ 60 days).
const factHorizon = rules.StayHorizon

// areaRisksSQL selects the area designation in force at $1 of each region
// (the latest; LOW included), restricted by the condition EXTRA, with the
// time its level began (pending designations, awaiting their approval, are
// not in force): a re-designation at the same level does not move
// from_at (rules.AreaRisk). Few regions ever have a designation, so the
// window over their history is cheap.
const areaRisksSQL = `SELECT DISTINCT ON (region_code) region_code, level, from_at FROM (
		SELECT region_code, level, from_at, id,
		       level IS DISTINCT FROM lag(level) OVER (PARTITION BY region_code ORDER BY from_at, id) AS starts
		  FROM area_risks WHERE from_at <= $1 AND NOT pending EXTRA) h
	WHERE starts ORDER BY region_code, from_at DESC, id DESC`

// loadFacts reads the facts of persons (retracted ones excluded) and the
// area risks in force on every place they stayed and its ancestors, in one
// round trip.
func loadFacts(ctx context.Context, tx *Tx, ids []int64) (map[int64]*rules.Facts, error) {
	facts := make(map[int64]*rules.Facts, len(ids))
	for _, id := range ids {
		facts[id] = &rules.Facts{}
	}
	if len(ids) == 0 {
		return facts, nil
	}
	b := &pgx.Batch{}
	fl := queueFacts(b, tx.Now, facts, slices.Min(ids), slices.Max(ids), ids)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("load facts: %w", err)
	}
	fl.addAreaRisks()
	return facts, nil
}

// factLoad collects the results of the fact queries queueFacts queued.
type factLoad struct {
	facts map[int64]*rules.Facts
	risks map[string]rules.AreaRisk // in force, LOW left out
}

// queueFacts queues on b the queries of the facts of the persons with
// lo <= id <= hi, restricted to ids unless ids is nil, and of the area risks
// in force. Rows are added to facts, whose entries (one per person of the
// batch) must exist when the batch runs: rows of other persons are skipped.
// Call addAreaRisks once the batch has run.
func queueFacts(b *pgx.Batch, now time.Time, facts map[int64]*rules.Facts, lo, hi int64, ids []int64) *factLoad {
	fl := &factLoad{facts: facts, risks: map[string]rules.AreaRisk{}}
	horizon := now.Add(-factHorizon)
	// A dense batch (an id range) is read with a range scan, which is much
	// cheaper than matching an array of ids; rows of persons outside the
	// batch are skipped below.
	who, base := "person_id BETWEEN $1 AND $2", []any{lo, hi}
	if ids != nil && hi-lo >= int64(2*len(ids)) {
		who, base = "person_id = ANY($1)", []any{ids}
	}
	next := "$" + strconv.Itoa(len(base)+1) // the parameter after the person filter
	q := func(sql string, extra ...any) (string, []any) {
		sql = strings.ReplaceAll(strings.ReplaceAll(sql, "WHO", who), "$NEXT", next)
		return sql, append(slices.Clone(base), extra...)
	}
	sql, a := q(`SELECT id, person_id, place, from_at, to_at, source FROM stays
		WHERE WHO AND retracted_at IS NULL AND (to_at IS NULL OR to_at > $NEXT)`, horizon)
	// The rows of the two large fact tables are scanned into one variable
	// per query (each row's would escape to the heap), and their repeated
	// strings (places, sources) are shared.
	in := &interner{table: map[string]string{}}
	b.Queue(sql, a...).Query(func(rows pgx.Rows) error {
		var s rules.Stay
		var pid int64
		place, source := in.into(&s.Place), in.into(&s.Source)
		for rows.Next() {
			s.To = nil // a new time per stay, never one scanned into again
			if err := rows.Scan(&s.ID, &pid, place, &s.From, &s.To, source); err != nil {
				return fmt.Errorf("scan stay: %w", err)
			}
			if f := facts[pid]; f != nil { // else outside the batch
				f.Stays = append(f.Stays, s)
			}
		}
		return rows.Err()
	})
	// A scan of the person's code is a stay at the venue's region, from and
	// to the time of the scan (scans recorded before scans had a stay_id
	// have their stay in stays).
	sql, a = q(`SELECT stay_id, person_id, ltree2text(subpath(region_path, -1)), scanned_at FROM scans
		WHERE WHO AND stay_id IS NOT NULL AND retracted_at IS NULL AND scanned_at > $NEXT`, horizon)
	b.Queue(sql, a...).Query(func(rows pgx.Rows) error {
		var s rules.Stay
		var pid int64
		place := in.into(&s.Place)
		s.Source = rules.SourceScan
		for rows.Next() {
			at := new(time.Time) // the stay's To, a new time per stay
			if err := rows.Scan(&s.ID, &pid, place, at); err != nil {
				return fmt.Errorf("scan scan stay: %w", err)
			}
			s.From, s.To = *at, at
			if f := facts[pid]; f != nil {
				f.Stays = append(f.Stays, s)
			}
		}
		return rows.Err()
	})
	sql, a = q(`SELECT id, person_id, kind, at FROM medical_events WHERE WHO AND retracted_at IS NULL`)
	b.Queue(sql, a...).Query(func(rows pgx.Rows) error {
		var m rules.MedicalEvent
		var pid int64
		_, err := pgx.ForEachRow(rows, []any{&m.ID, &pid, &m.Kind, &m.At}, func() error {
			if f := facts[pid]; f != nil {
				f.Medical = append(f.Medical, m)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("scan medical event: %w", err)
		}
		return nil
	})
	// All health records: an old abnormal record keeps Y2 until enough
	// normal check-ins follow it, however long ago it was (retention bounds
	// how many there are).
	// Temperatures are kept in one slice per batch rather than one
	// allocation each; no symptoms are read as nil, not an empty array.
	sql, a = q(`SELECT id, person_id, at, temperature::float8, NULLIF(symptoms, '{}'), source FROM health_records
		WHERE WHO AND retracted_at IS NULL`)
	b.Queue(sql, a...).Query(func(rows pgx.Rows) error {
		var h rules.HealthRecord
		var pid int64
		var temp pgtype.Float8
		temps := make([]float64, 0, 2*max(len(facts), 64))
		source := in.into(&h.Source)
		for rows.Next() {
			h.Symptoms = nil // a new slice per record, never one scanned into again
			if err := rows.Scan(&h.ID, &pid, &h.At, &temp, &h.Symptoms, source); err != nil {
				return fmt.Errorf("scan health record: %w", err)
			}
			f := facts[pid]
			if f == nil {
				continue
			}
			h.Temperature = nil
			if temp.Valid {
				// Earlier records keep pointing into the old array should
				// append move it: its values never change.
				temps = append(temps, temp.Float64)
				h.Temperature = &temps[len(temps)-1]
			}
			f.Health = append(f.Health, h)
		}
		return rows.Err()
	})
	sql, a = q(`SELECT id, person_id, colour, from_at, until_at, approved_at IS NOT NULL, reason FROM designations
		WHERE WHO AND retracted_at IS NULL AND until_at > $NEXT`, horizon)
	b.Queue(sql, a...).Query(func(rows pgx.Rows) error {
		var d rules.Designation
		var pid int64
		_, err := pgx.ForEachRow(rows, []any{&d.ID, &pid, &d.Colour, &d.From, &d.Until, &d.Approved, &d.Reason}, func() error {
			if f := facts[pid]; f != nil {
				f.Designations = append(f.Designations, d)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("scan designation: %w", err)
		}
		return nil
	})
	// Every area designation in force (the latest of each region; few
	// regions ever have one), rather than those of the places the batch
	// stayed at: one small query in the same round trip, where looking up
	// the thousands of places and ancestors of a batch cost a round trip and
	// a large array of region codes.
	b.Queue(strings.Replace(areaRisksSQL, "EXTRA", "", 1), now).Query(func(rows pgx.Rows) error {
		var r rules.AreaRisk
		_, err := pgx.ForEachRow(rows, []any{&r.Region, &r.Level, &r.From}, func() error {
			if r.Level != rules.Low {
				fl.risks[r.Region] = r
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("scan area risk: %w", err)
		}
		return nil
	})
	return fl
}

// interner scans text columns into strings shared per distinct value.
type interner struct {
	table map[string]string
}

// into returns a scan target (pgtype.BytesScanner) that sets *dst.
func (in *interner) into(dst *string) *internedText { return &internedText{in, dst} }

type internedText struct {
	in  *interner
	dst *string
}

// ScanBytes implements pgtype.BytesScanner; v is only valid during the call.
func (t *internedText) ScanBytes(v []byte) error {
	s, ok := t.in.table[string(v)]
	if !ok {
		s = string(v)
		t.in.table[s] = s
	}
	*t.dst = s
	return nil
}

// addAreaRisks adds to each person's facts the area risks in force on the
// places they stayed at and their ancestors, each region once.
func (fl *factLoad) addAreaRisks() {
	if len(fl.risks) == 0 {
		return
	}
	for _, f := range fl.facts {
		for _, s := range f.Stays {
			for _, a := range placeAncestors(s.Place) {
				if r, ok := fl.risks[a]; ok && !slices.ContainsFunc(f.AreaRisks, func(x rules.AreaRisk) bool { return x.Region == a }) {
					f.AreaRisks = append(f.AreaRisks, r)
				}
			}
		}
	}
}

type riskEntry struct {
	risk  rules.AreaRisk
	added map[*rules.Facts]bool
}

// queueAreaRisks queues on b the query of the designation in force at now
// on each of the places and their ancestors, which fills out with those
// that have one (LOW left out) when the batch runs.
func queueAreaRisks(b *pgx.Batch, now time.Time, places map[string]bool, out map[string]*riskEntry) {
	var codes []string
	seen := map[string]bool{}
	for p := range places {
		for _, a := range placeAncestors(p) {
			if !seen[a] {
				seen[a] = true
				codes = append(codes, a)
			}
		}
	}
	if len(codes) == 0 {
		return
	}
	b.Queue(strings.Replace(areaRisksSQL, "EXTRA", "AND region_code = ANY($2)", 1), now, codes).Query(func(rows pgx.Rows) error {
		var r rules.AreaRisk
		_, err := pgx.ForEachRow(rows, []any{&r.Region, &r.Level, &r.From}, func() error {
			if r.Level != rules.Low {
				out[r.Region] = &riskEntry{risk: r, added: map[*rules.Facts]bool{}}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("scan area risk: %w", err)
		}
		return nil
	})
}

// placeAncestors returns the region codes that cover a place: the prefixes of
// level lengths (2, 4, 6, 9, 12, 15). Abroad places have none.
func placeAncestors(place string) []string {
	if len(place) < 2 || place[0] < '0' || place[0] > '9' {
		return nil
	}
	var out []string
	for _, n := range []int{2, 4, 6, 9, 12, 15} {
		if n <= len(place) {
			out = append(out, place[:n])
		}
	}
	return out
}

// reevaluate re-evaluates the codes of persons in this transaction: it locks
// the persons (in id order, so concurrent batches cannot deadlock), loads
// their facts, evaluates them with the published rule set, writes the codes
// whose result changed, and records each colour change in the history and the
// audit log, revokes superseded paper credentials and queues the resident's
// SMS. cause names what triggered it ("declaration:12", "area_risk:3",
// "ruleset:2020-04", "time"). It returns the new codes by person id.
func (db *DB) reevaluate(ctx context.Context, tx *Tx, ids []int64, cause string) (map[int64]*healthcode.Code, error) {
	if len(ids) == 0 {
		return map[int64]*healthcode.Code{}, nil
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	return db.reevaluateBatch(ctx, tx, cause, sorted[0], sorted[len(sorted)-1], sorted)
}

// reevaluateBatch is reevaluate of the persons with lo <= id <= hi whose ids
// are listed (sorted, without duplicates), or of every person of the range
// when ids is nil (ReevaluateRange).
//
// A whole range is recorded in code_evaluations as evaluated under the
// published rule set, and a code whose colour, clauses and re-evaluation time
// did not change is then not written at all: its effective rule-set version
// comes from that row (docs/rules.md, "The rule-set version of a code"). For
// that, every id of the range is locked, not only those of persons that
// exist: a person created meanwhile in the range waits until the batch
// commits, and its first code is evaluated under the rule set the row names.
func (db *DB) reevaluateBatch(ctx context.Context, tx *Tx, cause string, lo, hi int64, ids []int64) (map[int64]*healthcode.Code, error) {
	// One round trip: serialise re-evaluations of a person with
	// transaction-scoped advisory locks taken in id order (no row is written
	// to lock it, so concurrent batches cannot deadlock and persons' pages
	// stay clean); then, each statement seeing what committed before the
	// locks were granted, read the rule set in force, the persons that exist
	// with their current codes, the ranges evaluated under the rule set in
	// force, and the facts.
	b := &pgx.Batch{}
	personFilter, args := "", []any{lo, hi}
	if ids != nil {
		b.Queue(`SELECT pg_advisory_xact_lock($1::int, (x % 2147483648)::int)
			FROM unnest($2::bigint[]) WITH ORDINALITY AS u(x, ord) ORDER BY ord`, personLockSpace, ids)
		personFilter, args = " AND p.id = ANY($3)", append(args, ids)
	} else {
		b.Queue(`SELECT pg_advisory_xact_lock($1::int, (x % 2147483648)::int)
			FROM generate_series($2::bigint, $3::bigint) AS x ORDER BY x`, personLockSpace, lo, hi)
	}
	var rs *rules.RuleSet
	published := false // rs is a published rule set, not the default before any is
	var rsErr error
	// A whole range is recorded as evaluated under the rule set in force by
	// the statement that reads it (one snapshot, so the row names the rule
	// set the batch evaluates with), replacing the rows of other versions it
	// overlaps: only the published version's rows count.
	rsSQL, rsArgs := "SELECT version, body FROM rule_sets WHERE status = 'PUBLISHED'", []any(nil)
	if ids == nil {
		// (A range holds at most healthcode.ReevaluateBatchSize ids: see the CHECK of
		// code_evaluations.)
		rsSQL, rsArgs = `WITH pub AS (SELECT version, body FROM rule_sets WHERE status = 'PUBLISHED'),
			retired AS (
				DELETE FROM code_evaluations WHERE rule_set_version NOT IN (SELECT version FROM pub)
					AND from_id > $1 - $4::bigint AND from_id <= $2 AND to_id > $1),
			recorded AS (
				INSERT INTO code_evaluations (rule_set_version, from_id, to_id, evaluated_at)
				SELECT version, $1, $2 + 1, $3 FROM pub
				ON CONFLICT (rule_set_version, from_id) DO UPDATE
					SET to_id = GREATEST(code_evaluations.to_id, EXCLUDED.to_id), evaluated_at = EXCLUDED.evaluated_at)
			SELECT version, body FROM pub`, []any{lo, hi, tx.Now, healthcode.ReevaluateBatchSize}
	}
	b.Queue(rsSQL, rsArgs...).Query(func(rows pgx.Rows) error {
		var version string
		var body []byte
		if rows.Next() {
			if err := rows.Scan(&version, &body); err != nil {
				return fmt.Errorf("load published rule set: %w", err)
			}
			published = true
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("load published rule set: %w", err)
		}
		if !published {
			rs = rules.Default()
		} else {
			rs, rsErr = parseRuleSet(version, body)
		}
		return nil
	})
	type current struct {
		colour, version string
		clauses         []byte
		reeval          *time.Time
		has             bool
	}
	cur := map[int64]current{}
	var locked []int64
	facts := map[int64]*rules.Facts{}
	b.Queue(`SELECT p.id, c.colour IS NOT NULL, COALESCE(c.colour, ''), COALESCE(c.rule_set_version, ''),
		COALESCE(c.clauses, '[]'::jsonb), c.reevaluate_at
		FROM persons p LEFT JOIN codes c ON c.person_id = p.id AND c.person_id BETWEEN $1 AND $2
		WHERE p.id BETWEEN $1 AND $2`+personFilter+` ORDER BY p.id`, args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var pid int64
			var c current
			if err := rows.Scan(&pid, &c.has, &c.colour, &c.version, &c.clauses, &c.reeval); err != nil {
				return fmt.Errorf("scan code: %w", err)
			}
			locked = append(locked, pid)
			facts[pid] = &rules.Facts{}
			if c.has {
				cur[pid] = c
			}
		}
		return rows.Err()
	})
	type evaluated struct {
		version  string
		from, to int64
	}
	var covered []evaluated
	// (A range holds at most healthcode.ReevaluateBatchSize ids: see the CHECK of code_evaluations.)
	b.Queue(`SELECT e.rule_set_version, e.from_id, e.to_id FROM code_evaluations e
		JOIN rule_sets r ON r.version = e.rule_set_version AND r.status = 'PUBLISHED'
		WHERE e.from_id > $1 - $3::bigint AND e.from_id <= $2 AND e.to_id > $1`, lo, hi, healthcode.ReevaluateBatchSize).Query(func(rows pgx.Rows) error {
		var err error
		covered, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (evaluated, error) {
			var e evaluated
			err := row.Scan(&e.version, &e.from, &e.to)
			return e, err
		})
		if err != nil {
			return fmt.Errorf("scan code evaluation: %w", err)
		}
		return nil
	})
	fl := queueFacts(b, tx.Now, facts, lo, hi, ids)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("lock persons and load codes and facts: %w", err)
	}
	if rsErr != nil {
		return nil, rsErr
	}
	fl.addAreaRisks()
	// The effective version of a code a range evaluated under the rule set in
	// force covers is that rule set's.
	for _, e := range covered {
		if e.version != rs.Version {
			continue // published after rs was read
		}
		for pid, c := range cur {
			if c.version != rs.Version && e.from <= pid && pid < e.to {
				c.version = rs.Version
				cur[pid] = c
			}
		}
	}
	// Whether codes whose result did not change take the new version from
	// the range's code_evaluations row (recorded above) instead of being
	// relabelled.
	relabel := ids == nil && published

	actor := healthcode.ActorFromContext(ctx)
	if actor == nil {
		actor = healthcode.SystemActor
	}
	out := make(map[int64]*healthcode.Code, len(locked))
	// The writes of the whole batch go in two statements over arrays.
	var w struct {
		pids                       []int64
		colours, clauses, versions []string
		reevals                    []*time.Time
		hPids                      []int64
		hFrom                      []*string
		hTo, hClauses, hVersions   []string
		lPids                      []int64
		lVersions                  []string
		lReevals                   []*time.Time
		vPids                      []int64
	}
	var changed []int64
	for _, pid := range locked {
		res := rules.Evaluate(facts[pid], rs, tx.Now)
		code := codeFromResult(pid, &res, tx.Now)
		out[pid] = code
		clauses := emptyClauses // most codes: green without a clause
		if len(code.Clauses) > 0 {
			var err error
			if clauses, err = json.Marshal(code.Clauses); err != nil {
				return nil, err
			}
		}
		old, had := cur[pid]
		if had && old.colour == string(code.Colour) && old.version == code.RuleSetVersion &&
			sameClauses(old.clauses, clauses) && equalTimes(old.reeval, code.ReevaluateAt) {
			continue // nothing to write
		}
		if had && old.colour == string(code.Colour) && sameClauses(old.clauses, clauses) {
			// Only the rule-set version or the re-evaluation time moved (a rule
			// publication, mostly): a lighter update without the clauses.
			if equalTimes(old.reeval, code.ReevaluateAt) {
				if !relabel {
					w.vPids = append(w.vPids, pid) // the version alone
				}
				continue
			}
			w.lPids = append(w.lPids, pid)
			w.lVersions = append(w.lVersions, code.RuleSetVersion)
			w.lReevals = append(w.lReevals, code.ReevaluateAt)
			continue
		}
		w.pids = append(w.pids, pid)
		w.colours = append(w.colours, string(code.Colour))
		w.clauses = append(w.clauses, string(clauses))
		w.versions = append(w.versions, code.RuleSetVersion)
		w.reevals = append(w.reevals, code.ReevaluateAt)
		if had && old.colour == string(code.Colour) {
			continue
		}
		var from *string
		if had {
			from = &old.colour
		}
		ids := make([]string, len(code.Clauses))
		for i, c := range code.Clauses {
			ids[i] = c.ID
		}
		w.hPids = append(w.hPids, pid)
		w.hFrom = append(w.hFrom, from)
		w.hTo = append(w.hTo, string(code.Colour))
		w.hClauses = append(w.hClauses, strings.Join(ids, ","))
		w.hVersions = append(w.hVersions, code.RuleSetVersion)
		changed = append(changed, pid)
	}
	// The writes go in one round trip, with the notification targets of the
	// colour changes and the revocation of their paper codes; none when no
	// result changed.
	wb := &pgx.Batch{}
	if len(w.pids) > 0 {
		// Existing codes are updated in place (cheaper than an upsert); the
		// first code of a person is inserted.
		wb.Queue(`WITH x AS (
				SELECT p, c, j, v, r FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $6::timestamptz[]) AS x(p, c, j, v, r)),
			upd AS (
				UPDATE codes SET colour = x.c, clauses = x.j::jsonb, rule_set_version = x.v, updated_at = $5, reevaluate_at = x.r
				FROM x WHERE codes.person_id = x.p RETURNING codes.person_id)
			INSERT INTO codes (person_id, colour, clauses, rule_set_version, updated_at, reevaluate_at)
			SELECT p, c, j::jsonb, v, $5, r FROM x WHERE p NOT IN (SELECT person_id FROM upd)`,
			w.pids, w.colours, w.clauses, w.versions, tx.Now, w.reevals)
	}
	if len(w.vPids) > 0 {
		wb.Queue(`UPDATE codes SET rule_set_version = $2, updated_at = $3
			WHERE person_id = ANY($1)`, w.vPids, rs.Version, tx.Now)
	}
	if len(w.lPids) > 0 {
		wb.Queue(`UPDATE codes SET rule_set_version = x.v, updated_at = $3, reevaluate_at = x.r
			FROM unnest($1::bigint[], $2::text[], $4::timestamptz[]) AS x(p, v, r) WHERE codes.person_id = x.p`,
			w.lPids, w.lVersions, tx.Now, w.lReevals)
	}
	if len(w.hPids) > 0 {
		wb.Queue(`INSERT INTO code_history (person_id, from_colour, to_colour, clause_ids, rule_set_version, cause, actor, at)
			SELECT p, f, t, CASE WHEN c = '' THEN '{}'::text[] ELSE string_to_array(c, ',') END, v, $6, $7, $8
			FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS x(p, f, t, c, v)`,
			w.hPids, w.hFrom, w.hTo, w.hClauses, w.hVersions, cause, actor.Subject(), tx.Now)
	}
	var targets map[int64]notifyTarget
	if len(changed) > 0 {
		targets = queueNotifyTargets(wb, changed)
		queueRevokePrinted(wb, changed, tx.Now)
		// Last: the audit chain's lock, held until the commit.
		tx.queueAuditHead(wb)
	}
	if wb.Len() > 0 {
		if err := tx.SendBatch(ctx, wb).Close(); err != nil {
			return nil, fmt.Errorf("write codes: %w", err)
		}
	}
	if len(changed) > 0 {
		before := make(map[int64]string, len(cur))
		for pid, c := range cur {
			before[pid] = c.colour
		}
		if err := db.onColourChange(ctx, tx, changed, targets, out, before, cause); err != nil {
			return nil, err
		}
	}
	// Written and recorded without it, a green code is returned with clause G.
	for _, code := range out {
		withGreenClause(code, rs)
	}
	return out, nil
}

// notifyTarget is whom to tell of a person's colour change.
type notifyTarget struct {
	region, name string
	phone        []byte
}

// queueNotifyTargets queues on b the query of the residence, masked name and
// phone (the person's own or their guardian's) of persons, and returns the
// map the batch fills.
func queueNotifyTargets(b *pgx.Batch, pids []int64) map[int64]notifyTarget {
	targets := make(map[int64]notifyTarget, len(pids))
	b.Queue(`SELECT p.id, p.residence_code, p.name_masked, COALESCE(p.phone_enc, ra.phone_enc)
		FROM persons p
		LEFT JOIN account_persons ap ON ap.person_id = p.id
		LEFT JOIN resident_accounts ra ON ra.id = ap.account_id
		WHERE p.id = ANY($1)`, pids).Query(func(rows pgx.Rows) error {
		var id int64
		var t notifyTarget
		_, err := pgx.ForEachRow(rows, []any{&id, &t.region, &t.name, &t.phone}, func() error { targets[id] = t; return nil })
		if err != nil {
			return fmt.Errorf("scan person for notification: %w", err)
		}
		return nil
	})
	return targets
}

// onColourChange queues the SMS to the person's phone (or their guardian's),
// deduplicated per change, and audits each colour change, in one round trip:
// the audit chain's lock is held already (queueAuditHead).
func (db *DB) onColourChange(ctx context.Context, tx *Tx, changed []int64, targets map[int64]notifyTarget, codes map[int64]*healthcode.Code, before map[int64]string, cause string) error {
	recs := make([]healthcode.AuditRecord, 0, len(changed))
	var msgs []healthcode.SMSMessage
	for _, pid := range changed {
		code, t := codes[pid], targets[pid]
		from := before[pid]
		clauseIDs := make([]string, len(code.Clauses))
		for i, c := range code.Clauses {
			clauseIDs[i] = c.ID
		}
		recs = append(recs, healthcode.AuditRecord{RegionCode: t.region, Action: "code.colour_change",
			Object: "person:" + strconv.FormatInt(pid, 10), Reason: cause,
			Detail: map[string]any{"from": from, "to": string(code.Colour), "ruleSet": code.RuleSetVersion, "clauses": clauseIDs}})
		if from == "" || t.phone == nil {
			continue // first issue: shown on screen; no phone: nobody to text
		}
		phone, err := db.PII.Decrypt(t.phone)
		if err != nil {
			return fmt.Errorf("decrypt phone of person %d: %w", pid, err)
		}
		msgs = append(msgs, healthcode.SMSMessage{Phone: phone,
			Text: fmt.Sprintf("【陕西健康码】%s的健康码已由%s变为%s。如有异议，可在健康码页面在线申诉或拨打12320。",
				t.name, healthcode.Colour(from).Label(), code.Colour.Label()),
			Key: fmt.Sprintf("colour:%d:%s:%s", pid, tx.Now.Format(time.RFC3339Nano), code.Colour)})
	}
	b := &pgx.Batch{}
	if err := tx.queueSMSBatch(b, msgs); err != nil {
		return err
	}
	if err := tx.queueAuditBatch(ctx, b, recs); err != nil {
		return err
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("queue SMS and audit colour changes: %w", err)
	}
	return nil
}

func codeFromResult(pid int64, res *rules.Result, now time.Time) *healthcode.Code {
	c := &healthcode.Code{PersonID: pid, Colour: healthcode.Colour(res.Colour), RuleSetVersion: res.RuleSetVersion,
		UpdatedAt: now, ReevaluateAt: res.ReevaluateAt, Clauses: make([]healthcode.CodeClause, len(res.Clauses))}
	for i := range res.Clauses {
		c.Clauses[i] = clauseOf(&res.Clauses[i])
	}
	return c
}

// clauseOf is the code's clause of a rules engine's clause.
func clauseOf(cl *rules.ClauseResult) healthcode.CodeClause {
	c := healthcode.CodeClause{ID: cl.ID, Colour: healthcode.Colour(cl.Colour), Citation: cl.Citation,
		Reason: cl.Reason, FactIDs: cl.FactIDs, FactKind: cl.FactKind}
	if cl.CheckIns != nil {
		c.CheckIns = &healthcode.CheckInProgress{Needed: cl.CheckIns.Needed, Done: cl.CheckIns.Done}
	}
	return c
}

var emptyClauses = []byte("[]")

func equalTimes(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// sameClauses compares stored clauses (jsonb text, which PostgreSQL
// normalises) with freshly encoded ones.
func sameClauses(stored, fresh []byte) bool {
	if string(stored) == string(fresh) {
		return true
	}
	var cs []healthcode.CodeClause
	if json.Unmarshal(stored, &cs) != nil {
		return false
	}
	if cs == nil {
		cs = []healthcode.CodeClause{}
	}
	again, err := json.Marshal(cs)
	return err == nil && string(again) == string(fresh)
}
