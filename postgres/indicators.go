package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"healthcode"
	"healthcode/rules"
)

// IndicatorService computes the supervision indicators of SPEC §6 into
// indicator_daily, one China-Standard-Time day at a time, and reads them.
// Every indicator is a (numerator, denominator) pair per day and region, so
// that a region's value over a period is a sum (see healthcode.Indicators and
// docs/supervision.md, "Indicators", for every formula).
//
// Writes that change an indicator's inputs mark their days dirty in their
// own transaction (Tx.MarkIndicatorDays); the worker task
// indicators:recompute marks today and yesterday, then recomputes the dirty
// days in order (RecomputeDirty).
type IndicatorService struct {
	DB *DB
	// JointMeetingDue is the deadline of joint meeting lists; zero means
	// DefaultJointMeetingDue (as SupervisionService.JointMeetingDue).
	JointMeetingDue time.Time
}

var (
	_ healthcode.IndicatorService    = (*IndicatorService)(nil)
	_ healthcode.IndicatorRecomputer = (*IndicatorService)(nil)
)

// MaxIndicatorDays bounds the days of one IndicatorSeries or IndicatorValues
// call.
const MaxIndicatorDays = 366

func (s *IndicatorService) jointMeetingDue() time.Time {
	if s.JointMeetingDue.IsZero() {
		return DefaultJointMeetingDue
	}
	return s.JointMeetingDue
}

// MarkIndicatorDays records that this transaction changed inputs of the
// indicators of the days (China Standard Time) that contain ts; zero times
// are ignored. InTx writes the marks just before the commit, so the row lock
// that a mark takes is held only for the commit. Any service writing in a Tx
// may call it.
func (tx *Tx) MarkIndicatorDays(ts ...time.Time) {
	for _, t := range ts {
		if t.IsZero() {
			continue
		}
		if tx.dirtyDays == nil {
			tx.dirtyDays = map[time.Time]bool{}
		}
		tx.dirtyDays[healthcode.DayStart(t)] = true
	}
}

func (tx *Tx) flushIndicatorDays(ctx context.Context) error {
	if len(tx.dirtyDays) == 0 {
		return nil
	}
	days := make([]time.Time, 0, len(tx.dirtyDays))
	for d := range tx.dirtyDays {
		days = append(days, d)
	}
	tx.dirtyDays = nil
	return markIndicatorDays(ctx, tx, days)
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// markIndicatorDays marks days (CST midnights) dirty. A mark that exists
// already gets a new marked_at: a recomputation that started before this
// write then keeps the mark (it deletes only the mark it read), so the day
// is computed again with this write's data. Days are locked in order.
func markIndicatorDays(ctx context.Context, q execer, days []time.Time) error {
	slices.SortFunc(days, func(a, b time.Time) int { return a.Compare(b) })
	if _, err := q.Exec(ctx, `INSERT INTO indicator_dirty_days (day, marked_at)
		SELECT d, clock_timestamp() FROM unnest($1::date[]) AS d ORDER BY d
		ON CONFLICT (day) DO UPDATE SET marked_at = EXCLUDED.marked_at`, days); err != nil {
		return fmt.Errorf("mark indicator days: %w", err)
	}
	return nil
}

// MarkDays marks days (CST midnights) dirty, so that the next
// RecomputeDirty computes them. The demo province calls it after replaying
// its weeks; it checks no grants. Errors: storage errors.
func (s *IndicatorService) MarkDays(ctx context.Context, days []time.Time) error {
	return markIndicatorDays(ctx, s.DB.Pool, days)
}

// attach is the SQL expression of the region a row of path is counted at:
// its county (the path's first three labels), or the path itself when it
// lies above county level (a city or the province).
func attach(path string) string {
	return "(CASE WHEN nlevel(" + path + ") > 3 THEN subpath(" + path + ", 0, 3) ELSE " + path + " END)"
}

// censusRows are the census populations at their census units (the ten
// cities, whose figures exclude 杨凌示范区, and 杨凌示范区 itself).
const censusRows = `SELECT r.path, c.population::float8 AS pop FROM census_populations c JOIN regions r ON r.code = c.region_code`

// indicatorStatement computes the rows of some indicators for one day. Its
// SQL is a read-only SELECT of (indicator, path, numerator, denominator), at
// most one row per indicator and path, with the named arguments of dayArgs.
type indicatorStatement struct {
	IDs []string
	SQL string
}

// indicatorStatements are the set-based computations of RecomputeDay, one
// pass over each source table.
var indicatorStatements = []indicatorStatement{
	{
		// COVERAGE: persons with a code living in the county, created by the
		// end of the day ÷ census population (at the census unit).
		// COVERAGE_GROWTH: those created during the day ÷ census population.
		IDs: []string{healthcode.IndCoverage, healthcode.IndCoverageGrowth},
		SQL: `WITH by_place AS (
				SELECT p.residence_path AS path, count(*) AS total,
					count(*) FILTER (WHERE p.created_at >= @from::timestamptz) AS fresh
				FROM persons p JOIN codes c ON c.person_id = p.id
				WHERE p.created_at < @to::timestamptz
				GROUP BY p.residence_path),
			u AS (
				SELECT ` + attach("path") + ` AS path, total::float8 AS total, fresh::float8 AS fresh, 0::float8 AS pop FROM by_place
				UNION ALL
				SELECT path, 0, 0, pop FROM (` + censusRows + `) c)
			SELECT 'COVERAGE', path, sum(total), sum(pop) FROM u GROUP BY path
			UNION ALL
			SELECT 'COVERAGE_GROWTH', path, sum(fresh), sum(pop) FROM u GROUP BY path`,
	},
	{
		// SCANS_PER_1000: scans of the day at venues in the county ÷ census
		// population (×1000 by the registry's scale).
		IDs: []string{healthcode.IndScansPer1000},
		SQL: `WITH by_place AS (
				SELECT region_path AS path, count(*) AS n FROM scans
				WHERE scanned_at >= @from::timestamptz AND scanned_at < @to::timestamptz
				GROUP BY region_path),
			u AS (
				SELECT ` + attach("path") + ` AS path, n::float8 AS n, 0::float8 AS pop FROM by_place
				UNION ALL
				SELECT path, 0, pop FROM (` + censusRows + `) c)
			SELECT 'SCANS_PER_1000', path, sum(n), sum(pop) FROM u GROUP BY path`,
	},
	{
		// CHECKPOINT_TYPES: per county, the types required at the response
		// level in force at the end of the day that have an active venue (of
		// an active institution, registered by the end of the day) in the
		// county ÷ the number of required types. No rows when none is
		// required (level 0).
		IDs: []string{healthcode.IndCheckpointTypes},
		SQL: `WITH covered AS (
				SELECT ` + attach("v.region_path") + ` AS path, count(DISTINCT v.type) AS n
				FROM venues v JOIN institutions i ON i.id = v.institution_id
				WHERE v.status = 'ACTIVE' AND i.status = 'ACTIVE' AND v.created_at < @to::timestamptz
				  AND v.type = ANY (@types::text[])
				GROUP BY 1)
			SELECT 'CHECKPOINT_TYPES', r.path, COALESCE(covered.n, 0), cardinality(@types::text[])
			FROM regions r LEFT JOIN covered ON covered.path = r.path
			WHERE r.level = 'COUNTY' AND cardinality(@types::text[]) > 0`,
	},
	{
		// DATA_TIMELINESS (city rows): 1/1 when the day's data reached the
		// provincial platform and the national push before 10:00 of the next
		// day — the national push of the day acknowledged and not late, and,
		// for a city with a sub-system (an API key in force that day), its
		// sub-system's last push of the day's records (subsystem_pushes)
		// before the same deadline; 0/1 once the deadline has passed
		// otherwise; no row before.
		IDs: []string{healthcode.IndDataTimeliness},
		SQL: `WITH t AS (
				SELECT r.path, @now::timestamptz > @push_due::timestamptz AS due_passed,
					n.acked_at IS NOT NULL AND NOT n.late
					AND (k.city IS NULL OR (sp.last_at IS NOT NULL AND sp.last_at <= @push_due::timestamptz)) AS on_time
				FROM regions r
				LEFT JOIN national_pushes n ON n.day = @day::date
				LEFT JOIN LATERAL (SELECT a.city_code AS city FROM api_keys a WHERE a.city_code = r.code
					AND a.created_at < @to::timestamptz AND (a.revoked_at IS NULL OR a.revoked_at >= @from::timestamptz) LIMIT 1) k ON true
				LEFT JOIN subsystem_pushes sp ON sp.city_code = r.code AND sp.day = @day::date
				WHERE r.level = 'CITY')
			SELECT 'DATA_TIMELINESS', path, CASE WHEN on_time THEN 1 ELSE 0 END, 1 FROM t WHERE on_time OR due_passed`,
	},
	{
		// WEEKLY_REPORT (city rows, on the Friday of each week only): 1/1
		// when the week's report was submitted on time (before Friday 16:00);
		// 0/1 once that deadline has passed otherwise (late, draft or
		// missing).
		IDs: []string{healthcode.IndWeeklyReport},
		SQL: `SELECT 'WEEKLY_REPORT', r.path,
				CASE WHEN w.status = 'SUBMITTED' AND w.on_time THEN 1 ELSE 0 END, 1
			FROM regions r LEFT JOIN weekly_reports w ON w.region_code = r.code AND w.week_start = @monday::date
			WHERE r.level = 'CITY' AND @friday::boolean
			  AND ((w.status = 'SUBMITTED' AND w.on_time) OR @now::timestamptz > @weekly_due::timestamptz)`,
	},
	{
		// JOINT_MEETING (city and county rows): 1/1 when the region has a
		// list submitted on time by the end of the day; 0/1 once the deadline
		// has passed (by the end of the day, or now if earlier) otherwise.
		IDs: []string{healthcode.IndJointMeeting},
		SQL: `SELECT 'JOINT_MEETING', r.path, CASE WHEN j.on_time THEN 1 ELSE 0 END, 1
			FROM regions r LEFT JOIN LATERAL (
				SELECT true AS on_time FROM joint_meeting_lists j
				WHERE j.region_code = r.code AND j.on_time AND j.submitted_at < @to::timestamptz LIMIT 1) j ON true
			WHERE r.level IN ('CITY', 'COUNTY')
			  AND (j.on_time OR LEAST(@to::timestamptz, @now::timestamptz) > @jm_due::timestamptz)`,
	},
	{
		// Tickets, counted at the county of their responsible region (the
		// unit's, or the place's county before dispatch). Every step of a
		// ticket sets its updated_at, so a ticket with an event on the day
		// has updated_at on or after the day's start (tickets_updated_idx).
		// Tickets merged into another (duplicates) are left out.
		// HOTLINE_RESPONSE: tickets whose (latest) sign clock started on the
		// day and that were signed by sign_due ÷ those tickets.
		// HOTLINE_RESOLUTION: tickets opened on the day (not merged into
		// another) that are now CLOSED ÷ those tickets.
		IDs: []string{healthcode.IndHotlineResponse, healthcode.IndHotlineResolution},
		SQL: `WITH g AS (
				SELECT ` + attach("t.region_path") + ` AS path,
					count(*) FILTER (WHERE t.sign_started_at >= @from::timestamptz AND t.sign_started_at < @to::timestamptz
						AND t.state <> 'MERGED' AND t.signed_at >= t.sign_started_at AND t.signed_at <= t.sign_due) AS signed,
					count(*) FILTER (WHERE t.sign_started_at >= @from::timestamptz AND t.sign_started_at < @to::timestamptz
						AND t.state <> 'MERGED') AS dispatched,
					count(*) FILTER (WHERE t.created_at >= @from::timestamptz AND t.created_at < @to::timestamptz
						AND t.state = 'CLOSED') AS closed,
					count(*) FILTER (WHERE t.created_at >= @from::timestamptz AND t.created_at < @to::timestamptz
						AND t.state <> 'MERGED') AS opened
				FROM tickets t WHERE t.updated_at >= @from::timestamptz
				GROUP BY 1)
			SELECT 'HOTLINE_RESPONSE', path, signed, dispatched FROM g WHERE dispatched > 0
			UNION ALL
			SELECT 'HOTLINE_RESOLUTION', path, closed, opened FROM g WHERE opened > 0`,
	},
	{
		// Ticket steps of the day, at the county of the ticket.
		// HOTLINE_SATISFACTION: Σ weight ÷ CALLBACK steps (valid callbacks:
		// the resident was reached and gave a verdict); weight 0 for 不满意
		// (the callback reopened the ticket), for a callback that closed it
		// the ticket's recorded satisfaction (满意 1, 基本满意 0.8) when it is
		// the ticket's last callback, else 0.8 (the ticket keeps only its
		// latest verdict; an earlier closing one was at least 基本满意).
		// HOTLINE_RETURN: RETURN steps ÷ dispatches (DISPATCH, REDISPATCH,
		// and the reopenings: CALLBACK or REOPEN into DISPATCHED).
		// HOTLINE_REOPEN: reopenings (重办: a CALLBACK into DISPATCHED, or
		// REOPEN of a closed ticket) ÷ CALLBACK steps.
		IDs: []string{healthcode.IndHotlineSatisfaction, healthcode.IndHotlineReturn, healthcode.IndHotlineReopen},
		SQL: `WITH s AS (
				SELECT ` + attach("t.region_path") + ` AS path, s.action, s.to_state,
					CASE WHEN s.action <> 'CALLBACK' OR s.to_state <> 'CLOSED' THEN 0
						WHEN EXISTS (SELECT 1 FROM ticket_steps l WHERE l.ticket_id = s.ticket_id
							AND l.action = 'CALLBACK' AND l.id > s.id) THEN 0.8
						WHEN t.satisfaction = 'SATISFIED' THEN 1
						WHEN t.satisfaction = 'BASICALLY_SATISFIED' THEN 0.8
						ELSE 0 END AS weight
				FROM tickets t JOIN ticket_steps s ON s.ticket_id = t.id
				WHERE t.updated_at >= @from::timestamptz
				  AND s.created_at >= @from::timestamptz AND s.created_at < @to::timestamptz),
			g AS (
				SELECT path, sum(weight) AS satisfied,
					count(*) FILTER (WHERE action = 'CALLBACK') AS callbacks,
					count(*) FILTER (WHERE action = 'RETURN') AS returns,
					count(*) FILTER (WHERE to_state = 'DISPATCHED' AND action IN ('DISPATCH', 'REDISPATCH', 'CALLBACK', 'REOPEN')) AS dispatches,
					count(*) FILTER (WHERE (action = 'CALLBACK' AND to_state = 'DISPATCHED') OR action = 'REOPEN') AS reopens
				FROM s GROUP BY path)
			SELECT 'HOTLINE_SATISFACTION', path, satisfied, callbacks FROM g WHERE callbacks > 0
			UNION ALL
			SELECT 'HOTLINE_RETURN', path, returns, dispatches FROM g WHERE dispatches > 0 OR returns > 0
			UNION ALL
			SELECT 'HOTLINE_REOPEN', path, reopens, callbacks FROM g WHERE callbacks > 0 OR reopens > 0`,
	},
	{
		// City sub-system deviations (纠正偏差), at the county of the
		// person's residence. DEVIATIONS_OPEN (LEVEL): deviations opened by
		// the end of the day and not corrected by then; every county has a
		// row, zeros included, so that a period's last day always holds the
		// stock. DEVIATIONS_CORRECTED (COUNT): deviations corrected during
		// the day.
		IDs: []string{healthcode.IndDeviationsOpen, healthcode.IndDeviationsCorrected},
		SQL: `WITH g AS (
				SELECT ` + attach("d.region_path") + ` AS path,
					count(*) FILTER (WHERE d.corrected_at IS NULL OR d.corrected_at >= @to::timestamptz) AS open,
					count(*) FILTER (WHERE d.corrected_at >= @from::timestamptz AND d.corrected_at < @to::timestamptz) AS corrected
				FROM subsystem_deviations d
				WHERE d.opened_at < @to::timestamptz AND (d.corrected_at IS NULL OR d.corrected_at >= @from::timestamptz)
				GROUP BY 1)
			SELECT 'DEVIATIONS_OPEN', r.path, COALESCE(g.open, 0), 0
			FROM regions r LEFT JOIN g ON g.path = r.path WHERE r.level = 'COUNTY'
			UNION ALL
			SELECT 'DEVIATIONS_CORRECTED', path, corrected, 0 FROM g WHERE corrected > 0`,
	},
	{
		// HOTLINE_OVERDUE (COUNT): tickets that went overdue on the day —
		// the scheduler's OVERDUE notices, one per missed deadline — at the
		// ticket's county.
		IDs: []string{healthcode.IndHotlineOverdue},
		SQL: `SELECT 'HOTLINE_OVERDUE', ` + attach("t.region_path") + `, count(*), 0
			FROM ticket_notices n JOIN tickets t ON t.id = n.ticket_id
			WHERE n.kind = 'OVERDUE' AND n.created_at >= @from::timestamptz AND n.created_at < @to::timestamptz
			GROUP BY 2`,
	},
}

// selectIndicatorRows wraps a statement's SELECT to name each row's region.
func selectIndicatorRows(sel string) string {
	return `SELECT x.indicator, r.code, r.path::text, x.num::float8, x.den::float8
		FROM (` + sel + `) AS x (indicator, path, num, den) JOIN regions r ON r.path = x.path`
}

// computedIndicators are the ids RecomputeDay writes; it deletes only those,
// so indicators computed elsewhere keep their rows.
func computedIndicators() []string {
	var ids []string
	for _, st := range indicatorStatements {
		ids = append(ids, st.IDs...)
	}
	return ids
}

// dayArgs are the named arguments of the statements for the day from.
func (s *IndicatorService) dayArgs(ctx context.Context, tx *Tx, from time.Time) (pgx.NamedArgs, error) {
	to := from.AddDate(0, 0, 1)
	level := healthcode.DefaultResponseLevel
	err := tx.QueryRow(ctx, `SELECT level FROM response_levels WHERE from_at < $1 ORDER BY from_at DESC, id DESC LIMIT 1`, to).Scan(&level)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("response level: %w", err)
	}
	types := healthcode.RequiredCheckpointTypes(level)
	if types == nil {
		types = []string{}
	}
	monday, weeklyDue := weekOf(from)
	return pgx.NamedArgs{
		"day": from, "from": from, "to": to, "now": tx.Now, "types": types,
		"push_due": to.Add(10 * time.Hour),
		"monday":   monday, "friday": from.Weekday() == time.Friday, "weekly_due": weeklyDue,
		"jm_due": s.jointMeetingDue(),
	}, nil
}

// RecomputeDay rewrites every computed indicator row of the day (China
// Standard Time) that contains day, in one transaction: it runs the
// set-based statements (one SELECT … GROUP BY per source), replaces the
// day's rows with theirs in one INSERT, and deletes the day's dirty mark if
// it is still the one it read
// when it started (a write during the recomputation re-marks the day, which
// is then computed again). Recomputations of one day are serialised. The
// worker (indicators:recompute) and tests call it; it checks no grants.
// Errors: database errors only.
func (s *IndicatorService) RecomputeDay(ctx context.Context, day time.Time) error {
	from := healthcode.DayStart(day)
	return s.DB.InTx(ctx, func(tx *Tx) error {
		if err := xactLock(ctx, tx, "hc:indicators:"+from.Format("2006-01-02")); err != nil {
			return err
		}
		var marked *time.Time
		err := tx.QueryRow(ctx, "SELECT marked_at FROM indicator_dirty_days WHERE day = $1", from).Scan(&marked)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read dirty mark: %w", err)
		}
		args, err := s.dayArgs(ctx, tx, from)
		if err != nil {
			return err
		}
		// The statements only read, so PostgreSQL may run them with parallel
		// workers (an INSERT … SELECT never does); the day's few hundred rows
		// are then written in one INSERT.
		var inds, codes, paths []string
		var nums, dens []float64
		for _, st := range indicatorStatements {
			rows, err := tx.Query(ctx, selectIndicatorRows(st.SQL), args)
			if err != nil {
				return fmt.Errorf("compute %s for %s: %w", strings.Join(st.IDs, ", "), from.Format("2006-01-02"), err)
			}
			var ind, code, path string
			var num, den float64
			if _, err := pgx.ForEachRow(rows, []any{&ind, &code, &path, &num, &den}, func() error {
				inds, codes, paths, nums, dens = append(inds, ind), append(codes, code), append(paths, path), append(nums, num), append(dens, den)
				return nil
			}); err != nil {
				return fmt.Errorf("compute %s for %s: %w", strings.Join(st.IDs, ", "), from.Format("2006-01-02"), err)
			}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM indicator_daily WHERE day = $1 AND indicator = ANY ($2)", from, computedIndicators()); err != nil {
			return fmt.Errorf("delete indicator rows: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO indicator_daily (day, indicator, region_code, region_path, numerator, denominator, computed_at)
			SELECT $1::date, i, c, p::ltree, n, d, $2::timestamptz
			FROM unnest($3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[]) AS x (i, c, p, n, d)`,
			from, tx.Now, inds, codes, paths, nums, dens); err != nil {
			return fmt.Errorf("store indicator rows: %w", err)
		}
		if marked != nil {
			if _, err := tx.Exec(ctx, "DELETE FROM indicator_dirty_days WHERE day = $1 AND marked_at = $2", from, *marked); err != nil {
				return fmt.Errorf("clear dirty mark: %w", err)
			}
		}
		return nil
	})
}

// MarkRecentDays marks today and yesterday (China Standard Time) dirty: the
// days whose figures move with time alone (deadlines passing, the day still
// going on). The worker calls it on every indicators:recompute tick.
// Errors: database errors only.
func (s *IndicatorService) MarkRecentDays(ctx context.Context) error {
	today := healthcode.DayStart(s.DB.now())
	return markIndicatorDays(ctx, s.DB.Pool, []time.Time{today.AddDate(0, 0, -1), today})
}

// RecomputeDirty recomputes the dirty days, oldest first, and returns how
// many it recomputed. It stops at the first error (the remaining days stay
// marked) and when ctx is done. The worker calls it.
// Errors: database errors, ctx's error.
func (s *IndicatorService) RecomputeDirty(ctx context.Context) (int, error) {
	rows, err := s.DB.Pool.Query(ctx, "SELECT day FROM indicator_dirty_days ORDER BY day")
	if err != nil {
		return 0, fmt.Errorf("list dirty days: %w", err)
	}
	days, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return 0, fmt.Errorf("list dirty days: %w", err)
	}
	for i, d := range days {
		if err := ctx.Err(); err != nil {
			return i, err
		}
		// A date comes back as midnight UTC of that date.
		if err := s.RecomputeDay(ctx, time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, rules.CST)); err != nil {
			return i, err
		}
	}
	return len(days), nil
}

// dayRangeArgs validates a [from, to] range of days and returns the CST
// midnights.
func dayRangeArgs(from, to time.Time) (time.Time, time.Time, error) {
	f, t := healthcode.DayStart(from), healthcode.DayStart(to)
	if from.IsZero() || to.IsZero() || t.Before(f) {
		return f, t, healthcode.Errorf(healthcode.EINVALID, "日期范围不正确：起始日期应不晚于结束日期")
	}
	if n := int(t.Sub(f).Hours()/24+0.5) + 1; n > MaxIndicatorDays {
		return f, t, healthcode.Errorf(healthcode.EINVALID, "日期范围不能超过 %d 天", MaxIndicatorDays)
	}
	return f, t, nil
}

func valuePtr(ind healthcode.Indicator, num, den float64) *float64 {
	if v, ok := ind.Value(num, den); ok {
		return &v
	}
	return nil
}

// IndicatorSeries implements healthcode.IndicatorService: callers with
// indicator.read at region (supervisors; administrators inside their
// grants). The value of a day is the indicator's value over the day's rows
// inside the region's subtree.
// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID.
func (s *IndicatorService) IndicatorSeries(ctx context.Context, region, indicator string, from, to time.Time) ([]*healthcode.IndicatorPoint, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	ind, ok := healthcode.IndicatorByID(indicator)
	if !ok {
		return nil, healthcode.Errorf(healthcode.EINVALID, "未知的指标：%s", healthcode.Truncate(indicator, 40))
	}
	if err := healthcode.ValidRegionCode(region); err != nil {
		return nil, err
	}
	f, t, err := dayRangeArgs(from, to)
	if err != nil {
		return nil, err
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermIndicatorRead, region); err != nil {
		return nil, err
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT day, sum(numerator), sum(denominator) FROM indicator_daily
		WHERE indicator = $1 AND region_path <@ $2::text::ltree AND day BETWEEN $3 AND $4
		GROUP BY day`, indicator, ltreePath(region), f, t)
	if err != nil {
		return nil, fmt.Errorf("read indicator series: %w", err)
	}
	sums := map[string][2]float64{}
	var d time.Time
	var num, den float64
	if _, err := pgx.ForEachRow(rows, []any{&d, &num, &den}, func() error {
		sums[d.Format("2006-01-02")] = [2]float64{num, den}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read indicator series: %w", err)
	}
	var out []*healthcode.IndicatorPoint
	for d := f; !d.After(t); d = d.AddDate(0, 0, 1) {
		sum := sums[d.Format("2006-01-02")]
		out = append(out, &healthcode.IndicatorPoint{Day: d, Numerator: sum[0], Denominator: sum[1], Value: valuePtr(ind, sum[0], sum[1])})
	}
	return out, nil
}

// IndicatorValues implements healthcode.IndicatorService: the roll-up of
// every indicator over a period for every city (level CITY) or county
// (COUNTY) inside parent, e.g. for a weekly ranking. Sums run over the days
// from from to to and over the rows inside each region's subtree; a LEVEL
// indicator sums the last day only. Callers need indicator.read at parent
// (the province when parent is ""). Results are ordered by region code, then
// in registry order.
// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID.
func (s *IndicatorService) IndicatorValues(ctx context.Context, level healthcode.Level, parent string, from, to time.Time) ([]*healthcode.IndicatorTotal, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	depth := map[healthcode.Level]int{healthcode.LevelCity: 2, healthcode.LevelCounty: 3}[level]
	if depth == 0 {
		return nil, healthcode.Errorf(healthcode.EINVALID, "汇总层级应为 CITY 或 COUNTY")
	}
	if parent == "" {
		parent = healthcode.ProvinceCode
	}
	if err := healthcode.ValidRegionCode(parent); err != nil {
		return nil, err
	}
	if len(healthcode.AncestorCodes(parent)) >= depth {
		return nil, healthcode.Errorf(healthcode.EINVALID, "上级地区应高于汇总层级")
	}
	f, t, err := dayRangeArgs(from, to)
	if err != nil {
		return nil, err
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermIndicatorRead, parent); err != nil {
		return nil, err
	}
	var levels []string
	order := map[string]int{}
	for i, ind := range healthcode.Indicators {
		order[ind.ID] = i
		if ind.Kind == healthcode.IndicatorLevel {
			levels = append(levels, ind.ID)
		}
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT r.code, g.indicator, g.num, g.den FROM (
			SELECT subpath(region_path, 0, $1) AS path, indicator, sum(numerator) AS num, sum(denominator) AS den
			FROM indicator_daily
			WHERE region_path <@ $2::text::ltree AND nlevel(region_path) >= $1 AND day BETWEEN $3 AND $4
			  AND (indicator <> ALL ($5::text[]) OR day = $4)
			GROUP BY 1, 2) g
		JOIN regions r ON r.path = g.path`, depth, ltreePath(parent), f, t, levels)
	if err != nil {
		return nil, fmt.Errorf("read indicator values: %w", err)
	}
	var out []*healthcode.IndicatorTotal
	var v healthcode.IndicatorTotal
	if _, err := pgx.ForEachRow(rows, []any{&v.RegionCode, &v.Indicator, &v.Numerator, &v.Denominator}, func() error {
		ind, ok := healthcode.IndicatorByID(v.Indicator)
		if !ok {
			return nil // an id this build does not know
		}
		total := v
		total.Value = valuePtr(ind, v.Numerator, v.Denominator)
		out = append(out, &total)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read indicator values: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].RegionCode != out[j].RegionCode {
			return out[i].RegionCode < out[j].RegionCode
		}
		return order[out[i].Indicator] < order[out[j].Indicator]
	})
	return out, nil
}
