package healthcode

import (
	"context"
	"strings"
	"time"
)

// PrivacyService carries a person's rights over their data (PIPL, GB/T
// 35273-2020, the notice's 四(五) 确保数据安全) and verified guardianship
// (docs/privacy.md).
type PrivacyService interface {
	// ClaimOwnPerson lets the holder of a document take their own code back:
	// a resident account whose verified phone is its own names the document
	// and the name on record; the person becomes the account's own (SELF)
	// and the guardian's binding, if any, ends. Persons younger than
	// GuardianshipPolicy.ChildUnder are claimed only through community
	// staff. Audited. Who may call it: residents. Errors: UNAUTHENTICATED,
	// FORBIDDEN (staff; a child), INVALID (document), NOT_FOUND (no such
	// person, or the name does not match — the same answer, so that
	// documents cannot be probed), CONFLICT (the account already holds
	// another person as its own).
	ClaimOwnPerson(ctx context.Context, in ClaimInput) (*Person, error)
	// BindGuardian binds a person of the caller's community to the resident
	// account with in.GuardianPhone as its guardian (社区确认的监护关系), ending
	// any other guardian's binding; the person may be an adult who cannot
	// use a phone. Audited, with the reason. Who may call it: staff with
	// person.declare at the person's residence. Errors: UNAUTHENTICATED,
	// INVALID (in.Validate: phone, empty reason), FORBIDDEN, NOT_FOUND
	// (person, or no account with that phone), CONFLICT (the person holds
	// their own code).
	BindGuardian(ctx context.Context, personID int64, in GuardianBinding) (*GuardianshipEvent, error)
	// UnbindGuardian ends a person's guardian binding. Audited, with the
	// reason. Who may call it: staff with person.declare at the person's
	// residence. Errors: UNAUTHENTICATED, INVALID (in.Validate: empty
	// reason), FORBIDDEN, NOT_FOUND (person, or no guardian binding).
	UnbindGuardian(ctx context.Context, personID int64, in GuardianUnbinding) (*GuardianshipEvent, error)
	// Guardianships returns every binding and unbinding of a person, oldest
	// first. Who may call it: the resident for their own person or a
	// dependent (personID 0: their own); staff with person.read at the
	// residence (an audited read). Errors: UNAUTHENTICATED, NOT_FOUND.
	Guardianships(ctx context.Context, personID int64) ([]*GuardianshipEvent, error)
	// MyAccessLog returns the reads by staff of the resident's own person's
	// (or a dependent's) personal data, newest first. Who may call it:
	// residents. Errors: UNAUTHENTICATED, NOT_FOUND.
	MyAccessLog(ctx context.Context, f AccessFilter) ([]*AccessRecord, bool, error)
	// MyData returns everything the platform holds about the resident's own
	// person (personID 0) or a dependent's, unmasked, as a JSON-ready map;
	// the export is audited. Who may call it: residents. Errors:
	// UNAUTHENTICATED, NOT_FOUND.
	MyData(ctx context.Context, personID int64) (map[string]any, error)
}

// AccessRecord is one read of a person's personal data by staff, as the
// person sees it: no staff names, the role and unit instead.
type AccessRecord struct {
	ID       int64
	PersonID int64
	At       time.Time
	What     string // PERSON, FACTS, CODE_HISTORY, GUARDIANSHIPS, APPEAL, UNMASKED
	Role     string // the role's Chinese label
	Unit     string // handling unit, institution or region name
	Purpose  string
}

// What a read in the access log read.
const (
	AccessPerson        = "PERSON"
	AccessFacts         = "FACTS"
	AccessCodeHistory   = "CODE_HISTORY"
	AccessGuardianships = "GUARDIANSHIPS"
	AccessAppeal        = "APPEAL"
	AccessUnmasked      = "UNMASKED"
)

// NoPurpose is the purpose recorded for a read that gave none.
const NoPurpose = "未说明用途"

type purposeKey struct{}

// WithPurpose returns ctx carrying the purpose a caller gave for reading
// personal data (the GraphQL purpose argument); the services record it in
// the access log. Any caller; no error.
func WithPurpose(ctx context.Context, purpose string) context.Context {
	return context.WithValue(ctx, purposeKey{}, strings.TrimSpace(purpose))
}

// PurposeFromContext returns the purpose of ctx, "" when none. Any caller;
// no error.
func PurposeFromContext(ctx context.Context) string {
	p, _ := ctx.Value(purposeKey{}).(string)
	return p
}

// ReviewSubject is the subject of a code appeal that asks for a human review
// of the automated colour (个人信息保护法第二十四条).
const ReviewSubject = "申请人工复核自动评定的健康码（个人信息保护法第二十四条）"

// AccessFilter pages a person's access log, newest first.
type AccessFilter struct {
	PersonID int64 // 0: the resident's own person
	First    int
	After    int64 // keyset cursor: records with a smaller id
}
