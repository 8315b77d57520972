package postgres

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/exchange"
	"healthcode/rules"
)

// NationalBatchSize is the number of records in one batch of the push.
const NationalBatchSize = 1000

// NationalPush pushes the previous day's new and changed codes to the
// national government service platform (SPEC §7) in signed batches.
type NationalPush struct {
	DB     *DB
	Key    ed25519.PrivateKey
	Sender exchange.Sender
}

// dayRange returns the CST day that contains t.
func dayRange(t time.Time) (time.Time, time.Time) {
	d := healthcode.DayStart(t)
	return d, d.AddDate(0, 0, 1)
}

// Push prepares (once) and sends the batches of a day that are not
// acknowledged yet. It is idempotent: prepared batches keep their content and
// ids, acknowledged ones are skipped, and the receiver deduplicates by batch
// id. The worker runs it at 00:30 for the previous day and asynq retries it
// with backoff on failure. Errors: the first failed send (to retry).
func (n *NationalPush) Push(ctx context.Context, day time.Time) error {
	from, to := dayRange(day)
	if err := n.prepare(ctx, from, to); err != nil {
		return err
	}
	rows, err := n.DB.Pool.Query(ctx, `SELECT seq, batch_id, payload FROM national_push_batches
		WHERE day = $1 AND acked_at IS NULL ORDER BY seq`, from)
	if err != nil {
		return fmt.Errorf("pending batches: %w", err)
	}
	type pending struct {
		seq     int
		id      string
		payload []byte
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pending, error) {
		var p pending
		return p, r.Scan(&p.seq, &p.id, &p.payload)
	})
	if err != nil {
		return fmt.Errorf("pending batches: %w", err)
	}
	for _, p := range list {
		receipt, err := n.Sender.Send(ctx, p.payload, exchange.Sign(n.Key, p.payload))
		if err != nil {
			_, _ = n.DB.Pool.Exec(ctx, `UPDATE national_push_batches SET attempts = attempts + 1, last_error = $3
				WHERE day = $1 AND seq = $2`, from, p.seq, healthcode.Truncate(err.Error(), 200))
			return fmt.Errorf("push batch %s: %w", p.id, err)
		}
		if _, err := n.DB.Pool.Exec(ctx, `UPDATE national_push_batches SET attempts = attempts + 1, receipt = $3, acked_at = $4,
			last_error = '' WHERE day = $1 AND seq = $2`, from, p.seq, receipt.Receipt, n.DB.now()); err != nil {
			return fmt.Errorf("store receipt: %w", err)
		}
	}
	// Every batch acknowledged: the day is delivered, late after 10:00.
	deadline := to.Add(10 * time.Hour)
	now := n.DB.now()
	tag, err := n.DB.Pool.Exec(ctx, `UPDATE national_pushes SET acked_at = $2, late = $3
		WHERE day = $1 AND acked_at IS NULL
		  AND NOT EXISTS (SELECT 1 FROM national_push_batches WHERE day = $1 AND acked_at IS NULL)`, from, now, now.After(deadline))
	if err != nil {
		return fmt.Errorf("mark day delivered: %w", err)
	}
	if tag.RowsAffected() > 0 {
		// Data timeliness of the pushed day; marked after the acknowledgement
		// has committed, so a recomputation that reads the mark sees it.
		return markIndicatorDays(ctx, n.DB.Pool, []time.Time{from})
	}
	return nil
}

// prepare builds and stores the day's batches once.
func (n *NationalPush) prepare(ctx context.Context, from, to time.Time) error {
	return n.DB.InTx(ctx, func(tx *Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM national_pushes WHERE day = $1)", from).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT p.code_id, p.name_masked, p.residence_code, c.colour, c.updated_at
			FROM codes c JOIN persons p ON p.id = c.person_id
			WHERE c.updated_at >= $1 AND c.updated_at < $2 ORDER BY c.person_id`, from, to)
		if err != nil {
			return fmt.Errorf("codes of the day: %w", err)
		}
		records, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (exchange.Record, error) {
			var rec exchange.Record
			return rec, r.Scan(&rec.CodeID, &rec.MaskedName, &rec.RegionCode, &rec.Colour, &rec.UpdatedAt)
		})
		if err != nil {
			return fmt.Errorf("codes of the day: %w", err)
		}
		of := (len(records) + NationalBatchSize - 1) / NationalBatchSize
		if of == 0 {
			of = 1 // an empty day is still reported, as one empty batch
		}
		dayText := from.In(rules.CST).Format("2006-01-02")
		if _, err := tx.Exec(ctx, `INSERT INTO national_pushes (day, batches, records, started_at) VALUES ($1, $2, $3, $4)`,
			from, of, len(records), tx.Now); err != nil {
			return fmt.Errorf("start push: %w", err)
		}
		for seq := 0; seq < of; seq++ {
			part := records[min(seq*NationalBatchSize, len(records)):min((seq+1)*NationalBatchSize, len(records))]
			if part == nil {
				part = []exchange.Record{}
			}
			b := exchange.Batch{BatchID: fmt.Sprintf("61-%s-%04d", dayText, seq+1), Issuer: healthcode.ProvinceCode,
				Day: dayText, Seq: seq + 1, Of: of, Records: part}
			body, err := json.Marshal(b)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO national_push_batches (day, seq, batch_id, records, sha256, payload)
				VALUES ($1, $2, $3, $4, $5, $6)`, from, seq+1, b.BatchID, len(part), exchange.Digest(body), body); err != nil {
				return fmt.Errorf("store batch: %w", err)
			}
		}
		return tx.Audit(ctx, healthcode.AuditRecord{Action: "exchange.national_push", Object: "day:" + dayText,
			Detail: map[string]any{"records": len(records), "batches": of}})
	})
}

// CheckPush runs at 09:30: when the previous day is not acknowledged yet, it
// alerts the province administrators by SMS (once) and reports it.
func (n *NationalPush) CheckPush(ctx context.Context, day time.Time) (alerted bool, err error) {
	from, _ := dayRange(day)
	err = n.DB.InTx(ctx, func(tx *Tx) error {
		var acked, alertedAt *time.Time
		err := tx.QueryRow(ctx, "SELECT acked_at, alerted_at FROM national_pushes WHERE day = $1 FOR UPDATE", from).Scan(&acked, &alertedAt)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if acked != nil || alertedAt != nil {
			return nil
		}
		if errors.Is(err, pgx.ErrNoRows) {
			if _, err := tx.Exec(ctx, `INSERT INTO national_pushes (day, batches, records, started_at, alerted_at) VALUES ($1, 0, 0, $2, $2)`, from, tx.Now); err != nil {
				return err
			}
		} else if _, err := tx.Exec(ctx, "UPDATE national_pushes SET alerted_at = $2 WHERE day = $1", from, tx.Now); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT DISTINCT s.phone_enc FROM staff s JOIN grants g ON g.staff_id = s.id
			WHERE g.role = 'ADMIN' AND g.region_code = '61' AND s.phone_enc IS NOT NULL AND NOT s.disabled`)
		if err != nil {
			return err
		}
		phones, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			return err
		}
		dayText := from.In(rules.CST).Format("2006-01-02")
		var msgs []healthcode.SMSMessage
		for i, enc := range phones {
			phone, err := n.DB.PII.Decrypt(enc)
			if err != nil {
				return err
			}
			msgs = append(msgs, healthcode.SMSMessage{Phone: phone,
				Text: fmt.Sprintf("【陕西健康码】%s 的健康码数据截至 09:30 尚未被国家政务服务平台确认接收，请立即处理（10:00 前须完成推送）。", dayText),
				Key:  fmt.Sprintf("national-alert:%s:%d", dayText, i)})
		}
		alerted = true
		if err := tx.QueueSMSBatch(ctx, msgs); err != nil {
			return err
		}
		return tx.Audit(ctx, healthcode.AuditRecord{Action: "exchange.national_push_alert", Object: "day:" + dayText})
	})
	return alerted, err
}
