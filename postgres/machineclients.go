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
)

// MachineClientService implements healthcode.MachineClientService: the
// administration of API keys (both kinds) and the medical events of medical
// institutions' machine clients (docs/exchange.md).
type MachineClientService struct{ DB *DB }

var _ healthcode.MachineClientService = (*MachineClientService)(nil)

// medicalLockSpace is the first key of the advisory locks that serialise
// concurrent requests carrying the same record id of an institution.
const medicalLockSpace = 7003

const apiKeyColumns = `k.id, k.name, CASE WHEN k.institution_id IS NULL THEN 'SUBSYSTEM' ELSE 'MEDICAL_CLIENT' END,
	k.city_code, r.name, COALESCE(k.institution_id, 0), COALESCE(i.name, ''), COALESCE('staff:' || k.created_by, 'system'),
	k.created_at, k.pending, COALESCE('staff:' || k.approved_by, ''), k.approved_at, k.last_used_at, k.revoked_at,
	COALESCE('staff:' || k.revoked_by, '')`

const apiKeyFrom = ` FROM api_keys k JOIN regions r ON r.code = k.city_code LEFT JOIN institutions i ON i.id = k.institution_id`

func scanAPIKey(row pgx.Row) (*healthcode.APIKey, error) {
	var k healthcode.APIKey
	err := row.Scan(&k.ID, &k.Name, &k.Kind, &k.RegionCode, &k.RegionName, &k.InstitutionID, &k.InstitutionName,
		&k.CreatedBy, &k.CreatedAt, &k.Pending, &k.ApprovedBy, &k.ApprovedAt, &k.LastUsedAt, &k.RevokedAt, &k.RevokedBy)
	return &k, err
}

// CreateMachineClientKey implements healthcode.MachineClientService.
func (s *MachineClientService) CreateMachineClientKey(ctx context.Context, institutionID int64, name string) (string, int64, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return "", 0, err
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxAPIKeyNameRunes {
		return "", 0, healthcode.Errorf(healthcode.EINVALID, "名称不能为空，且不超过 %d 个字", maxAPIKeyNameRunes)
	}
	db := s.DB
	var key string
	var id int64
	err = db.InTx(ctx, func(tx *Tx) error {
		var region, status, kind string
		err := tx.QueryRow(ctx, "SELECT region_code, status, kind FROM institutions WHERE id = $1 FOR SHARE", institutionID).
			Scan(&region, &status, &kind)
		if err != nil {
			return mapError(err, "机构不存在")
		}
		if err := db.authorize(ctx, a, healthcode.PermAPIKeyManage, region,
			seenWith("机构不存在", healthcode.PermInstitutionRead)); err != nil {
			return err
		}
		if !healthcode.MedicalInstitution(kind) {
			return healthcode.Errorf(healthcode.ECONFLICT, "仅医院、疾控中心、诊所等医疗机构可申请医疗事件接口密钥")
		}
		if status != "ACTIVE" {
			return healthcode.Errorf(healthcode.ECONFLICT, "机构未通过审核或已暂停，不能申请接口密钥")
		}
		county := region[:6]
		if id, key, err = newAPIKey(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO api_keys (id, name, city_code, key_hash, created_by, created_at, institution_id, pending)
			VALUES ($1, $2, $3, $4, $5, $6, $7, true)`, id, name, county, tokenHash(key), a.ID, tx.Now, institutionID); err != nil {
			return fmt.Errorf("insert api key: %w", err)
		}
		return tx.Audit(ctx, healthcode.AuditRecord{
			Role: db.roleFor(ctx, a, healthcode.PermAPIKeyManage, region), RegionCode: region,
			Action: "apikey.request", Object: "apikey:" + strconv.FormatInt(id, 10),
			Detail: map[string]any{"name": name, "institution": institutionID, "region": county},
		})
	})
	if err != nil {
		return "", 0, err
	}
	return key, id, nil
}

// APIKeys implements healthcode.MachineClientService.
func (s *MachineClientService) APIKeys(ctx context.Context, f healthcode.APIKeyFilter) ([]*healthcode.APIKey, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	regions, err := s.DB.scope(ctx, a, healthcode.PermAPIKeyManage, f.Region)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Pool.Query(ctx, "SELECT "+apiKeyColumns+apiKeyFrom+`
		WHERE in_regions(r.path, $1) AND (NOT $2 OR (k.pending AND k.revoked_at IS NULL))
		ORDER BY k.id DESC LIMIT 500`, ltreePaths(regions), f.PendingOnly)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.APIKey, error) { return scanAPIKey(r) })
}

// withAPIKey runs decide on key id, read for update in a transaction, as
// the calling member of staff; it returns the key as decide left it.
func (s *MachineClientService) withAPIKey(ctx context.Context, id int64, decide func(tx *Tx, a *healthcode.Actor, k *healthcode.APIKey) error) (*healthcode.APIKey, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	var out *healthcode.APIKey
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		k, err := scanAPIKey(tx.QueryRow(ctx, "SELECT "+apiKeyColumns+apiKeyFrom+" WHERE k.id = $1 FOR UPDATE OF k", id))
		if err != nil {
			return mapError(err, "API 密钥不存在")
		}
		if err := decide(tx, a, k); err != nil {
			return err
		}
		out = k
		return nil
	})
	return out, err
}

// ApproveAPIKey implements healthcode.MachineClientService.
func (s *MachineClientService) ApproveAPIKey(ctx context.Context, id int64) (*healthcode.APIKey, error) {
	db := s.DB
	return s.withAPIKey(ctx, id, func(tx *Tx, a *healthcode.Actor, k *healthcode.APIKey) error {
		// An administrator of the parent region of the key's county (the
		// city), as for a grant of an approving role.
		at := k.RegionCode
		if ancestors := healthcode.AncestorCodes(k.RegionCode); len(ancestors) > 1 {
			at = ancestors[1]
		}
		if err := db.authorize(ctx, a, healthcode.PermAPIKeyManage, at); healthcode.ErrorCode(err) == healthcode.EFORBIDDEN {
			// An administrator of the key's county sees it but may not approve it.
			if db.authorize(ctx, a, healthcode.PermAPIKeyManage, k.RegionCode) == nil {
				return healthcode.Errorf(healthcode.EFORBIDDEN, "接口密钥须由上级地区的另一名管理员审核")
			}
			return healthcode.Errorf(healthcode.ENOTFOUND, "API 密钥不存在")
		} else if err != nil {
			return err
		}
		switch {
		case k.RevokedAt != nil:
			return healthcode.Errorf(healthcode.ECONFLICT, "该密钥已吊销")
		case !k.Pending:
			return healthcode.Errorf(healthcode.ECONFLICT, "该密钥无需审核或已审核")
		}
		if err := db.differentPerson(ctx, tx, k.CreatedBy, a, "接口密钥须由另一人审核，不能审核本人申请的密钥"); err != nil {
			return err
		}
		var status string
		if err := tx.QueryRow(ctx, "SELECT status FROM institutions WHERE id = $1 FOR SHARE", k.InstitutionID).Scan(&status); err != nil {
			return fmt.Errorf("institution of api key %d: %w", id, err)
		}
		if status != "ACTIVE" {
			return healthcode.Errorf(healthcode.ECONFLICT, "机构未在册或已暂停，不能启用接口密钥")
		}
		if _, err := tx.Exec(ctx, "UPDATE api_keys SET pending = false, approved_by = $2, approved_at = $3 WHERE id = $1",
			id, a.ID, tx.Now); err != nil {
			return fmt.Errorf("approve api key: %w", err)
		}
		k.Pending, k.ApprovedBy, k.ApprovedAt = false, a.Subject(), &tx.Now
		return tx.Audit(ctx, healthcode.AuditRecord{Role: db.roleFor(ctx, a, healthcode.PermAPIKeyManage, at), RegionCode: k.RegionCode,
			Action: "apikey.approve", Object: "apikey:" + strconv.FormatInt(id, 10),
			Detail: map[string]any{"requestedBy": k.CreatedBy, "institution": k.InstitutionID}})
	})
}

// RevokeAPIKey implements healthcode.MachineClientService.
func (s *MachineClientService) RevokeAPIKey(ctx context.Context, id int64) (*healthcode.APIKey, error) {
	db := s.DB
	return s.withAPIKey(ctx, id, func(tx *Tx, a *healthcode.Actor, k *healthcode.APIKey) error {
		if err := db.authorize(ctx, a, healthcode.PermAPIKeyManage, k.RegionCode, hidden("API 密钥不存在")); err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return healthcode.Errorf(healthcode.ECONFLICT, "该密钥已吊销")
		}
		if _, err := tx.Exec(ctx, "UPDATE api_keys SET revoked_at = $2, revoked_by = $3 WHERE id = $1", id, tx.Now, a.ID); err != nil {
			return fmt.Errorf("revoke api key: %w", err)
		}
		k.RevokedAt, k.RevokedBy = &tx.Now, a.Subject()
		return tx.Audit(ctx, healthcode.AuditRecord{Role: db.roleFor(ctx, a, healthcode.PermAPIKeyManage, k.RegionCode),
			RegionCode: k.RegionCode, Action: "apikey.revoke", Object: "apikey:" + strconv.FormatInt(id, 10),
			Detail: map[string]any{"name": k.Name, "kind": k.Kind, "wasPending": k.Pending}})
	})
}

// RecordMedicalEvents implements healthcode.MachineClientService. Each
// accepted record is a medical event entered by the key (actor apikey:<id>)
// with the institution named in its note, and the person's code is
// re-evaluated at once: the key itself was approved by a second person.
func (s *MachineClientService) RecordMedicalEvents(ctx context.Context, records []healthcode.MedicalEventRecord) (*healthcode.MedicalEventPushResult, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if a.Kind != healthcode.ActorMachine || a.InstitutionID == 0 {
		return nil, healthcode.Errorf(healthcode.EFORBIDDEN, "仅限医疗机构的接口密钥上报医学状态")
	}
	db := s.DB
	if err := db.authorize(ctx, a, healthcode.PermMedicalRecord, a.RegionCode); err != nil {
		return nil, err
	}
	if len(records) == 0 || len(records) > healthcode.MaxMedicalEventBatch {
		return nil, healthcode.Errorf(healthcode.EINVALID, "每批应上报 1 至 %d 条记录", healthcode.MaxMedicalEventBatch)
	}
	now := db.now()
	res := &healthcode.MedicalEventPushResult{Records: make([]healthcode.MedicalEventResult, len(records))}
	reject := func(i int, reason, msg string) {
		out := &res.Records[i]
		out.Status, out.Reason, out.Message = healthcode.MedicalRecordRejected, reason, msg
	}
	var valid []int
	seen := map[string]bool{}
	for i := range records {
		r := &records[i]
		res.Records[i].Line, res.Records[i].RecordID = r.Line, r.RecordID
		if err := r.Validate(now); err != nil {
			if healthcode.ErrorCode(err) == healthcode.EINTERNAL {
				return nil, err
			}
			reject(i, healthcode.RejectInvalid, healthcode.ErrorMessage(err))
			continue
		}
		if seen[r.RecordID] {
			reject(i, healthcode.RejectDuplicateInBat, "同一批次中记录编号重复："+r.RecordID)
			continue
		}
		seen[r.RecordID] = true
		valid = append(valid, i)
	}
	err = db.InTx(ctx, func(tx *Tx) error {
		var name, status string
		if err := tx.QueryRow(ctx, "SELECT name, status FROM institutions WHERE id = $1 FOR SHARE", a.InstitutionID).
			Scan(&name, &status); err != nil {
			return fmt.Errorf("institution of api key %d: %w", a.ID, err)
		}
		if status != "ACTIVE" {
			return healthcode.Errorf(healthcode.EFORBIDDEN, "本机构未在册或已暂停，不能上报医学状态")
		}
		ids := make([]string, 0, len(valid))
		for _, i := range valid {
			ids = append(ids, records[i].RecordID)
		}
		slices.Sort(ids)
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int, hashtext($2 || ':' || x))
			FROM unnest($3::text[]) WITH ORDINALITY AS u(x, ord) ORDER BY ord`,
			medicalLockSpace, strconv.FormatInt(a.InstitutionID, 10), ids); err != nil {
			return fmt.Errorf("lock records: %w", err)
		}
		for _, i := range valid {
			if err := s.recordOne(ctx, tx, a, name, &records[i], &res.Records[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, r := range res.Records {
		switch r.Status {
		case healthcode.MedicalRecordAccepted:
			res.Accepted++
		case healthcode.MedicalRecordDuplicate:
			res.Duplicates++
		default:
			res.Rejected++
		}
	}
	return res, nil
}

// recordOne records one checked record of institution (named name) inside tx.
func (s *MachineClientService) recordOne(ctx context.Context, tx *Tx, a *healthcode.Actor, name string, r *healthcode.MedicalEventRecord,
	out *healthcode.MedicalEventResult) error {
	db := s.DB
	rejectHere := func(reason, msg string) {
		out.Status, out.Reason, out.Message = healthcode.MedicalRecordRejected, reason, msg
	}
	canon, err := json.Marshal(struct {
		DocType, DocNumber, Kind, Note string
		At                             time.Time
	}{string(r.DocType), r.DocNumber, r.Kind, r.Note, r.At.UTC()})
	if err != nil {
		return err
	}
	inst := strconv.FormatInt(a.InstitutionID, 10)
	hash := db.PII.Hash("medical-client:"+inst, string(canon))
	var stored []byte
	var eventID, pid int64
	err = tx.QueryRow(ctx, `SELECT content_hash, medical_event_id, person_id FROM medical_client_records
		WHERE institution_id = $1 AND record_id = $2`, a.InstitutionID, r.RecordID).Scan(&stored, &eventID, &pid)
	switch {
	case err == nil && string(stored) == string(hash):
		out.Status, out.EventID = healthcode.MedicalRecordDuplicate, eventID
		return tx.QueryRow(ctx, "SELECT colour FROM codes WHERE person_id = $1", pid).Scan(&out.Colour)
	case err == nil:
		rejectHere(healthcode.RejectRecordIDReused, "记录编号 "+r.RecordID+" 已用于另一条记录；更正请使用新的记录编号")
		return nil
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("look up record: %w", err)
	}
	var residence string
	err = tx.QueryRow(ctx, "SELECT id, residence_code FROM persons WHERE doc_type = $1 AND doc_hash = $2 FOR UPDATE",
		string(r.DocType), db.PII.Hash("doc:"+string(r.DocType), r.DocNumber)).Scan(&pid, &residence)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("look up person: %w", err)
	}
	// Unknown and outside are answered alike: the answer tells a machine
	// client nothing about persons it may not record for.
	outside := "人员未登记或不在本机构所在区县（" + a.RegionCode + "）内"
	if pid == 0 {
		rejectHere(healthcode.RejectOutsideJurisdiction, outside)
		return nil
	}
	if err := db.authorize(ctx, a, healthcode.PermMedicalRecord, residence); healthcode.ErrorCode(err) == healthcode.EFORBIDDEN {
		rejectHere(healthcode.RejectOutsideJurisdiction, outside)
		return nil
	} else if err != nil {
		return err
	}
	note := name + "上报（记录 " + r.RecordID + "）"
	if r.Note != "" {
		note += "：" + r.Note
	}
	eventID, code, err := db.recordMedical(ctx, tx, a, pid, r.Kind, r.At, note, "medical-client:"+inst+":"+r.RecordID)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO medical_client_records (institution_id, record_id, content_hash, person_id,
			medical_event_id, api_key_id, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		a.InstitutionID, r.RecordID, hash, pid, eventID, a.ID, tx.Now); err != nil {
		return fmt.Errorf("store record %s: %w", r.RecordID, err)
	}
	out.Status, out.EventID = healthcode.MedicalRecordAccepted, eventID
	if code != nil {
		out.Colour = code.Colour
	}
	return nil
}
