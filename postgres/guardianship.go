package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/pii"
)

// PrivacyService implements healthcode.PrivacyService.
type PrivacyService struct{ DB *DB }

var _ healthcode.PrivacyService = (*PrivacyService)(nil)

// binding is a person's current binding to a resident account.
type binding struct {
	AccountID int64
	Relation  string
	Basis     string
}

// currentBinding reads (and locks) a person's binding; nil when none.
func currentBinding(ctx context.Context, tx *Tx, pid int64) (*binding, error) {
	var b binding
	err := tx.QueryRow(ctx, "SELECT account_id, relation, basis FROM account_persons WHERE person_id = $1 FOR UPDATE",
		pid).Scan(&b.AccountID, &b.Relation, &b.Basis)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load binding: %w", err)
	}
	return &b, nil
}

// bindPerson binds person pid to a resident account (SELF or DEPENDENT, on
// basis) and records the binding for the person and community staff to
// see, and in the audit log.
func bindPerson(ctx context.Context, tx *Tx, pid, account int64, relation, basis string, role healthcode.Role, region, reason string) error {
	if _, err := tx.Exec(ctx, `INSERT INTO account_persons (person_id, account_id, relation, basis, created_at)
		VALUES ($1, $2, $3, $4, $5)`, pid, account, relation, basis, tx.Now); err != nil {
		return fmt.Errorf("bind person: %w", err)
	}
	return guardianshipEvent(ctx, tx, pid, account, "BIND", basis, role, region, reason)
}

// unbindPerson ends person pid's binding to account, recorded like
// bindPerson.
func unbindPerson(ctx context.Context, tx *Tx, pid, account int64, basis string, role healthcode.Role, region, reason string) error {
	if _, err := tx.Exec(ctx, "DELETE FROM account_persons WHERE person_id = $1 AND account_id = $2", pid, account); err != nil {
		return fmt.Errorf("unbind person: %w", err)
	}
	return guardianshipEvent(ctx, tx, pid, account, "UNBIND", basis, role, region, reason)
}

func guardianshipEvent(ctx context.Context, tx *Tx, pid, account int64, event, basis string, role healthcode.Role, region, reason string) error {
	subj := healthcode.SystemActor.Subject()
	if a := healthcode.ActorFromContext(ctx); a != nil {
		subj = a.Subject()
	}
	if _, err := tx.Exec(ctx, `INSERT INTO guardianship_events (person_id, account_id, event, basis, actor, role, reason, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, pid, account, event, basis, subj, string(role), reason, tx.Now); err != nil {
		return fmt.Errorf("record guardianship: %w", err)
	}
	return tx.Audit(ctx, healthcode.AuditRecord{Role: role, RegionCode: region, Action: "guardianship." + strings.ToLower(event),
		Object: "person:" + strconv.FormatInt(pid, 10), Reason: reason,
		Detail: map[string]any{"account": account, "basis": basis}})
}

// ClaimOwnPerson implements healthcode.PrivacyService.
func (s *PrivacyService) ClaimOwnPerson(ctx context.Context, in healthcode.ClaimInput) (*healthcode.Person, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if a.Kind != healthcode.ActorResident {
		return nil, healthcode.ErrForbidden
	}
	db := s.DB
	now := db.now()
	if err := in.Validate(now); err != nil {
		return nil, err
	}
	doc, name := in.DocNumber, in.Name
	notFound := healthcode.Errorf(healthcode.ENOTFOUND, "未找到与证件号码和姓名相符的登记信息，请核对，或联系所在社区")
	var person *healthcode.Person
	err = db.InTx(ctx, func(tx *Tx) error {
		var pid int64
		var nameEnc []byte
		var region string
		err := tx.QueryRow(ctx, "SELECT id, name_enc, residence_code FROM persons WHERE doc_type = $1 AND doc_hash = $2 FOR UPDATE",
			string(in.DocType), db.PII.Hash("doc:"+string(in.DocType), doc)).Scan(&pid, &nameEnc, &region)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound
		} else if err != nil {
			return fmt.Errorf("look up person: %w", err)
		}
		if stored, err := db.PII.Decrypt(nameEnc); err != nil {
			return fmt.Errorf("decrypt name: %w", err)
		} else if stored != name {
			return notFound
		}
		b, err := currentBinding(ctx, tx, pid)
		if err != nil {
			return err
		}
		if (b == nil || b.AccountID != a.ID || b.Relation != "SELF") &&
			db.guardianship().DependentBasis(in.DocType, doc, now) == healthcode.GuardianBasisChild {
			return healthcode.Errorf(healthcode.EFORBIDDEN, "未满 %d 周岁的儿童由监护人申领；如需变更监护人请联系所在社区", db.guardianship().ChildUnder)
		}
		if b != nil && b.Relation == "SELF" && b.AccountID != a.ID {
			return healthcode.Errorf(healthcode.ECONFLICT, "该证件已由其他手机号作为本人申领，请持身份证件到所在社区核实")
		}
		if b == nil || b.Relation != "SELF" {
			var hasSelf bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM account_persons WHERE account_id = $1 AND relation = 'SELF')",
				a.ID).Scan(&hasSelf); err != nil {
				return fmt.Errorf("look up own person: %w", err)
			}
			if hasSelf {
				return healthcode.Errorf(healthcode.ECONFLICT, "本账号已申领本人健康码，一个手机号只能申领一人的本人健康码")
			}
			if b != nil {
				if err := unbindPerson(ctx, tx, pid, b.AccountID, healthcode.UnbindClaimed, "", region, "本人找回健康码"); err != nil {
					return err
				}
			}
			if err := bindPerson(ctx, tx, pid, a.ID, "SELF", "SELF", "", region, "本人找回健康码"); err != nil {
				return err
			}
			// The holder's verified phone becomes the phone on record.
			if _, err := tx.Exec(ctx, `UPDATE persons p SET phone_hash = ra.phone_hash, phone_enc = ra.phone_enc,
				updated_at = $3 FROM resident_accounts ra WHERE p.id = $1 AND ra.id = $2`, pid, a.ID, tx.Now); err != nil {
				return fmt.Errorf("update phone: %w", err)
			}
			var phoneEnc []byte
			if err := tx.QueryRow(ctx, "SELECT phone_enc FROM persons WHERE id = $1", pid).Scan(&phoneEnc); err != nil {
				return fmt.Errorf("read phone: %w", err)
			}
			phone, err := db.PII.Decrypt(phoneEnc)
			if err != nil {
				return fmt.Errorf("decrypt phone: %w", err)
			}
			if _, err := tx.Exec(ctx, "UPDATE persons SET phone_masked = $2 WHERE id = $1", pid, pii.MaskPhone(phone)); err != nil {
				return fmt.Errorf("update phone: %w", err)
			}
		}
		person, err = db.ownPersonView(ctx, tx, pid)
		return err
	})
	return person, err
}

// ownPersonView reads a person unmasked, as their own account sees them.
func (db *DB) ownPersonView(ctx context.Context, q rowQuerier, pid int64) (*healthcode.Person, error) {
	var p healthcode.Person
	var docType string
	var doc, name, phone, addr []byte
	err := q.QueryRow(ctx, `SELECT p.id, p.doc_type, p.doc_enc, p.name_enc, p.phone_enc, p.residence_code, p.address_enc,
		p.employer, COALESCE(ap.relation, ''), p.created_at
		FROM persons p LEFT JOIN account_persons ap ON ap.person_id = p.id WHERE p.id = $1`, pid).
		Scan(&p.ID, &docType, &doc, &name, &phone, &p.ResidenceCode, &addr, &p.Employer, &p.Relation, &p.CreatedAt)
	if err != nil {
		return nil, mapError(err, "人员不存在")
	}
	p.DocType = healthcode.DocType(docType)
	return &p, db.decryptAll(map[*string][]byte{&p.DocNumber: doc, &p.Name: name, &p.Phone: phone, &p.Address: addr})
}

// communityPerson checks that the caller (staff) holds person.declare at
// person pid's residence and returns the residence.
func (s *PrivacyService) communityPerson(ctx context.Context, tx *Tx, a *healthcode.Actor, pid int64) (string, error) {
	var region string
	if err := tx.QueryRow(ctx, "SELECT residence_code FROM persons WHERE id = $1 FOR UPDATE", pid).Scan(&region); err != nil {
		return "", mapError(err, "人员不存在")
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermPersonDeclare, region,
		seenWith("人员不存在", healthcode.PermPersonRead)); err != nil {
		return "", err
	}
	return region, nil
}

// BindGuardian implements healthcode.PrivacyService.
func (s *PrivacyService) BindGuardian(ctx context.Context, pid int64, in healthcode.GuardianBinding) (*healthcode.GuardianshipEvent, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	guardianPhone, reason := in.GuardianPhone, in.Reason
	var ev *healthcode.GuardianshipEvent
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		region, err := s.communityPerson(ctx, tx, a, pid)
		if err != nil {
			return err
		}
		var account int64
		if err := tx.QueryRow(ctx, "SELECT id FROM resident_accounts WHERE phone_hash = $1",
			s.DB.PII.Hash("phone", guardianPhone)).Scan(&account); errors.Is(err, pgx.ErrNoRows) {
			return healthcode.Errorf(healthcode.ENOTFOUND, "该手机号尚未登录过健康码平台，请监护人先用该手机号登录一次")
		} else if err != nil {
			return fmt.Errorf("look up guardian: %w", err)
		}
		b, err := currentBinding(ctx, tx, pid)
		if err != nil {
			return err
		}
		role := s.DB.roleFor(ctx, a, healthcode.PermPersonDeclare, region)
		if b != nil {
			if b.Relation == "SELF" {
				return healthcode.Errorf(healthcode.ECONFLICT, "该人员已用本人手机申领健康码，不能绑定监护人；如申领人并非本人，请先解除其绑定")
			}
			if err := unbindPerson(ctx, tx, pid, b.AccountID, healthcode.UnbindCommunity, role, region, reason); err != nil {
				return err
			}
		}
		if err := bindPerson(ctx, tx, pid, account, "DEPENDENT", healthcode.GuardianBasisCommunity, role, region, reason); err != nil {
			return err
		}
		evs, err := s.DB.guardianships(ctx, tx, pid)
		if err != nil {
			return err
		}
		ev = evs[len(evs)-1]
		return nil
	})
	return ev, err
}

// UnbindGuardian implements healthcode.PrivacyService.
func (s *PrivacyService) UnbindGuardian(ctx context.Context, pid int64, in healthcode.GuardianUnbinding) (*healthcode.GuardianshipEvent, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	reason := in.Reason
	var ev *healthcode.GuardianshipEvent
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		region, err := s.communityPerson(ctx, tx, a, pid)
		if err != nil {
			return err
		}
		b, err := currentBinding(ctx, tx, pid)
		if err != nil {
			return err
		}
		if b == nil {
			return healthcode.Errorf(healthcode.ENOTFOUND, "该人员没有绑定的账号")
		}
		role := s.DB.roleFor(ctx, a, healthcode.PermPersonDeclare, region)
		if err := unbindPerson(ctx, tx, pid, b.AccountID, healthcode.UnbindCommunity, role, region, reason); err != nil {
			return err
		}
		evs, err := s.DB.guardianships(ctx, tx, pid)
		if err != nil {
			return err
		}
		ev = evs[len(evs)-1]
		return nil
	})
	return ev, err
}

// Guardianships implements healthcode.PrivacyService.
func (s *PrivacyService) Guardianships(ctx context.Context, personID int64) ([]*healthcode.GuardianshipEvent, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	pid, err := s.DB.readablePerson(ctx, a, personID, healthcode.AccessGuardianships)
	if err != nil {
		return nil, err
	}
	return s.DB.guardianships(ctx, s.DB.Pool, pid)
}

func (db *DB) guardianships(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, pid int64) ([]*healthcode.GuardianshipEvent, error) {
	rows, err := q.Query(ctx, `SELECT g.id, g.person_id, g.event, g.basis, ra.phone_enc, g.actor, g.role, g.reason, g.at
		FROM guardianship_events g JOIN resident_accounts ra ON ra.id = g.account_id WHERE g.person_id = $1 ORDER BY g.id`, pid)
	if err != nil {
		return nil, fmt.Errorf("list guardianships: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.GuardianshipEvent, error) {
		var e healthcode.GuardianshipEvent
		var phone []byte
		var role string
		if err := r.Scan(&e.ID, &e.PersonID, &e.Event, &e.Basis, &phone, &e.Actor, &role, &e.Reason, &e.At); err != nil {
			return nil, err
		}
		e.ByRole = healthcode.Role(role)
		p, err := db.PII.Decrypt(phone)
		if err != nil {
			return nil, fmt.Errorf("decrypt guardian phone: %w", err)
		}
		e.Guardian = pii.MaskPhone(p)
		return &e, nil
	})
}
