package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/divisions"
)

// FactService implements healthcode.FactService.
type FactService struct{ DB *DB }

var _ healthcode.FactService = (*FactService)(nil)

// DefaultDesignationDays is how long a manual designation lasts unless
// renewed (SPEC §3).
const DefaultDesignationDays = 14

// rowQuerier is what reads one row: the pool, or a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// authorizeOnPerson checks perm at the person's residence, read through q
// (the pool, or the transaction about to change the person), and returns
// that residence. A caller who may read the person there (person.read) but
// lacks perm gets FORBIDDEN 无权…; outside the grants the person answers
// NOT_FOUND, like an unknown id, so that ids cannot be probed.
func (db *DB) authorizeOnPerson(ctx context.Context, q rowQuerier, a *healthcode.Actor, perm healthcode.Permission, pid int64) (string, error) {
	var region string
	if err := q.QueryRow(ctx, "SELECT residence_code FROM persons WHERE id = $1", pid).Scan(&region); err != nil {
		return "", mapError(err, "人员不存在")
	}
	if err := db.authorize(ctx, a, perm, region, seenWith("人员不存在", healthcode.PermPersonRead)); err != nil {
		return "", err
	}
	return region, nil
}

func staffOnly(ctx context.Context) (*healthcode.Actor, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if a.Kind != healthcode.ActorStaff && a.Kind != healthcode.ActorSystem {
		return nil, healthcode.ErrForbidden
	}
	return a, nil
}

// RecordMedicalEvent implements healthcode.FactService.
func (s *FactService) RecordMedicalEvent(ctx context.Context, pid int64, kind string, at time.Time, note string) (*healthcode.Code, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(healthcode.MedicalKinds, kind) {
		return nil, healthcode.Errorf(healthcode.EINVALID, "未知的医学状态：%s", healthcode.Truncate(kind, 30))
	}
	now := s.DB.now()
	if at.IsZero() {
		at = now
	}
	if at.After(now.Add(time.Minute)) || at.Before(now.AddDate(0, 0, -60)) {
		return nil, healthcode.Errorf(healthcode.EINVALID, "事件时间不能晚于现在，也不能早于 60 天前")
	}
	if utf8.RuneCountInString(note) > 200 {
		return nil, healthcode.Errorf(healthcode.EINVALID, "备注不超过 200 个字")
	}
	var code *healthcode.Code
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		var err error
		code, err = s.DB.RecordMedicalEventTx(ctx, tx, a, pid, kind, at, note, "")
		return err
	})
	return code, err
}

// RecordMedicalEventTx records a medical event inside tx and re-evaluates
// the person's code in the same transaction, or, unless the caller may change
// a colour alone (changesAlone), records a colour change request instead:
// every medical event starts or ends a red clause (docs/security-colour.md),
// so none takes effect on one person's word. ref is "" for a direct call,
// which needs fact.write at the person's residence, and the appeal's ticket
// (ticket:12) for an appeal correction, which the ticket service authorized.
// Errors: NOT_FOUND, FORBIDDEN (the person is visible but fact.write is
// missing; the caller's phone is not verified), INVALID (kind).
func (db *DB) RecordMedicalEventTx(ctx context.Context, tx *Tx, a *healthcode.Actor, pid int64, kind string, at time.Time, note, ref string) (*healthcode.Code, error) {
	_, code, err := db.recordMedical(ctx, tx, a, pid, kind, at, note, ref)
	return code, err
}

// recordMedical is RecordMedicalEventTx, returning the event's id too (0
// when the event became a colour change request).
func (db *DB) recordMedical(ctx context.Context, tx *Tx, a *healthcode.Actor, pid int64, kind string, at time.Time, note, ref string) (int64, *healthcode.Code, error) {
	if !slices.Contains(healthcode.MedicalKinds, kind) {
		return 0, nil, healthcode.Errorf(healthcode.EINVALID, "未知的医学状态：%s", healthcode.Truncate(kind, 30))
	}
	var region string
	var err error
	if ref == "" {
		region, err = db.authorizeOnPerson(ctx, tx, a, healthcode.PermFactWrite, pid)
	} else {
		err = tx.QueryRow(ctx, "SELECT residence_code FROM persons WHERE id = $1", pid).Scan(&region)
		err = mapError(err, "人员不存在")
	}
	if err != nil {
		return 0, nil, err
	}
	if !changesAlone(ctx, a) {
		codes, err := db.reevaluate(ctx, tx, []int64{pid}, "time")
		if err != nil {
			return 0, nil, err
		}
		summary := fmt.Sprintf("录入医学状态：%s（%s）", healthcode.MedicalKindName(kind), at.In(healthcode.CST).Format("2006-01-02 15:04"))
		req, err := db.requestColourChange(ctx, tx, a, healthcode.ColourOpMedical, pid, region,
			colourPayload{Kind: kind, At: at, Note: note, Ref: ref}, summary)
		if err != nil {
			return 0, nil, err
		}
		code := codes[pid]
		code.Pending = req
		return 0, code, nil
	}
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO medical_events (person_id, kind, at, note, actor, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, pid, kind, at, note, a.Subject(), tx.Now).Scan(&id); err != nil {
		return 0, nil, fmt.Errorf("insert medical event: %w", err)
	}
	cause := "fact:medical:" + strconv.FormatInt(id, 10)
	if err := tx.Audit(ctx, healthcode.AuditRecord{Role: db.roleFor(ctx, a, healthcode.PermFactWrite, region),
		RegionCode: region, Action: "fact.record", Object: "person:" + strconv.FormatInt(pid, 10),
		Reason: ref, Detail: map[string]any{"fact": cause, "kind": kind, "at": at}}); err != nil {
		return 0, nil, err
	}
	codes, err := db.reevaluate(ctx, tx, []int64{pid}, cause)
	if err != nil {
		return 0, nil, err
	}
	return id, codes[pid], nil
}

var factTables = map[string]string{"STAY": "stays", "MEDICAL": "medical_events", "HEALTH": "health_records", "DESIGNATION": "designations"}

// RetractFact implements healthcode.FactService.
func (s *FactService) RetractFact(ctx context.Context, kind string, factID int64, reason string) (*healthcode.Code, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	return s.DB.retractFact(ctx, a, kind, factID, reason, "")
}

// retractFact retracts one fact in its own transaction (or the caller's
// when tx is given through RetractFactTx) and re-evaluates. ref is recorded
// as the audit reason prefix (a ticket id for appeal corrections).
func (db *DB) retractFact(ctx context.Context, a *healthcode.Actor, kind string, factID int64, reason, ref string) (*healthcode.Code, error) {
	var code *healthcode.Code
	err := db.InTx(ctx, func(tx *Tx) error {
		var err error
		code, err = db.RetractFactTx(ctx, tx, a, kind, factID, reason, ref)
		return err
	})
	return code, err
}

// RetractFactTx retracts a fact inside tx and re-evaluates the person's code
// in the same transaction. The hotline's appeal resolution calls it. A fever
// report raised by the retracted fact is settled in the same transaction
// (settleFeverReports). The caller needs fact.write at the person's
// residence. Errors: INVALID (kind, empty reason), NOT_FOUND, FORBIDDEN (the
// person is visible but fact.write is missing), CONFLICT (already retracted).
func (db *DB) RetractFactTx(ctx context.Context, tx *Tx, a *healthcode.Actor, kind string, factID int64, reason, ref string) (*healthcode.Code, error) {
	table, ok := factTables[kind]
	if !ok {
		return nil, healthcode.Errorf(healthcode.EINVALID, "事实类型应为 STAY、MEDICAL、HEALTH 或 DESIGNATION")
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 500 {
		return nil, healthcode.Errorf(healthcode.EINVALID, "撤销原因不能为空，且不超过 500 个字")
	}
	var pid int64
	var retracted *time.Time
	where := "id = $1"
	err := tx.QueryRow(ctx, "SELECT person_id, retracted_at FROM "+table+" WHERE id = $1 FOR UPDATE", factID).Scan(&pid, &retracted)
	if errors.Is(err, pgx.ErrNoRows) && kind == "STAY" {
		// The stay of a scan is the scan itself (one id sequence for both).
		table, where = "scans", "stay_id = $1 AND person_id IS NOT NULL"
		err = tx.QueryRow(ctx, "SELECT person_id, retracted_at FROM scans WHERE "+where+" FOR UPDATE", factID).Scan(&pid, &retracted)
	}
	if err != nil {
		return nil, mapError(err, "事实记录不存在")
	}
	var region string
	if ref == "" {
		region, err = db.authorizeOnPerson(ctx, tx, a, healthcode.PermFactWrite, pid)
	} else { // an appeal correction: the ticket service authorized it
		err = tx.QueryRow(ctx, "SELECT residence_code FROM persons WHERE id = $1", pid).Scan(&region)
	}
	if err != nil {
		if healthcode.ErrorCode(err) == healthcode.ENOTFOUND || errors.Is(err, pgx.ErrNoRows) {
			return nil, healthcode.Errorf(healthcode.ENOTFOUND, "事实记录不存在")
		}
		return nil, err
	}
	if retracted != nil {
		return nil, healthcode.Errorf(healthcode.ECONFLICT, "该记录已撤销")
	}
	if !changesAlone(ctx, a) {
		// A medical event or an approved red designation always holds up or
		// ends a red; another fact is tried, and its retraction waits for
		// approval when it would take the person out of red (or into it).
		always := kind == "MEDICAL"
		if kind == "DESIGNATION" {
			var redApproved bool
			if err := tx.QueryRow(ctx, "SELECT colour = 'RED' AND approved_at IS NOT NULL FROM designations WHERE id = $1",
				factID).Scan(&redApproved); err != nil {
				return nil, fmt.Errorf("read designation: %w", err)
			}
			always = redApproved
		}
		request := func(code *healthcode.Code) (*healthcode.Code, error) {
			req, err := db.requestColourChange(ctx, tx, a, healthcode.ColourOpRetract, pid, region,
				colourPayload{Kind: kind, FactID: factID, Reason: reason, Ref: ref},
				fmt.Sprintf("撤销%s记录 %d：%s", factLabels[kind], factID, reason))
			if err != nil {
				return nil, err
			}
			code.Pending = req
			return code, nil
		}
		trial, err := db.beginTrial(ctx, tx, []int64{pid})
		if err != nil {
			return nil, err
		}
		if always {
			if err := trial.keep(ctx, tx); err != nil {
				return nil, err
			}
			return request(trial.codes[pid])
		}
		code, err := db.retractNow(ctx, tx, a, kind, table, where, factID, pid, region, reason, ref)
		if err != nil {
			return nil, err
		}
		if !trial.turnsRed(map[int64]*healthcode.Code{pid: code}) {
			return code, trial.keep(ctx, tx)
		}
		if err := trial.undo(ctx, tx); err != nil {
			return nil, err
		}
		return request(trial.codes[pid])
	}
	return db.retractNow(ctx, tx, a, kind, table, where, factID, pid, region, reason, ref)
}

// factLabels name the kinds of facts in Chinese.
var factLabels = map[string]string{"STAY": "行程", "MEDICAL": "医学状态", "HEALTH": "健康状况", "DESIGNATION": "人工赋码"}

// retractNow retracts the fact (its row in table, found by where) and
// re-evaluates the person's code; RetractFactTx checked everything.
func (db *DB) retractNow(ctx context.Context, tx *Tx, a *healthcode.Actor, kind, table, where string, factID, pid int64, region, reason, ref string) (*healthcode.Code, error) {
	if _, err := tx.Exec(ctx, "UPDATE "+table+" SET retracted_at = $2, retracted_by = $3, retract_reason = $4 WHERE "+where,
		factID, tx.Now, a.Subject(), reason); err != nil {
		return nil, fmt.Errorf("retract fact: %w", err)
	}
	cause := "retract:" + strings.ToLower(kind) + ":" + strconv.FormatInt(factID, 10)
	role := db.roleFor(ctx, a, healthcode.PermFactWrite, region)
	if err := tx.Audit(ctx, healthcode.AuditRecord{Role: role,
		RegionCode: region, Action: "fact.retract", Object: "person:" + strconv.FormatInt(pid, 10),
		Reason: strings.TrimSpace(ref + " " + reason), Detail: map[string]any{"fact": cause}}); err != nil {
		return nil, err
	}
	if err := settleFeverReports(ctx, tx, a, role, kind, table == "scans", factID, retractionWhy(reason, ref), cause); err != nil {
		return nil, err
	}
	codes, err := db.reevaluate(ctx, tx, []int64{pid}, cause)
	if err != nil {
		return nil, err
	}
	return codes[pid], nil
}

// Designate implements healthcode.FactService.
func (s *FactService) Designate(ctx context.Context, in healthcode.DesignationInput) (int64, *healthcode.Code, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return 0, nil, err
	}
	if in.Colour != healthcode.Red && in.Colour != healthcode.Yellow {
		return 0, nil, healthcode.Errorf(healthcode.EINVALID, "人工赋码只能为红码或黄码")
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" || utf8.RuneCountInString(in.Reason) > 500 {
		return 0, nil, healthcode.Errorf(healthcode.EINVALID, "必须填写纳入管理的原因（不超过 500 字）")
	}
	if in.Days == 0 {
		in.Days = DefaultDesignationDays
	}
	if in.Days < 1 || in.Days > 60 {
		return 0, nil, healthcode.Errorf(healthcode.EINVALID, "有效天数应在 1 至 60 天之间")
	}
	var id int64
	var code *healthcode.Code
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		region, err := s.DB.authorizeOnPerson(ctx, tx, a, healthcode.PermDesignate, in.PersonID)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO designations (person_id, colour, reason, from_at, until_at, actor, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $4) RETURNING id`, in.PersonID, string(in.Colour), in.Reason, tx.Now,
			tx.Now.AddDate(0, 0, in.Days), a.Subject()).Scan(&id); err != nil {
			return fmt.Errorf("insert designation: %w", err)
		}
		cause := "fact:designation:" + strconv.FormatInt(id, 10)
		if err := tx.Audit(ctx, healthcode.AuditRecord{Role: s.DB.roleFor(ctx, a, healthcode.PermDesignate, region),
			RegionCode: region, Action: "designation.create", Object: "person:" + strconv.FormatInt(in.PersonID, 10),
			Reason: in.Reason, Detail: map[string]any{"designation": id, "colour": string(in.Colour), "days": in.Days}}); err != nil {
			return err
		}
		codes, err := s.DB.reevaluate(ctx, tx, []int64{in.PersonID}, cause)
		code = codes[in.PersonID]
		return err
	})
	return id, code, err
}

// ApproveDesignation implements healthcode.FactService.
func (s *FactService) ApproveDesignation(ctx context.Context, designationID int64) (*healthcode.Code, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	var code *healthcode.Code
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		var pid int64
		var by string
		var approved, retracted *time.Time
		err := tx.QueryRow(ctx, `SELECT person_id, actor, approved_at, retracted_at FROM designations WHERE id = $1 FOR UPDATE`,
			designationID).Scan(&pid, &by, &approved, &retracted)
		if err != nil {
			return mapError(err, "赋码记录不存在")
		}
		region, err := s.DB.authorizeOnPerson(ctx, tx, a, healthcode.PermDesignateApprove, pid)
		if healthcode.ErrorCode(err) == healthcode.ENOTFOUND {
			return healthcode.Errorf(healthcode.ENOTFOUND, "赋码记录不存在") // as for an unknown id
		} else if err != nil {
			return err
		}
		if approved != nil || retracted != nil {
			return healthcode.Errorf(healthcode.ECONFLICT, "该赋码已审核或已撤销")
		}
		if err := s.DB.differentPerson(ctx, tx, by, a, "红码须由另一名工作人员审核，不能审核自己提交的赋码"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE designations SET approved_by = $2, approved_at = $3 WHERE id = $1",
			designationID, a.Subject(), tx.Now); err != nil {
			return fmt.Errorf("approve designation: %w", err)
		}
		cause := "approve:designation:" + strconv.FormatInt(designationID, 10)
		if err := tx.Audit(ctx, healthcode.AuditRecord{Role: s.DB.roleFor(ctx, a, healthcode.PermDesignateApprove, region),
			RegionCode: region, Action: "designation.approve", Object: "person:" + strconv.FormatInt(pid, 10),
			Detail: map[string]any{"designation": designationID}}); err != nil {
			return err
		}
		codes, err := s.DB.reevaluate(ctx, tx, []int64{pid}, cause)
		code = codes[pid]
		return err
	})
	return code, err
}

// areaCode validates a region code of any province for an area designation
// and returns the region at which the caller's permission is checked: the
// code itself inside Shaanxi, the province for other provinces' areas.
func areaCode(code string) (string, error) {
	if !healthcode.AnyRegionCode(code) {
		return "", healthcode.Errorf(healthcode.EINVALID, "地区代码格式不正确")
	}
	if strings.HasPrefix(code, healthcode.ProvinceCode) {
		if _, ok := healthcode.LevelOfCode(code); !ok {
			return "", healthcode.Errorf(healthcode.EINVALID, "地区代码格式不正确")
		}
		return code, nil
	}
	return healthcode.ProvinceCode, nil
}

// authorizeAreaRisk checks a designation's level and region and that the
// caller (staff) holds area_risk.write there; it returns the caller and the
// region the permission was checked at.
func (s *FactService) authorizeAreaRisk(ctx context.Context, regionCode, level string) (*healthcode.Actor, string, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, "", err
	}
	if level != healthcode.RiskHigh && level != healthcode.RiskMedium && level != healthcode.RiskLow {
		return nil, "", healthcode.Errorf(healthcode.EINVALID, "风险等级应为 HIGH、MEDIUM 或 LOW")
	}
	authAt, err := areaCode(regionCode)
	if err != nil {
		return nil, "", err
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermAreaRiskWrite, authAt); err != nil {
		return nil, "", err
	}
	return a, authAt, nil
}

// areaExists returns NOT_FOUND for a Shaanxi region (or the province) that
// does not exist; other provinces' areas are not in the region table.
func areaExists(ctx context.Context, tx *Tx, regionCode, authAt string) error {
	if authAt == healthcode.ProvinceCode && regionCode != healthcode.ProvinceCode {
		return nil
	}
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM regions WHERE code = $1)", regionCode).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return healthcode.Errorf(healthcode.ENOTFOUND, "地区不存在")
	}
	return nil
}

// SetAreaRisk implements healthcode.FactService.
func (s *FactService) SetAreaRisk(ctx context.Context, regionCode, level, reason string) (*healthcode.AreaRisk, error) {
	a, authAt, err := s.authorizeAreaRisk(ctx, regionCode, level)
	if err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > 500 {
		return nil, healthcode.Errorf(healthcode.EINVALID, "原因不超过 500 个字")
	}
	var out *healthcode.AreaRisk
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		if err := areaExists(ctx, tx, regionCode, authAt); err != nil {
			return err
		}
		// A HIGH level turns red everyone who stayed in the area, and lowering
		// one lifts those reds: either waits for a second health officer
		// (docs/security-colour.md). The row is stored pending, not in force.
		var current string
		err := tx.QueryRow(ctx, `SELECT level FROM area_risks WHERE region_code = $1 AND from_at <= $2 AND NOT pending
			ORDER BY from_at DESC, id DESC LIMIT 1`, regionCode, tx.Now).Scan(&current)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read area risk: %w", err)
		}
		pending := (level == healthcode.RiskHigh) != (current == healthcode.RiskHigh) && !changesAlone(ctx, a)
		r := &healthcode.AreaRisk{RegionCode: regionCode, Level: level, From: tx.Now, Reason: reason, Actor: a.Subject(),
			CreatedAt: tx.Now, Pending: pending}
		if err := tx.QueryRow(ctx, `INSERT INTO area_risks (region_code, region_path, level, from_at, reason, actor, created_at, pending)
			VALUES ($1, $2::text::ltree, $3, $4, $5, $6, $4, $7) RETURNING id`, regionCode, placePath(regionCode), level, tx.Now,
			reason, a.Subject(), pending).Scan(&r.ID); err != nil {
			return fmt.Errorf("insert area risk: %w", err)
		}
		out = r
		if pending {
			req, err := s.DB.requestColourChange(ctx, tx, a, healthcode.ColourOpAreaRisk, 0, authAt,
				colourPayload{AreaRiskID: r.ID}, fmt.Sprintf("%s 风险等级调整为%s：%s", regionCode, healthcode.RiskLevelName(level), reason))
			if err != nil {
				return err
			}
			r.RequestID = req.ID
			// MASS_DESIGNATION counts distinct areas as well as persons.
			if _, err := tx.Exec(ctx, "UPDATE colour_requests SET area_code = $2 WHERE id = $1", req.ID, regionCode); err != nil {
				return fmt.Errorf("record the area of the request: %w", err)
			}
			return tx.checkAlert(ctx, a, healthcode.AlertMassDesignation, map[string]any{
				"last": "region:" + regionCode, "request": req.ID, "op": healthcode.ColourOpAreaRisk})
		}
		if err := tx.Audit(ctx, healthcode.AuditRecord{Role: s.DB.roleFor(ctx, a, healthcode.PermAreaRiskWrite, authAt),
			RegionCode: authAt, Action: "area_risk.set", Object: "region:" + regionCode, Reason: reason,
			Detail: map[string]any{"level": level, "areaRisk": r.ID}}); err != nil {
			return err
		}
		return queueAreaFanOut(ctx, tx, r.ID)
	})
	return out, err
}

// approveAreaRisk puts pending area risk id in force from now, as approved
// by approver, and queues its fan-out; requester must still hold
// area_risk.write there.
func (db *DB) approveAreaRisk(ctx context.Context, tx *Tx, requester, approver *healthcode.Actor, id int64) error {
	var region string
	if err := tx.QueryRow(ctx, "SELECT region_code FROM area_risks WHERE id = $1 AND pending FOR UPDATE", id).Scan(&region); err != nil {
		return mapError(err, "风险等级调整不存在")
	}
	authAt, err := areaCode(region)
	if err != nil {
		return err
	}
	if err := db.authorize(ctx, requester, healthcode.PermAreaRiskWrite, authAt); err != nil {
		return healthcode.Errorf(healthcode.EFORBIDDEN, "提交人已无权调整该地区的风险等级")
	}
	var level, reason string
	if err := tx.QueryRow(ctx, `UPDATE area_risks SET pending = false, approved_by = $2, from_at = $3, created_at = $3
		WHERE id = $1 RETURNING level, reason`, id, approver.Subject(), tx.Now).Scan(&level, &reason); err != nil {
		return fmt.Errorf("approve area risk: %w", err)
	}
	if err := tx.Audit(ctx, healthcode.AuditRecord{Role: db.roleFor(ctx, approver, healthcode.PermColourApprove, authAt),
		RegionCode: authAt, Action: "area_risk.set", Object: "region:" + region, Reason: reason,
		Detail: map[string]any{"level": level, "areaRisk": id, "requestedBy": requester.Subject()}}); err != nil {
		return err
	}
	return queueAreaFanOut(ctx, tx, id)
}

// queueAreaFanOut queues the re-evaluation of the persons an area risk
// designation concerns, now and again a minute later.
func queueAreaFanOut(ctx context.Context, tx *Tx, id int64) error {
	{
		key := "area_risk:" + strconv.FormatInt(id, 10)
		first, _ := json.Marshal(healthcode.FanOutAreaPayload{AreaRiskID: id})
		if _, err := tx.Outbox(ctx, healthcode.TaskFanOutArea, first, key); err != nil {
			return err
		}
		// Again a minute later, for the evaluations that were in flight.
		late, _ := json.Marshal(healthcode.FanOutAreaPayload{AreaRiskID: id, Late: true})
		_, err := tx.OutboxAt(ctx, healthcode.TaskFanOutArea, late, key+":late", tx.Now.Add(LateFanOutDelay))
		return err
	}
}

// AreaRisks implements healthcode.FactService.
func (s *FactService) AreaRisks(ctx context.Context, regionCode string, history bool) ([]*healthcode.AreaRisk, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if regionCode == "" {
		regionCode = healthcode.ProvinceCode
	}
	authAt, err := areaCode(regionCode)
	if err != nil {
		return nil, err
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermRegionRead, authAt); err != nil {
		return nil, err
	}
	q := `SELECT DISTINCT ON (region_code) id, region_code, level, from_at, reason, actor, created_at, COALESCE(approved_by, '') FROM area_risks
		WHERE region_code LIKE $1 || '%' AND from_at <= $2 AND NOT pending ORDER BY region_code, from_at DESC, id DESC`
	if history {
		q = `SELECT id, region_code, level, from_at, reason, actor, created_at, COALESCE(approved_by, '') FROM area_risks
		WHERE region_code LIKE $1 || '%' AND from_at <= $2 AND NOT pending ORDER BY region_code, from_at DESC, id DESC`
	}
	rows, err := s.DB.Pool.Query(ctx, q, regionCode, s.DB.now())
	if err != nil {
		return nil, fmt.Errorf("list area risks: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.AreaRisk, error) {
		var ar healthcode.AreaRisk
		err := r.Scan(&ar.ID, &ar.RegionCode, &ar.Level, &ar.From, &ar.Reason, &ar.Actor, &ar.CreatedAt, &ar.ApprovedBy)
		return &ar, err
	})
	if err != nil {
		return nil, fmt.Errorf("list area risks: %w", err)
	}
	if !history { // a region lowered to LOW is no longer designated
		list = slices.DeleteFunc(list, func(r *healthcode.AreaRisk) bool { return r.Level == healthcode.RiskLow })
	}
	return list, nil
}

// PersonFacts implements healthcode.FactService.
func (s *FactService) PersonFacts(ctx context.Context, pid int64) ([]*healthcode.Fact, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	region, err := s.DB.authorizeOnPerson(ctx, s.DB.Pool, a, healthcode.PermPersonRead, pid)
	if err != nil {
		return nil, err
	}
	if err := s.DB.logAccess(ctx, s.DB.Pool, []int64{pid}, healthcode.AccessFacts, healthcode.PermPersonRead, region, ""); err != nil {
		return nil, err
	}
	return s.DB.personFacts(ctx, pid)
}

// MyFacts implements healthcode.FactService.
func (s *FactService) MyFacts(ctx context.Context, personID int64) ([]*healthcode.Fact, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	pid, err := ownPerson(ctx, s.DB.Pool, a, personID)
	if err != nil {
		return nil, err
	}
	return s.DB.personFacts(ctx, pid)
}

// endSQL is the SQL text of the end of a period at local (a timestamp in
// China Standard Time) as a reader takes "至…", like the reasons' texts
// (rules): a midnight as the last day the period includes, another time
// with its time of day.
func endSQL(local string) string {
	return `CASE WHEN (` + local + `)::time = '00:00' THEN to_char((` + local + `) - interval '1 day', 'YYYY-MM-DD')
		ELSE to_char(` + local + `, 'YYYY-MM-DD HH24:MI') END`
}

// stayPeriodSQL is a stay's period (from l.f to l.t, local times) as the
// person declared it: "2026-11-20 至 2026-11-25" for a trip stored to
// 11-26 00:00, one date for a stay of one day, "… 起至今" for an open one.
var stayPeriodSQL = `to_char(l.f, CASE WHEN l.f::time = '00:00' THEN 'YYYY-MM-DD' ELSE 'YYYY-MM-DD HH24:MI' END) ||
		CASE WHEN l.t IS NULL THEN ' 起至今'
		     WHEN l.t <= l.f OR (l.f::time = '00:00' AND l.t = l.f + interval '1 day') THEN ''
		     ELSE ' 至 ' || ` + endSQL("l.t") + ` END`

func (db *DB) personFacts(ctx context.Context, pid int64) ([]*healthcode.Fact, error) {
	// Columns: kind, id, summary, source, actor, created_at, retracted_at,
	// retract_reason, venue, institution, approved_by, then the fields
	// (healthcode.Fact): when, place, place_name, medical_kind, note,
	// temperature, symptoms, colour, pending.
	rows, err := db.Pool.Query(ctx, `
		SELECT 'STAY', id, source || ' ' || place || ' ' || `+stayPeriodSQL+`, source, actor, created_at, retracted_at, COALESCE(retract_reason, ''),
		       '', '', '',
		       `+stayPeriodSQL+`, place, COALESCE((SELECT name FROM regions r WHERE r.code = place), ''), '', '', NULL::numeric, '{}'::text[], '', false
		  FROM stays, LATERAL (SELECT from_at AT TIME ZONE 'Asia/Shanghai' AS f, to_at AT TIME ZONE 'Asia/Shanghai' AS t) l
		 WHERE person_id = $1
		UNION ALL
		SELECT 'STAY', stay_id, 'SCAN ' || p.place || ' ' || l.at || COALESCE(' ' || temperature::text || '℃', ''), 'SCAN', 'staff:' || inspector_id,
		       received_at, retracted_at, COALESCE(retract_reason, ''),
		       COALESCE((SELECT name FROM venues v WHERE v.id = venue_id), ''), COALESCE((SELECT name FROM institutions i WHERE i.id = institution_id), ''), '',
		       l.at, p.place, COALESCE((SELECT name FROM regions r WHERE r.code = p.place), ''), '', '', temperature::numeric, '{}'::text[], '', false
		  FROM scans, LATERAL (SELECT ltree2text(subpath(region_path, -1)) AS place) p,
		       LATERAL (SELECT to_char(scanned_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS at) l
		 WHERE person_id = $1 AND stay_id IS NOT NULL
		UNION ALL
		SELECT 'MEDICAL', id, kind || ' ' || l.at || CASE WHEN note <> '' THEN ' ' || note ELSE '' END,
		       'HEALTH_AUTHORITY', actor, created_at, retracted_at, COALESCE(retract_reason, ''), '', '', '',
		       l.at, '', '', kind, note, NULL::numeric, '{}'::text[], '', false
		  FROM medical_events, LATERAL (SELECT to_char(at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS at) l
		 WHERE person_id = $1
		UNION ALL
		SELECT 'HEALTH', id, COALESCE(temperature::text || '℃', '') || CASE WHEN cardinality(symptoms) > 0 THEN ' ' || array_to_string(symptoms, ',') ELSE '' END
		       || ' ' || l.at, source, actor, created_at, retracted_at, COALESCE(retract_reason, ''), '', '', '',
		       l.at, '', '', '', '', temperature::numeric, symptoms, '', false
		  FROM health_records, LATERAL (SELECT to_char(at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS at) l
		 WHERE person_id = $1
		UNION ALL
		SELECT 'DESIGNATION', id, colour || ' ' || reason || CASE WHEN colour = 'RED' AND approved_at IS NULL THEN '（待审核）' ELSE '' END
		       || ' 至 ' || `+endSQL("until_at AT TIME ZONE 'Asia/Shanghai'")+`, 'MANUAL', actor, created_at, retracted_at, COALESCE(retract_reason, ''), '', '',
		       COALESCE(approved_by, ''),
		       '至 ' || `+endSQL("until_at AT TIME ZONE 'Asia/Shanghai'")+`, '', '', '', reason, NULL::numeric, '{}'::text[], colour, colour = 'RED' AND approved_at IS NULL
		  FROM designations WHERE person_id = $1
		ORDER BY 6, 2`, pid)
	if err != nil {
		return nil, fmt.Errorf("list facts: %w", err)
	}
	facts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.Fact, error) {
		var f healthcode.Fact
		err := r.Scan(&f.Kind, &f.ID, &f.Summary, &f.Source, &f.Actor, &f.CreatedAt, &f.RetractedAt, &f.RetractReason, &f.Venue, &f.Institution, &f.ApprovedBy,
			&f.When, &f.Place, &f.PlaceName, &f.MedicalKind, &f.Note, &f.Temperature, &f.Symptoms, &f.Colour, &f.Pending)
		return &f, err
	})
	if err != nil {
		return nil, err
	}
	for _, f := range facts {
		// A place outside the region tree is named as clause reasons name
		// it (divisions.PlaceLabel): another province by the national
		// divisions, a place abroad by its country (境外（日本）); an
		// unknown region code keeps no name.
		if f.PlaceName == "" && f.Place != "" {
			if n := divisions.PlaceLabel(f.Place); n != f.Place {
				f.PlaceName = n
			}
		}
	}
	// A fact entered by an account that was ever the person's guardian was
	// entered on their behalf (监护人代报), for staff judging an appeal.
	rows, err = db.Pool.Query(ctx, `SELECT DISTINCT 'resident:' || account_id FROM guardianship_events
		WHERE person_id = $1 AND event = 'BIND' AND basis <> 'SELF'`, pid)
	if err != nil {
		return nil, fmt.Errorf("list guardians: %w", err)
	}
	guardians, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list guardians: %w", err)
	}
	for _, f := range facts {
		if slices.Contains(guardians, f.Actor) {
			f.OnBehalf = healthcode.OnBehalfGuardian
		}
	}
	// The second person of a fact that went through a colour change
	// request: who approved its entry, or its retraction.
	approved, err := db.approvals(ctx, pid)
	if err != nil {
		return nil, err
	}
	for _, f := range facts {
		id := strconv.FormatInt(f.ID, 10)
		if by := approved[strings.ToLower(f.Kind)+":"+id]; by != "" {
			f.ApprovedBy = by
		}
		f.RetractApprovedBy = approved["retract:"+strings.ToLower(f.Kind)+":"+id]
	}
	return facts, nil
}
