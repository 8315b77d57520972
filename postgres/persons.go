package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/pii"
)

const maskedPersonColumns = `p.id, p.doc_type, p.doc_masked, p.name_masked, p.phone_masked, p.residence_code, p.employer_masked,
	p.created_at, COALESCE(ra.phone_enc, ''::bytea)`

const personJoins = ` FROM persons p LEFT JOIN account_persons ap ON ap.person_id = p.id AND ap.relation = 'DEPENDENT'
	LEFT JOIN resident_accounts ra ON ra.id = ap.account_id`

func (db *DB) scanMaskedPerson(row pgx.Row) (*healthcode.Person, error) {
	var p healthcode.Person
	var docType string
	var guardian []byte
	if err := row.Scan(&p.ID, &docType, &p.DocNumber, &p.Name, &p.Phone, &p.ResidenceCode, &p.Employer, &p.CreatedAt, &guardian); err != nil {
		return nil, err
	}
	p.DocType = healthcode.DocType(docType)
	if len(guardian) > 0 {
		phone, err := db.PII.Decrypt(guardian)
		if err != nil {
			return nil, fmt.Errorf("decrypt guardian phone: %w", err)
		}
		p.GuardedBy = pii.MaskPhone(phone)
	}
	return &p, nil
}

// FindPerson implements healthcode.CodeService.
func (s *CodeService) FindPerson(ctx context.Context, pid int64) (*healthcode.Person, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	region, err := s.DB.authorizeOnPerson(ctx, s.DB.Pool, a, healthcode.PermPersonRead, pid)
	if err != nil {
		return nil, err
	}
	if err := s.DB.logAccess(ctx, s.DB.Pool, []int64{pid}, healthcode.AccessPerson, healthcode.PermPersonRead, region, ""); err != nil {
		return nil, err
	}
	p, err := s.DB.scanMaskedPerson(s.DB.Pool.QueryRow(ctx, "SELECT "+maskedPersonColumns+personJoins+" WHERE p.id = $1", pid))
	if err != nil {
		return nil, mapError(err, "人员不存在")
	}
	return p, nil
}

// ListPersons implements healthcode.CodeService.
func (s *CodeService) ListPersons(ctx context.Context, f healthcode.PersonFilter) ([]*healthcode.Person, bool, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, false, err
	}
	visible, err := s.DB.scope(ctx, a, healthcode.PermPersonRead, f.RegionCode)
	if err != nil {
		return nil, false, err
	}
	rows, err := s.DB.Pool.Query(ctx, "SELECT "+maskedPersonColumns+personJoins+`
		WHERE in_regions(p.residence_path, $1) AND p.id > $2 ORDER BY p.id LIMIT $3`,
		ltreePaths(visible), f.After, f.First+1)
	if err != nil {
		return nil, false, fmt.Errorf("list persons: %w", err)
	}
	return collectPage(rows, f.First, "persons", func(row pgx.CollectableRow) (*healthcode.Person, error) { return s.DB.scanMaskedPerson(row) })
}

// CodeOf implements healthcode.CodeService.
func (s *CodeService) CodeOf(ctx context.Context, pid int64) (*healthcode.Code, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.DB.authorizeOnPerson(ctx, s.DB.Pool, a, healthcode.PermPersonRead, pid); err != nil {
		return nil, err
	}
	return s.DB.currentCode(ctx, pid)
}

// auditUnmaskedRead records that personal data of persons was shown
// unmasked, and to whom and why.
func auditUnmaskedRead(ctx context.Context, tx *Tx, pids []int64, region, reason string) error {
	for _, pid := range pids {
		if err := tx.Audit(ctx, healthcode.AuditRecord{RegionCode: region, Action: "person.read_unmasked",
			Object: "person:" + strconv.FormatInt(pid, 10), Reason: reason}); err != nil {
			return err
		}
	}
	return nil
}

// CodeHolder is a person with what their electronic credential says.
type CodeHolder struct {
	PersonID      int64
	CodeID        string
	MaskedName    string
	Colour        healthcode.Colour
	ResidenceCode string
}

// CodeHolders returns the persons with a code registered by now (the DB's
// clock) inside the caller's person.read regions, by id, with the code id
// and colour their tokens carry. The demo province's scanners sign tokens
// for them with the platform's key ring; it is not part of
// healthcode.CodeService. Errors: UNAUTHENTICATED, FORBIDDEN.
func (s *CodeService) CodeHolders(ctx context.Context) ([]CodeHolder, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	visible, err := s.DB.scope(ctx, a, healthcode.PermPersonRead, "")
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT p.id, p.code_id, p.name_masked, c.colour, p.residence_code
		FROM persons p JOIN codes c ON c.person_id = p.id
		WHERE in_regions(p.residence_path, $1) AND p.created_at <= $2 ORDER BY p.id`, ltreePaths(visible), s.DB.now())
	if err != nil {
		return nil, fmt.Errorf("load code holders: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[CodeHolder])
	if err != nil {
		return nil, fmt.Errorf("load code holders: %w", err)
	}
	return list, nil
}

// encryptOptional seals an optional personal field: nil for an empty one.
func (db *DB) encryptOptional(v string) []byte {
	if v == "" {
		return nil
	}
	return db.PII.Encrypt(v)
}

// EncryptEmployers moves the employers stored in clear before migration
// 000029 into the encrypted column, in batches of 1,000 rows locked with
// SKIP LOCKED (several processes starting at once share the work), each
// batch audited as person.employer.encrypt. It returns how many rows it
// encrypted; 0 once done, which costs one index lookup. Only the binary at
// start-up (and tests) call it. Errors: storage errors.
func (db *DB) EncryptEmployers(ctx context.Context) (int, error) {
	total := 0
	for {
		n := 0
		err := db.InTx(ctx, func(tx *Tx) error {
			rows, err := tx.Query(ctx, `SELECT id, employer FROM persons WHERE employer <> '' ORDER BY id
				LIMIT 1000 FOR UPDATE SKIP LOCKED`)
			if err != nil {
				return fmt.Errorf("read clear employers: %w", err)
			}
			type row struct {
				id       int64
				employer string
			}
			list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
				var x row
				return x, r.Scan(&x.id, &x.employer)
			})
			if err != nil || len(list) == 0 {
				return err
			}
			ids, enc, masked := make([]int64, len(list)), make([][]byte, len(list)), make([]string, len(list))
			for i, x := range list {
				ids[i], enc[i], masked[i] = x.id, db.PII.Encrypt(x.employer), pii.MaskText(x.employer)
			}
			if _, err := tx.Exec(ctx, `UPDATE persons p SET employer = '', employer_enc = u.enc, employer_masked = u.masked
				FROM unnest($1::bigint[], $2::bytea[], $3::text[]) AS u(id, enc, masked) WHERE p.id = u.id`,
				ids, enc, masked); err != nil {
				return fmt.Errorf("encrypt employers: %w", err)
			}
			n = len(list)
			return tx.Audit(ctx, healthcode.AuditRecord{RegionCode: "61", Action: "person.employer.encrypt", Object: "persons",
				Detail: map[string]any{"rows": n, "first": ids[0], "last": ids[n-1]}})
		})
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}
