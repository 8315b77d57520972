package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/ranking"
	"healthcode/rules"
)

// RankingService implements healthcode.RankingService on indicator_daily and
// ranking_reports.
type RankingService struct {
	DB *DB
	// Policy scores the rankings (RANKING_POLICY); a zero policy means
	// ranking.DefaultPolicy().
	Policy healthcode.RankingPolicy
}

var (
	_ healthcode.RankingService   = (*RankingService)(nil)
	_ healthcode.RankingGenerator = (*RankingService)(nil)
)

func (s *RankingService) policy() healthcode.RankingPolicy {
	if s.Policy.Weights == nil {
		return ranking.DefaultPolicy()
	}
	return s.Policy
}

// querier is what a pool and a transaction share for reads.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// rankingArgs validates the week (a Monday, China Standard Time), the level
// and the parent of a ranking; an empty parent of the city ranking is 61.
func rankingArgs(week time.Time, level healthcode.Level, parent string) (time.Time, string, error) {
	if week.IsZero() {
		return time.Time{}, "", healthcode.Errorf(healthcode.EINVALID, "请指定周（以该周周一的日期表示）")
	}
	monday := healthcode.DayStart(week)
	if monday.Weekday() != time.Monday {
		return time.Time{}, "", healthcode.Errorf(healthcode.EINVALID, "周以周一的日期表示，%s 不是周一", monday.Format("2006-01-02"))
	}
	switch level {
	case healthcode.LevelCity:
		if parent != "" && parent != healthcode.ProvinceCode {
			return time.Time{}, "", healthcode.Errorf(healthcode.EINVALID, "地市排名的上级是全省（61）")
		}
		return monday, healthcode.ProvinceCode, nil
	case healthcode.LevelCounty:
		if lv, ok := healthcode.LevelOfCode(parent); !ok || lv != healthcode.LevelCity {
			return time.Time{}, "", healthcode.Errorf(healthcode.EINVALID, "县（区）排名须指定所属地市的 4 位代码")
		}
		return monday, parent, nil
	}
	return time.Time{}, "", healthcode.Errorf(healthcode.EINVALID, "排名层级只能是 CITY 或 COUNTY")
}

// rankingQuery rolls indicator_daily up over the week and the week before
// (from monday − 7 days to monday + 7 days) and over each peer's subtree, in
// one statement: per peer, indicator and week, Σnumerator, Σdenominator and
// the Σnumerator of the last day with rows, and the days with rows. Peers
// without rows come back once with NULLs.
const rankingQuery = `WITH peers AS (
	SELECT code, name, path FROM regions WHERE parent_code = $1 AND level = $2
), daily AS (
	SELECT p.code, i.indicator, i.day, sum(i.numerator) AS num, sum(i.denominator) AS den
	FROM peers p JOIN indicator_daily i ON i.region_path <@ p.path
	WHERE i.day >= $3::date - 7 AND i.day < $3::date + 7
	GROUP BY p.code, i.indicator, i.day
)
SELECT p.code, p.name, d.indicator, d.day >= $3::date, sum(d.num), sum(d.den), (array_agg(d.num ORDER BY d.day DESC))[1],
	array_agg(d.day) FILTER (WHERE d.day IS NOT NULL)
FROM peers p LEFT JOIN daily d ON d.code = p.code
GROUP BY p.code, p.name, d.indicator, d.day >= $3::date
ORDER BY p.code`

// rank computes the ranking of the week starting monday with the change
// from the week before; now decides whether the week has started.
func (s *RankingService) rank(ctx context.Context, q querier, p healthcode.RankingPolicy, now, monday time.Time, level healthcode.Level, parent string) (*healthcode.Ranking, error) {
	rows, err := q.Query(ctx, rankingQuery, parent, string(level), monday.Format("2006-01-02"))
	if err != nil {
		return nil, fmt.Errorf("roll up indicators of %s: %w", parent, err)
	}
	defer rows.Close()
	var current, previous []ranking.Region
	var days []time.Time
	for rows.Next() {
		var code, name string
		var indicator *string
		var isCurrent *bool
		var num, den, last *float64
		var rowDays []time.Time
		if err := rows.Scan(&code, &name, &indicator, &isCurrent, &num, &den, &last, &rowDays); err != nil {
			return nil, fmt.Errorf("scan roll-up: %w", err)
		}
		if n := len(current); n == 0 || current[n-1].Code != code {
			current = append(current, ranking.Region{Code: code, Name: name, Sums: map[string]ranking.Sums{}})
			previous = append(previous, ranking.Region{Code: code, Name: name, Sums: map[string]ranking.Sums{}})
		}
		if indicator == nil {
			continue
		}
		week := previous
		if *isCurrent {
			week = current
			for _, d := range rowDays {
				// A date comes back as midnight UTC of that date.
				days = append(days, time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, rules.CST))
			}
		}
		week[len(week)-1].Sums[*indicator] = ranking.Sums{Num: *num, Den: *den, LastNum: *last}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("roll up indicators of %s: %w", parent, err)
	}
	if len(current) == 0 {
		return nil, healthcode.Errorf(healthcode.EINVALID, "%s 下没有可排名的地区", parent)
	}
	out := ranking.Build(p, level, current, ranking.Week{Monday: monday, Today: now, Days: days})
	out.Parent = parent
	ranking.WithPrevious(out.Rows, ranking.Rank(p, level, previous))
	return &out, nil
}

// Rankings implements healthcode.RankingService.
func (s *RankingService) Rankings(ctx context.Context, week time.Time, level healthcode.Level, parent string) ([]healthcode.RankingRow, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	monday, parent, err := rankingArgs(week, level, parent)
	if err != nil {
		return nil, err
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermRankingRead, parent); err != nil {
		return nil, err
	}
	r, err := s.rank(ctx, s.DB.reader(), s.policy(), s.DB.now(), monday, level, parent)
	if err != nil {
		return nil, err
	}
	return r.Rows, nil
}

// Ranking implements healthcode.RankingService.
func (s *RankingService) Ranking(ctx context.Context, week time.Time, level healthcode.Level, parent string) (*healthcode.Ranking, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	monday, parent, err := rankingArgs(week, level, parent)
	if err != nil {
		return nil, err
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermRankingRead, parent); err != nil {
		return nil, err
	}
	return s.rank(ctx, s.DB.reader(), s.policy(), s.DB.now(), monday, level, parent)
}

// GenerateRankingReport implements healthcode.RankingService.
func (s *RankingService) GenerateRankingReport(ctx context.Context, week time.Time, level healthcode.Level, parent string, onlyFirst bool) (*healthcode.RankingReport, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	if a.Kind != healthcode.ActorSystem {
		if err := s.DB.authorize(ctx, a, healthcode.PermRankingGenerate, healthcode.ProvinceCode); err != nil {
			return nil, err
		}
	}
	monday, parent, err := rankingArgs(week, level, parent)
	if err != nil {
		return nil, err
	}
	p := ranking.Clone(s.policy())
	var out *healthcode.RankingReport
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		// One generation of a (week, level, parent) at a time, so revisions
		// are contiguous and two Friday tasks store one report.
		key := "ranking_report:" + monday.Format("2006-01-02") + ":" + string(level) + ":" + parent
		if err := xactLock(ctx, tx, key); err != nil {
			return err
		}
		var last int64
		var revision int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(max(id), 0), COALESCE(max(revision), 0) FROM ranking_reports
			WHERE week_start = $1 AND level = $2 AND parent_code = $3`, monday, string(level), parent).Scan(&last, &revision); err != nil {
			return fmt.Errorf("find reports of %s: %w", key, err)
		}
		if onlyFirst && revision > 0 {
			out, err = loadReport(ctx, tx, last)
			return err
		}
		rk, err := s.rank(ctx, tx, p, tx.Now, monday, level, parent)
		if err != nil {
			return err
		}
		rowsJSON, _ := json.Marshal(rk.Rows)
		policyJSON, _ := json.Marshal(p)
		notesJSON, _ := json.Marshal(rk.Notes)
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO ranking_reports (week_start, level, parent_code, parent_path, revision, rows, policy, generated_at, generated_by,
				state, days_with_data, notes)
			VALUES ($1, $2, $3, $4::text::ltree, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			monday, string(level), parent, ltreePath(parent), revision+1, rowsJSON, policyJSON, tx.Now, a.Subject(),
			string(rk.State), rk.DaysWithData, notesJSON).Scan(&id); err != nil {
			return fmt.Errorf("store ranking report %s: %w", key, err)
		}
		if err := tx.Audit(ctx, healthcode.AuditRecord{Role: s.DB.roleFor(ctx, a, healthcode.PermRankingGenerate, healthcode.ProvinceCode),
			RegionCode: parent, Action: "ranking.generate", Object: "ranking_report:" + strconv.FormatInt(id, 10),
			Detail: map[string]any{"week": monday.Format("2006-01-02"), "level": string(level), "revision": revision + 1}}); err != nil {
			return err
		}
		out, err = loadReport(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GenerateWeek stores the first report of the week starting monday for the
// cities and for the counties of every city, unless one exists (the Friday
// task; idempotent). Callers: the system and province administrators or
// supervisors. Errors: as GenerateRankingReport.
func (s *RankingService) GenerateWeek(ctx context.Context, monday time.Time) (int, error) {
	rows, err := s.DB.Pool.Query(ctx, "SELECT code FROM regions WHERE level = 'CITY' ORDER BY code")
	if err != nil {
		return 0, fmt.Errorf("list cities: %w", err)
	}
	cities, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("list cities: %w", err)
	}
	if _, err := s.GenerateRankingReport(ctx, monday, healthcode.LevelCity, healthcode.ProvinceCode, true); err != nil {
		return 0, err
	}
	for _, city := range cities {
		if _, err := s.GenerateRankingReport(ctx, monday, healthcode.LevelCounty, city, true); err != nil {
			return 0, err
		}
	}
	return 1 + len(cities), nil
}

const reportColumns = `r.id, r.week_start, r.level, r.parent_code, g.name, r.revision, r.rows, r.policy, r.generated_at, r.generated_by,
	r.state, r.days_with_data, r.notes`

func loadReport(ctx context.Context, q querier, id int64) (*healthcode.RankingReport, error) {
	rows, err := q.Query(ctx, "SELECT "+reportColumns+" FROM ranking_reports r JOIN regions g ON g.code = r.parent_code WHERE r.id = $1", id)
	if err != nil {
		return nil, fmt.Errorf("load ranking report %d: %w", id, err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanReport)
	return r, mapError(err, "排名通报不存在")
}

func scanReport(row pgx.CollectableRow) (*healthcode.RankingReport, error) {
	var r healthcode.RankingReport
	var level string
	var rowsJSON, policyJSON, notesJSON []byte
	var week time.Time
	var state string
	if err := row.Scan(&r.ID, &week, &level, &r.Parent, &r.ParentName, &r.Revision, &rowsJSON, &policyJSON, &r.GeneratedAt, &r.GeneratedBy,
		&state, &r.DaysWithData, &notesJSON); err != nil {
		return nil, err
	}
	r.State = healthcode.RankingState(state)
	if err := json.Unmarshal(notesJSON, &r.Notes); err != nil {
		return nil, fmt.Errorf("decode report %d notes: %w", r.ID, err)
	}
	r.Week = time.Date(week.Year(), week.Month(), week.Day(), 0, 0, 0, 0, rules.CST)
	r.Level = healthcode.Level(level)
	if err := json.Unmarshal(rowsJSON, &r.Rows); err != nil {
		return nil, fmt.Errorf("decode report %d rows: %w", r.ID, err)
	}
	if err := json.Unmarshal(policyJSON, &r.Policy); err != nil {
		return nil, fmt.Errorf("decode report %d policy: %w", r.ID, err)
	}
	return &r, nil
}

// RankingReports implements healthcode.RankingService.
func (s *RankingService) RankingReports(ctx context.Context, week time.Time) ([]*healthcode.RankingReport, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	visible, err := s.DB.scope(ctx, a, healthcode.PermRankingRead, "")
	if err != nil {
		return nil, err
	}
	var day *string
	if !week.IsZero() {
		monday, _, err := rankingArgs(week, healthcode.LevelCity, "")
		if err != nil {
			return nil, err
		}
		d := monday.Format("2006-01-02")
		day = &d
	}
	rows, err := s.DB.reader().Query(ctx, "SELECT "+reportColumns+` FROM ranking_reports r JOIN regions g ON g.code = r.parent_code
		WHERE in_regions(r.parent_path, $1) AND ($2::date IS NULL OR r.week_start = $2::date)
		ORDER BY r.week_start DESC, r.level, r.parent_code, r.revision DESC LIMIT 100`, ltreePaths(visible), day)
	if err != nil {
		return nil, fmt.Errorf("list ranking reports: %w", err)
	}
	return pgx.CollectRows(rows, scanReport)
}

// ExportRankingReport implements healthcode.RankingService.
func (s *RankingService) ExportRankingReport(ctx context.Context, id int64, format string) (*healthcode.RankingReport, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	if format != "xlsx" && format != "html" {
		return nil, healthcode.Errorf(healthcode.EINVALID, "下载格式只能是 xlsx 或 html")
	}
	r, err := loadReport(ctx, s.DB.Pool, id)
	if err != nil {
		return nil, err
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermRankingRead, r.Parent); err != nil {
		return nil, err
	}
	gen, err := s.DB.attribution(ctx, r.GeneratedBy)
	if err != nil {
		return nil, err
	}
	r.GeneratorText = gen.Text()
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		return tx.Audit(ctx, healthcode.AuditRecord{Role: s.DB.roleFor(ctx, a, healthcode.PermRankingRead, r.Parent), RegionCode: r.Parent,
			Action: "ranking.export", Object: "ranking_report:" + strconv.FormatInt(id, 10), Detail: map[string]any{"format": format}})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}
