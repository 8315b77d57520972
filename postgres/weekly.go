package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/rules"
)

// weekOf returns the Monday 00:00 (China Standard Time) of the week that
// contains t, and the report deadline of that week: Friday 16:00.
func weekOf(t time.Time) (monday, due time.Time) {
	d := healthcode.DayStart(t)
	offset := (int(d.In(rules.CST).Weekday()) + 6) % 7 // Monday = 0
	monday = d.AddDate(0, 0, -offset)
	return monday, monday.AddDate(0, 0, 4).Add(16 * time.Hour)
}

// weeklyFigures computes a city's figures for the week before monday.
func weeklyFigures(ctx context.Context, tx *Tx, city string, monday time.Time) (healthcode.WeeklyFigures, error) {
	f := healthcode.WeeklyFigures{PeriodFrom: monday.AddDate(0, 0, -7), PeriodTo: monday}
	path := ltreePath(city)
	err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE c.colour = 'GREEN'), count(*) FILTER (WHERE c.colour = 'YELLOW'),
			count(*) FILTER (WHERE c.colour = 'RED'), count(*) FILTER (WHERE p.created_at >= $2 AND p.created_at < $3)
		FROM persons p JOIN codes c ON c.person_id = p.id WHERE p.residence_path <@ $1::text::ltree`, path, f.PeriodFrom, f.PeriodTo).
		Scan(&f.Persons, &f.Green, &f.Yellow, &f.Red, &f.NewPersons)
	if err != nil {
		return f, fmt.Errorf("weekly persons of %s: %w", city, err)
	}
	err = tx.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM scans WHERE region_path <@ $1::text::ltree AND scanned_at >= $2 AND scanned_at < $3),
			(SELECT count(*) FROM fever_reports WHERE region_path <@ $1::text::ltree AND scanned_at >= $2 AND scanned_at < $3),
			(SELECT count(*) FROM tickets WHERE region_path <@ $1::text::ltree AND created_at >= $2 AND created_at < $3),
			(SELECT count(*) FROM tickets WHERE region_path <@ $1::text::ltree AND closed_at >= $2 AND closed_at < $3)`,
		path, f.PeriodFrom, f.PeriodTo).Scan(&f.Scans, &f.FeverReports, &f.TicketsOpened, &f.TicketsClosed)
	if err != nil {
		return f, fmt.Errorf("weekly activity of %s: %w", city, err)
	}
	return f, nil
}

// GenerateWeeklyDrafts implements healthcode.SupervisionService. A zero at
// (as in the other weekly methods) means now.
func (s *SupervisionService) GenerateWeeklyDrafts(ctx context.Context, at time.Time) (int, error) {
	a, err := actor(ctx)
	if err != nil {
		return 0, err
	}
	if a.Kind != healthcode.ActorSystem {
		if err := s.DB.authorize(ctx, a, healthcode.PermReportSubmit, healthcode.ProvinceCode); err != nil {
			return 0, err
		}
	}
	if at.IsZero() {
		at = s.DB.now()
	}
	monday, _ := weekOf(at)
	n := 0
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, "SELECT code FROM regions WHERE level = 'CITY' ORDER BY code")
		if err != nil {
			return err
		}
		cities, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, city := range cities {
			f, err := weeklyFigures(ctx, tx, city, monday)
			if err != nil {
				return err
			}
			body, _ := json.Marshal(f)
			tag, err := tx.Exec(ctx, `INSERT INTO weekly_reports (region_code, region_path, week_start, figures, generated_at)
				VALUES ($1, $2::text::ltree, $3, $4, $5)
				ON CONFLICT (region_code, week_start) DO UPDATE SET figures = EXCLUDED.figures, generated_at = EXCLUDED.generated_at
				WHERE weekly_reports.status = 'DRAFT'`, city, ltreePath(city), monday, body, tx.Now)
			if err != nil {
				return fmt.Errorf("store weekly draft of %s: %w", city, err)
			}
			n += int(tag.RowsAffected())
		}
		return nil
	})
	return n, err
}

const weeklyColumns = `w.id, r.code, $1::date, COALESCE(w.figures, '{}'::jsonb), COALESCE(w.comments, ''),
	CASE WHEN w.id IS NULL THEN 'MISSING' ELSE w.status END, COALESCE(w.generated_at, 'epoch'::timestamptz),
	COALESCE(w.submitted_by, ''), w.submitted_at, COALESCE(w.on_time, false)`

func scanWeekly(row pgx.Row, due time.Time) (*healthcode.WeeklyReport, error) {
	var r healthcode.WeeklyReport
	var id *int64
	var figures []byte
	if err := row.Scan(&id, &r.RegionCode, &r.WeekStart, &figures, &r.Comments, &r.Status, &r.GeneratedAt,
		&r.SubmittedBy, &r.SubmittedAt, &r.OnTime); err != nil {
		return nil, err
	}
	if id != nil {
		r.ID = *id
	}
	r.DueAt = due
	if err := json.Unmarshal(figures, &r.Figures); err != nil {
		return nil, fmt.Errorf("weekly figures of %s: %w", r.RegionCode, err)
	}
	if r.Figures.PeriodFrom.IsZero() { // MISSING: no draft yet, the period is still known
		monday := due.Add(-4*24*time.Hour - 16*time.Hour) // weekOf, backwards; China has no DST
		r.Figures.PeriodFrom, r.Figures.PeriodTo = monday.AddDate(0, 0, -7), monday
	}
	return &r, nil
}

// SubmitWeeklyReport implements healthcode.SupervisionService.
func (s *SupervisionService) SubmitWeeklyReport(ctx context.Context, city string, at time.Time, comments string) (*healthcode.WeeklyReport, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	if lv, ok := healthcode.LevelOfCode(city); !ok || lv != healthcode.LevelCity {
		return nil, healthcode.Errorf(healthcode.EINVALID, "周报由地市报送，请填写 4 位地市代码")
	}
	comments = strings.TrimSpace(comments)
	if utf8.RuneCountInString(comments) > 5000 {
		return nil, healthcode.Errorf(healthcode.EINVALID, "说明不超过 5000 个字")
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermReportSubmit, city); err != nil {
		return nil, err
	}
	if at.IsZero() {
		at = s.DB.now()
	}
	monday, due := weekOf(at)
	var out *healthcode.WeeklyReport
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		var status string
		err := tx.QueryRow(ctx, "SELECT status FROM weekly_reports WHERE region_code = $1 AND week_start = $2 FOR UPDATE", city, monday).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return healthcode.Errorf(healthcode.ENOTFOUND, "本周周报草稿尚未生成（每周五上午自动生成）")
		} else if err != nil {
			return err
		}
		if status == "SUBMITTED" {
			return healthcode.Errorf(healthcode.ECONFLICT, "本周周报已报送")
		}
		onTime := !tx.Now.After(due)
		if _, err := tx.Exec(ctx, `UPDATE weekly_reports SET comments = $3, status = 'SUBMITTED', submitted_by = $4, submitted_at = $5, on_time = $6
			WHERE region_code = $1 AND week_start = $2`, city, monday, comments, a.Subject(), tx.Now, onTime); err != nil {
			return fmt.Errorf("submit weekly report: %w", err)
		}
		tx.MarkIndicatorDays(monday.AddDate(0, 0, 4)) // the weekly report indicator lives on the Friday
		if err := tx.Audit(ctx, healthcode.AuditRecord{Role: s.DB.roleFor(ctx, a, healthcode.PermReportSubmit, city), RegionCode: city,
			Action: "report.weekly", Object: "region:" + city, Detail: map[string]any{"week": monday.Format("2006-01-02"), "onTime": onTime}}); err != nil {
			return err
		}
		out, err = scanWeekly(tx.QueryRow(ctx, "SELECT "+weeklyColumns+` FROM regions r LEFT JOIN weekly_reports w
			ON w.region_code = r.code AND w.week_start = $1 WHERE r.code = $2`, monday, city), due)
		return err
	})
	return out, err
}

// WeeklyReports implements healthcode.SupervisionService.
func (s *SupervisionService) WeeklyReports(ctx context.Context, at time.Time) ([]*healthcode.WeeklyReport, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	visible, err := s.DB.visible(ctx, a, healthcode.PermIndicatorRead)
	if err != nil {
		return nil, err
	}
	more, err := s.DB.visible(ctx, a, healthcode.PermReportSubmit)
	if err != nil {
		return nil, err
	}
	visible = append(visible, more...)
	if len(visible) == 0 {
		return nil, healthcode.ErrForbidden
	}
	if at.IsZero() {
		at = s.DB.now()
	}
	monday, due := weekOf(at)
	rows, err := s.DB.Pool.Query(ctx, "SELECT "+weeklyColumns+` FROM regions r LEFT JOIN weekly_reports w
		ON w.region_code = r.code AND w.week_start = $1
		WHERE r.level = 'CITY' AND in_regions(r.path, $2) ORDER BY r.code`, monday, ltreePaths(visible))
	if err != nil {
		return nil, fmt.Errorf("list weekly reports: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.WeeklyReport, error) { return scanWeekly(r, due) })
}
