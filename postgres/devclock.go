package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
)

// DevClock is the clock of dev mode (healthcode.DevClockService): Clock is
// the OffsetClock that DB and every service of the process read, and its
// offset from the wall clock is kept in dev_clock, so that a restart (Load)
// resumes it. It never goes back before data already recorded: every change
// of the platform is audited, so the newest audit record's time is the
// newest data's. Every move is audited (dev.clock).
type DevClock struct {
	DB    *DB
	Clock *healthcode.OffsetClock
	// OnChange, when set, is called with the new offset after each move and
	// after Load (the dev command mirrors it for the offline verifier).
	OnChange func(offset time.Duration)
}

// Load sets Clock to the offset stored by an earlier run (none: the wall
// clock). The process calls it at start-up, before it serves. Errors: the
// database's.
func (c *DevClock) Load(ctx context.Context) error {
	var us int64
	err := c.DB.Pool.QueryRow(ctx, "SELECT offset_us FROM dev_clock").Scan(&us)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("load the dev clock: %w", err)
	}
	c.Clock.SetOffset(time.Duration(us) * time.Microsecond)
	if c.OnChange != nil {
		c.OnChange(c.Clock.Offset())
	}
	return nil
}

// Set implements healthcode.DevClockService.
func (c *DevClock) Set(ctx context.Context, at time.Time) (time.Time, error) {
	if at.IsZero() {
		return time.Time{}, healthcode.Errorf(healthcode.EINVALID, "请给出时间")
	}
	return c.move(ctx, func(time.Duration) time.Duration { return time.Until(at) })
}

// Advance implements healthcode.DevClockService.
func (c *DevClock) Advance(ctx context.Context, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, healthcode.Errorf(healthcode.EINVALID, "开发时钟只能向前拨")
	}
	return c.move(ctx, func(old time.Duration) time.Duration { return old + d })
}

// move stores the offset that next computes from the current one, checks
// it against the newest data and applies it once committed.
func (c *DevClock) move(ctx context.Context, next func(old time.Duration) time.Duration) (time.Time, error) {
	if !c.DB.Dev {
		return time.Time{}, healthcode.Errorf(healthcode.ENOTFOUND, "仅开发模式可用")
	}
	var offset time.Duration
	err := c.DB.InTx(ctx, func(tx *Tx) error {
		// One mover at a time (the row lock), from the stored offset.
		if _, err := tx.Exec(ctx, `INSERT INTO dev_clock (offset_us, moved_at) VALUES (0, $1)
			ON CONFLICT (id) DO NOTHING`, tx.Now); err != nil {
			return fmt.Errorf("lock the dev clock: %w", err)
		}
		var us int64
		if err := tx.QueryRow(ctx, "SELECT offset_us FROM dev_clock FOR UPDATE").Scan(&us); err != nil {
			return fmt.Errorf("lock the dev clock: %w", err)
		}
		old := time.Duration(us) * time.Microsecond
		offset = next(old).Truncate(time.Microsecond)
		to := time.Now().Add(offset)
		var newest *time.Time
		if err := tx.QueryRow(ctx, "SELECT max(at) FROM audit_log").Scan(&newest); err != nil {
			return fmt.Errorf("newest audit record: %w", err)
		}
		if newest != nil && to.Before(*newest) {
			return healthcode.Errorf(healthcode.EINVALID, "开发时钟不能拨回到已有数据之前：最新记录的时间为 %s",
				newest.In(healthcode.CST).Format("2006-01-02 15:04:05"))
		}
		if _, err := tx.Exec(ctx, "UPDATE dev_clock SET offset_us = $1, moved_at = $2",
			offset.Microseconds(), to); err != nil {
			return fmt.Errorf("store the dev clock: %w", err)
		}
		tx.Now = to // the audit record is dated on the new clock
		return tx.Audit(ctx, healthcode.AuditRecord{Action: "dev.clock", Object: "dev_clock",
			Detail: map[string]any{"from": time.Now().Add(old).UTC().Format(time.RFC3339), "to": to.UTC().Format(time.RFC3339),
				"offset": offset.String()}})
	})
	if err != nil {
		return time.Time{}, err
	}
	c.Clock.SetOffset(offset)
	if c.OnChange != nil {
		c.OnChange(offset)
	}
	return c.Clock.Now(), nil
}
