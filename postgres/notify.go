package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
)

// QueueSMS writes a notify:sms task to the outbox in this transaction. A
// non-empty dedupKey makes it idempotent (a colour change notified once).
func (tx *Tx) QueueSMS(ctx context.Context, phone, text, dedupKey string) error {
	msg, err := json.Marshal(healthcode.SMSMessage{Phone: phone, Text: text})
	if err != nil {
		return err
	}
	payload, err := json.Marshal(healthcode.SealedSMS{Sealed: tx.db.PII.Encrypt(string(msg))})
	if err != nil {
		return err
	}
	_, err = tx.Outbox(ctx, healthcode.TaskNotifySMS, payload, dedupKey)
	return err
}

// QueueSMSBatch writes several notify:sms tasks in one statement; messages
// whose dedup key is already in the outbox are skipped.
func (tx *Tx) QueueSMSBatch(ctx context.Context, msgs []healthcode.SMSMessage) error {
	b := &pgx.Batch{}
	if err := tx.queueSMSBatch(b, msgs); err != nil || b.Len() == 0 {
		return err
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write sms outbox: %w", err)
	}
	return nil
}

// queueSMSBatch queues on b the statements of QueueSMSBatch.
func (tx *Tx) queueSMSBatch(b *pgx.Batch, msgs []healthcode.SMSMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	payloads := make([]string, len(msgs))
	keys := make([]string, len(msgs))
	for i, m := range msgs {
		plain, err := json.Marshal(healthcode.SMSMessage{Phone: m.Phone, Text: m.Text})
		if err != nil {
			return err
		}
		p, err := json.Marshal(healthcode.SealedSMS{Sealed: tx.db.PII.Encrypt(string(plain))})
		if err != nil {
			return err
		}
		payloads[i], keys[i] = string(p), m.Key
	}
	b.Queue(`INSERT INTO outbox (task_type, payload, dedup_key, created_at, available_at)
		SELECT $1, p::jsonb, k, $4, $4 FROM unnest($2::text[], $3::text[]) AS x(p, k)
		ON CONFLICT (dedup_key) DO NOTHING`, healthcode.TaskNotifySMS, payloads, keys, tx.Now)
	b.Queue("SELECT pg_notify('outbox', '')")
	return nil
}

// OpenSMS decrypts a notify:sms payload. Errors: INVALID for a payload that
// does not decode or decrypt (the task should not be retried).
func (db *DB) OpenSMS(payload []byte) (healthcode.SMSMessage, error) {
	var s healthcode.SealedSMS
	var msg healthcode.SMSMessage
	if err := json.Unmarshal(payload, &s); err != nil {
		return msg, healthcode.Errorf(healthcode.EINVALID, "bad sms payload: %v", err)
	}
	plain, err := db.PII.Decrypt(s.Sealed)
	if err != nil {
		return msg, healthcode.Errorf(healthcode.EINVALID, "bad sms payload: %v", err)
	}
	if err := json.Unmarshal([]byte(plain), &msg); err != nil {
		return msg, healthcode.Errorf(healthcode.EINVALID, "bad sms payload: %v", err)
	}
	return msg, nil
}

// DeliverOnce performs deliver — an effect outside the database, such as a
// call to the SMS gateway — for outbox row outboxID unless its delivery is
// already recorded, and records it afterwards. deliver runs outside any
// transaction, so no database connection is held while it waits on the
// outside world; the record is written once it returned nil. A crash between
// the two repeats deliver on the next run, so deliver must pass an
// idempotency key that lets the other side drop the repeat (the notify:sms
// handler sends "outbox:<id>"). Workers call it for tasks with external
// effects. Errors: database errors (wrapped; UNAVAILABLE during an outage),
// or deliver's error.
func (db *DB) DeliverOnce(ctx context.Context, outboxID int64, deliver func(ctx context.Context) error) error {
	var done bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM task_deliveries WHERE outbox_id = $1)`, outboxID).Scan(&done); err != nil {
		return fmt.Errorf("read delivery of outbox %d: %w", outboxID, err)
	}
	if done {
		return nil // delivered before
	}
	if err := deliver(ctx); err != nil {
		return err
	}
	// Record the delivery even when ctx ended meanwhile: the effect happened.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := db.Pool.Exec(rctx, `INSERT INTO task_deliveries (outbox_id, delivered_at) VALUES ($1, $2)
		ON CONFLICT (outbox_id) DO NOTHING`, outboxID, db.now()); err != nil {
		return fmt.Errorf("record delivery of outbox %d: %w", outboxID, err)
	}
	return nil
}

// DevSMSSender is the SMS sender of dev mode and tests: it records each
// message in dev_sms_messages (phone as keyed hash), where the dev-only
// devMessages query reads them. A repeated key is recorded once, as a
// gateway drops a repeated idempotency key.
type DevSMSSender struct {
	DB *DB
}

// Send records msg. Errors: INTERNAL on a database failure.
func (s *DevSMSSender) Send(ctx context.Context, msg healthcode.SMSMessage) error {
	const q = `INSERT INTO dev_sms_messages (phone_hash, body, dedup_key, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (dedup_key) DO NOTHING`
	now := s.DB.now() // the platform's clock, so a dev clock dates the message too
	key := msg.Key
	if key == "" {
		key = "adhoc:" + strconv.FormatInt(now.UnixNano(), 10)
	}
	if _, err := s.DB.Pool.Exec(ctx, q, s.DB.PII.Hash("phone", msg.Phone), msg.Text, key, now); err != nil {
		return fmt.Errorf("record dev sms: %w", err)
	}
	return nil
}

// DevMessages returns the messages the dev sender recorded for phone, newest
// first. Only dev mode exposes it. Errors: NOT_FOUND outside dev mode.
func (db *DB) DevMessages(ctx context.Context, phone string) ([]healthcode.DevMessage, error) {
	if !db.Dev {
		return nil, healthcode.Errorf(healthcode.ENOTFOUND, "仅开发模式可用")
	}
	rows, err := db.Pool.Query(ctx, `SELECT id, body, created_at FROM dev_sms_messages
		WHERE phone_hash = $1 ORDER BY id DESC LIMIT 50`, db.PII.Hash("phone", phone))
	if err != nil {
		return nil, fmt.Errorf("list dev messages: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (healthcode.DevMessage, error) {
		var m healthcode.DevMessage
		err := r.Scan(&m.ID, &m.Body, &m.SentAt)
		return m, err
	})
}
