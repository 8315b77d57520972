package postgres

import (
	"context"
	"fmt"
	"time"

	"healthcode"
	"healthcode/rules"
)

// NationalPushes implements healthcode.SupervisionService: the days of the
// national push between from and to (dates in China Standard Time).
func (s *SupervisionService) NationalPushes(ctx context.Context, from, to time.Time) ([]*healthcode.NationalPushDay, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermIndicatorRead, healthcode.ProvinceCode); err != nil {
		return nil, err
	}
	if to.Before(from) || to.Sub(from) > 365*24*time.Hour {
		return nil, healthcode.Errorf(healthcode.EINVALID, "查询期间应在 1 至 366 天之间")
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT p.day, p.batches, p.records, p.started_at, p.acked_at, p.late, p.alerted_at,
			b.seq, b.batch_id, b.records, b.attempts, b.last_error, COALESCE(b.receipt, ''), b.acked_at
		FROM national_pushes p LEFT JOIN national_push_batches b ON b.day = p.day
		WHERE p.day BETWEEN $1::date AND $2::date ORDER BY p.day DESC, b.seq`,
		from.In(rules.CST).Format(time.DateOnly), to.In(rules.CST).Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("list national pushes: %w", err)
	}
	defer rows.Close()
	var out []*healthcode.NationalPushDay
	for rows.Next() {
		var d healthcode.NationalPushDay
		var day time.Time
		var seq, records, attempts *int
		var batchID, lastError *string
		var receipt string
		var ackedAt *time.Time
		if err := rows.Scan(&day, &d.Batches, &d.Records, &d.StartedAt, &d.AckedAt, &d.Late, &d.AlertedAt,
			&seq, &batchID, &records, &attempts, &lastError, &receipt, &ackedAt); err != nil {
			return nil, fmt.Errorf("list national pushes: %w", err)
		}
		d.Day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, rules.CST)
		d.DueAt = d.Day.AddDate(0, 0, 1).Add(10 * time.Hour)
		switch {
		case d.AckedAt != nil && d.Late:
			d.Status = "LATE"
		case d.AckedAt != nil:
			d.Status = "ON_TIME"
		case s.DB.now().Before(d.DueAt):
			d.Status = "PENDING"
		default:
			d.Status = "FAILED"
		}
		if n := len(out); n == 0 || !out[n-1].Day.Equal(d.Day) {
			d.BatchList = []healthcode.NationalPushBatch{}
			out = append(out, &d)
		}
		cur := out[len(out)-1]
		if seq != nil {
			b := healthcode.NationalPushBatch{Seq: *seq, BatchID: *batchID, Records: *records, Attempts: *attempts,
				LastError: *lastError, Receipt: receipt, AckedAt: ackedAt}
			cur.BatchList = append(cur.BatchList, b)
			if b.AckedAt != nil {
				cur.FailedAttempts += b.Attempts - 1
			} else {
				cur.FailedAttempts += b.Attempts
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list national pushes: %w", err)
	}
	if out == nil {
		out = []*healthcode.NationalPushDay{}
	}
	return out, nil
}
