package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
)

// auditLockKey serialises appends to the audit chain (pg_advisory_xact_lock).
const auditLockKey = 0x6863_6175_6469_74 // "hcaudit"

// auditName is the name the audit log keeps for an actor. A resident's
// account is named by their (masked) phone, which is personal data: the log
// is append-only and read by auditors, so it keeps the account id
// (Subject) and the word 居民 instead.
func auditName(a *healthcode.Actor) string {
	if a.Kind == healthcode.ActorResident {
		return "居民"
	}
	return a.Name
}

// Audit appends a record to the hash-chained audit log in this transaction.
// The actor comes from ctx (SystemActor when absent); At is the transaction
// time. Appends are serialised by a transaction-scoped advisory lock, so the
// chain order is the commit order.
func (tx *Tx) Audit(ctx context.Context, rec healthcode.AuditRecord) error {
	a := healthcode.ActorFromContext(ctx)
	if a == nil {
		a = healthcode.SystemActor
	}
	rec.Actor, rec.ActorName, rec.At = a.Subject(), auditName(a), tx.Now
	if rec.RegionCode == "" {
		rec.RegionCode = healthcode.ProvinceCode
	}
	if rec.Detail == nil {
		rec.Detail = map[string]any{}
	}
	if id := healthcode.RequestInfoFromContext(ctx).RequestID; id != "" {
		rec.Detail["requestId"] = id
	}
	detail, err := json.Marshal(rec.Detail)
	if err != nil {
		return fmt.Errorf("encode audit detail: %w", err)
	}
	if tx.auditHead == nil {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(auditLockKey)); err != nil {
			return fmt.Errorf("lock audit chain: %w", err)
		}
		var head string
		err = tx.QueryRow(ctx, "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").Scan(&head)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read audit chain head: %w", err)
		}
		tx.auditHead = &head
	}
	rec.PrevHash = *tx.auditHead
	rec.Hash = auditHash(&rec, string(detail))
	_, err = tx.Exec(ctx, `INSERT INTO audit_log
		(actor, actor_name, role, region_code, region_path, action, object, reason, detail, at, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5::text::ltree, $6, $7, $8, $9, $10, $11, $12)`,
		rec.Actor, rec.ActorName, string(rec.Role), rec.RegionCode, ltreePath(rec.RegionCode),
		rec.Action, rec.Object, rec.Reason, string(detail), rec.At, rec.PrevHash, rec.Hash)
	if err != nil {
		return fmt.Errorf("append audit record: %w", err)
	}
	*tx.auditHead = rec.Hash
	return nil
}

// AuditBatch appends several records in one statement, chained in order:
// the same records as calling Audit for each, for bulk paths (re-evaluating
// a batch of persons).
func (tx *Tx) AuditBatch(ctx context.Context, recs []healthcode.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	if tx.queueAuditHead(b); b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("lock audit chain: %w", err)
		}
		b = &pgx.Batch{}
	}
	if err := tx.queueAuditBatch(ctx, b, recs); err != nil {
		return err
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("append %d audit records: %w", len(recs), err)
	}
	return nil
}

// queueAuditHead queues on b, unless this transaction holds them already,
// the lock of the audit chain (held until the commit) and the read of its
// head, which queueAuditBatch needs.
func (tx *Tx) queueAuditHead(b *pgx.Batch) {
	if tx.auditHead != nil {
		return
	}
	b.Queue("SELECT pg_advisory_xact_lock($1)", int64(auditLockKey))
	b.Queue("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").Query(func(rows pgx.Rows) error {
		var head string
		if rows.Next() {
			if err := rows.Scan(&head); err != nil {
				return fmt.Errorf("read audit chain head: %w", err)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read audit chain head: %w", err)
		}
		tx.auditHead = &head
		return nil
	})
}

// queueAuditBatch queues on b the statement of AuditBatch, once the chain's
// head is known (queueAuditHead).
func (tx *Tx) queueAuditBatch(ctx context.Context, b *pgx.Batch, recs []healthcode.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	if tx.auditHead == nil {
		return errors.New("audit chain head not read")
	}
	a := healthcode.ActorFromContext(ctx)
	if a == nil {
		a = healthcode.SystemActor
	}
	cols := struct{ actor, name, role, region, path, action, object, reason, detail, prev, hash []string }{}
	requestID := healthcode.RequestInfoFromContext(ctx).RequestID
	for i := range recs {
		rec := &recs[i]
		rec.Actor, rec.ActorName, rec.At = a.Subject(), auditName(a), tx.Now
		if rec.RegionCode == "" {
			rec.RegionCode = healthcode.ProvinceCode
		}
		if rec.Detail == nil {
			rec.Detail = map[string]any{}
		}
		if requestID != "" {
			rec.Detail["requestId"] = requestID
		}
		detail, err := json.Marshal(rec.Detail)
		if err != nil {
			return fmt.Errorf("encode audit detail: %w", err)
		}
		rec.PrevHash = *tx.auditHead
		rec.Hash = auditHash(rec, string(detail))
		*tx.auditHead = rec.Hash
		cols.actor = append(cols.actor, rec.Actor)
		cols.name = append(cols.name, rec.ActorName)
		cols.role = append(cols.role, string(rec.Role))
		cols.region = append(cols.region, rec.RegionCode)
		cols.path = append(cols.path, ltreePath(rec.RegionCode))
		cols.action = append(cols.action, rec.Action)
		cols.object = append(cols.object, rec.Object)
		cols.reason = append(cols.reason, rec.Reason)
		cols.detail = append(cols.detail, string(detail))
		cols.prev = append(cols.prev, rec.PrevHash)
		cols.hash = append(cols.hash, rec.Hash)
	}
	b.Queue(`INSERT INTO audit_log
		(actor, actor_name, role, region_code, region_path, action, object, reason, detail, at, prev_hash, hash)
		SELECT a, n, r, g, p::ltree, c, o, e, d::json, $12, h0, h1
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
		            $9::text[], $10::text[], $11::text[]) WITH ORDINALITY AS x(a, n, r, g, p, c, o, e, d, h0, h1, ord)
		ORDER BY ord`,
		cols.actor, cols.name, cols.role, cols.region, cols.path, cols.action, cols.object, cols.reason,
		cols.detail, cols.prev, cols.hash, tx.Now)
	return nil
}

// auditHash is SHA-256 over the previous hash and the record's fields, each
// length-prefixed so that no two different records share an encoding.
func auditHash(r *healthcode.AuditRecord, detail string) string {
	h := sha256.New()
	for _, f := range []string{
		r.PrevHash, r.Actor, r.ActorName, string(r.Role), r.RegionCode, r.Action, r.Object, r.Reason,
		detail, r.At.UTC().Format(time.RFC3339Nano),
	} {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// VerifyAudit walks the whole audit chain in id order and reports the first
// record whose link or hash does not match. Only operators call it (the
// `healthcode audit verify` command); it bypasses jurisdiction.
func (db *DB) VerifyAudit(ctx context.Context) (healthcode.AuditVerification, error) {
	return db.VerifyAuditAnchored(ctx, nil)
}

// VerifyAuditAnchored is VerifyAudit that also checks the chain against
// published anchors (whose signatures the caller has verified:
// AuditAnchors.Load): the record of each anchor must still exist with the
// anchored hash, so deleting the newest records, or rewriting the chain and
// recomputing its hashes, is reported. Only operators and tests call it.
// Errors: storage errors.
func (db *DB) VerifyAuditAnchored(ctx context.Context, anchors []healthcode.AuditAnchor) (healthcode.AuditVerification, error) {
	var v healthcode.AuditVerification
	anchored := map[int64]healthcode.AuditAnchor{}
	for _, a := range anchors {
		if a.Seq > 0 {
			anchored[a.Seq] = a
			v.Anchored = max(v.Anchored, a.Seq)
		}
		v.Anchors++
	}
	var prev string
	var after int64
	for {
		rows, err := db.Pool.Query(ctx, `SELECT id, actor, actor_name, role, region_code, action, object, reason,
			detail::text, at, prev_hash, hash FROM audit_log WHERE id > $1 ORDER BY id LIMIT 10000`, after)
		if err != nil {
			return v, fmt.Errorf("read audit log: %w", err)
		}
		n := 0
		for rows.Next() {
			var r healthcode.AuditRecord
			var role, detail string
			if err := rows.Scan(&r.ID, &r.Actor, &r.ActorName, &role, &r.RegionCode, &r.Action, &r.Object,
				&r.Reason, &detail, &r.At, &r.PrevHash, &r.Hash); err != nil {
				rows.Close()
				return v, fmt.Errorf("scan audit record: %w", err)
			}
			r.Role = healthcode.Role(role)
			n++
			after = r.ID
			v.Checked++
			if r.PrevHash != prev {
				rows.Close()
				v.BrokenID, v.Problem = r.ID, "previous-hash link does not match the record before it"
				return v, nil
			}
			if auditHash(&r, detail) != r.Hash {
				rows.Close()
				v.BrokenID, v.Problem = r.ID, "hash does not match the record's contents"
				return v, nil
			}
			if a, ok := anchored[r.ID]; ok && a.Hash != r.Hash {
				rows.Close()
				v.BrokenID, v.Problem = r.ID, "record differs from the anchor signed at "+a.At.UTC().Format(time.RFC3339)+
					" (the chain was rewritten)"
				return v, nil
			}
			prev = r.Hash
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return v, fmt.Errorf("read audit log: %w", err)
		}
		if n == 0 {
			if v.Anchored > after {
				a := anchored[v.Anchored]
				v.BrokenID = after + 1
				v.Problem = fmt.Sprintf("the chain ends at record %d but record %d was anchored at %s: the newest records were deleted",
					after, a.Seq, a.At.UTC().Format(time.RFC3339))
			}
			return v, nil
		}
	}
}

// ltreePath turns a region code into its ltree path: 610113001 →
// 61.6101.610113.610113001.
func ltreePath(code string) string {
	anc := healthcode.AncestorCodes(code)
	for i, j := 0, len(anc)-1; i < j; i, j = i+1, j-1 {
		anc[i], anc[j] = anc[j], anc[i]
	}
	return strings.Join(anc, ".")
}

// AuditService implements healthcode.AuditService.
type AuditService struct{ DB *DB }

var _ healthcode.AuditService = (*AuditService)(nil)

// ListAudit implements healthcode.AuditService.
func (s *AuditService) ListAudit(ctx context.Context, f healthcode.AuditFilter) ([]*healthcode.AuditRecord, bool, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, false, err
	}
	visible, err := s.DB.scope(ctx, a, healthcode.PermAuditRead, "")
	if err != nil {
		return nil, false, err
	}
	after := f.After
	if after <= 0 {
		after = 1<<63 - 1
	}
	if f.Region != "" {
		if err := optionalRegion(f.Region); err != nil {
			return nil, false, err
		}
		if !insideAny(f.Region, visible) {
			return nil, false, healthcode.ErrForbidden
		}
	}
	action, prefix := f.Action, strings.HasSuffix(f.Action, ".")
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT id, actor, actor_name, role, region_code, action, object, reason,
		detail::text, at, prev_hash, hash FROM audit_log
		WHERE in_regions(region_path, $1) AND id < $2
		  AND ($4 = '' OR (CASE WHEN $5 THEN starts_with(action, $4) ELSE action = $4 END))
		  AND ($6 = '' OR actor = $6 OR actor_name = $6)
		  AND ($7 = '' OR object = $7)
		  AND ($8 = '' OR starts_with(reason, $8))
		  AND ($9 = '' OR in_regions(region_path, ARRAY[$10]))
		  AND ($11::timestamptz IS NULL OR at >= $11) AND ($12::timestamptz IS NULL OR at < $12)
		ORDER BY id DESC LIMIT $3`,
		ltreePaths(visible), after, f.First+1, action, prefix, strings.TrimSpace(f.Actor), strings.TrimSpace(f.Object),
		f.Reason, f.Region, ltreePath(f.Region), from, to)
	if err != nil {
		return nil, false, fmt.Errorf("list audit log: %w", err)
	}
	return collectPage(rows, f.First, "audit log", func(row pgx.CollectableRow) (*healthcode.AuditRecord, error) {
		var r healthcode.AuditRecord
		var role, detail string
		if err := row.Scan(&r.ID, &r.Actor, &r.ActorName, &role, &r.RegionCode, &r.Action, &r.Object,
			&r.Reason, &detail, &r.At, &r.PrevHash, &r.Hash); err != nil {
			return nil, fmt.Errorf("scan audit record: %w", err)
		}
		r.Role = healthcode.Role(role)
		if err := json.Unmarshal([]byte(detail), &r.Detail); err != nil {
			return nil, fmt.Errorf("decode audit detail %d: %w", r.ID, err)
		}
		return &r, nil
	})
}

// VerifyAuditChain implements healthcode.AuditService: VerifyAudit for an
// auditor of the whole province.
func (s *AuditService) VerifyAuditChain(ctx context.Context) (healthcode.AuditVerification, error) {
	a, err := actor(ctx)
	if err != nil {
		return healthcode.AuditVerification{}, err
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermAuditRead, healthcode.ProvinceCode); err != nil {
		return healthcode.AuditVerification{}, err
	}
	v, err := s.DB.VerifyAudit(ctx)
	v.CheckedAt = s.DB.now()
	return v, err
}
