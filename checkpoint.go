package healthcode

import (
	"context"
	"strings"
	"time"
)

// Statuses of institutions and venues. Only active ones record scans. A
// self-registered institution is PENDING until an administrator of its
// county approves it (ACTIVE) or rejects it (REJECTED).
const (
	StatusActive    = "ACTIVE"
	StatusSuspended = "SUSPENDED"
	StatusPending   = "PENDING"
	StatusRejected  = "REJECTED"
)

// Venue (checkpoint) types of SPEC §4, after Annex 1 五 of the notice.
const (
	VenueTrafficCheckpoint   = "TRAFFIC_CHECKPOINT"
	VenueAirport             = "AIRPORT"
	VenueRailwayStation      = "RAILWAY_STATION"
	VenueBusStation          = "BUS_STATION"
	VenueMetroStation        = "METRO_STATION"
	VenueEntrance            = "ENTRANCE"
	VenueResidentialEntrance = "RESIDENTIAL_ENTRANCE"
	VenueIndoorPublic        = "INDOOR_PUBLIC"
	VenueMedical             = "MEDICAL"
	VenueOther               = "OTHER"
)

// VenueTypes lists every venue type in the order of the notice.
var VenueTypes = []string{
	VenueTrafficCheckpoint, VenueAirport, VenueRailwayStation, VenueBusStation, VenueMetroStation,
	VenueEntrance, VenueResidentialEntrance, VenueIndoorPublic, VenueMedical, VenueOther,
}

// ValidVenueType reports whether t is one of VenueTypes. Any caller may use it.
func ValidVenueType(t string) bool {
	for _, v := range VenueTypes {
		if v == t {
			return true
		}
	}
	return false
}

// VenueTypeLabel is the Chinese name of a venue type for the user interface
// (the type itself when unknown). Any caller may use it.
func VenueTypeLabel(t string) string {
	switch t {
	case VenueTrafficCheckpoint:
		return "交通检疫点"
	case VenueAirport:
		return "机场"
	case VenueRailwayStation:
		return "火车站"
	case VenueBusStation:
		return "长途客车站"
	case VenueMetroStation:
		return "地铁（轻轨）车站"
	case VenueEntrance:
		return "机关企事业单位入口"
	case VenueResidentialEntrance:
		return "小区入口"
	case VenueIndoorPublic:
		return "商场、超市、图书馆等室内公共场所"
	case VenueMedical:
		return "医疗机构"
	case VenueOther:
		return "其他"
	}
	return t
}

// DefaultResponseLevel is the province's emergency response level when none
// has been recorded: the notice was issued under the provincial level-3
// response (省级三级响应).
const DefaultResponseLevel = 3

// RequiredCheckpointTypes returns the venue types that must check codes at a
// provincial response level. Annex 1 五 lists, for level 3, traffic
// checkpoints, airports, railway and long-distance bus stations, metro
// stations, entrances of offices, enterprises and residential compounds,
// indoor public places, medical institutions and "other places that need
// checking": that is every type. Levels 1 and 2 are stricter responses and
// check at least as much, so they also require every type. Level 0 (no
// response in force) requires none. Any other level gives nil. Any caller may
// use it; it never fails.
func RequiredCheckpointTypes(level int) []string {
	switch level {
	case 1, 2, 3:
		return append([]string(nil), VenueTypes...)
	case 0:
		return []string{}
	}
	return nil
}

// creditCodeChars is the character set of the unified social credit code
// (GB 32100-2015): digits and upper-case letters without I, O, S, V and Z.
// A character's value is its index.
const creditCodeChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var creditCodeWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// CreditCodeCheck returns the check character (the 18th) of a unified social
// credit code whose first 17 characters are body, and false when body is not
// 17 characters of the code's character set. Any caller may use it.
func CreditCodeCheck(body string) (byte, bool) {
	if len(body) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(creditCodeChars, body[i])
		if v < 0 {
			return 0, false
		}
		sum += v * creditCodeWeights[i]
	}
	return creditCodeChars[(31-sum%31)%31], true
}

// NormalizeCreditCode trims and upper-cases a unified social credit code and
// reports whether it is valid: 18 characters of the GB 32100 character set
// whose last is the check character. Any caller may use it.
func NormalizeCreditCode(code string) (string, bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if len(code) != 18 {
		return code, false
	}
	c, ok := CreditCodeCheck(code[:17])
	return code, ok && c == code[17]
}

// Institution is an organisation registered to check codes (机构注册登记):
// an enterprise, an office, a property manager, a hospital.
type Institution struct {
	ID           int64
	Name         string
	CreditCode   string // 统一社会信用代码
	RegionCode   string // county level or below
	ContactName  string
	ContactPhone string // masked: 138****1234
	Status       string // PENDING, ACTIVE, SUSPENDED or REJECTED
	// Kind is VENUE (an organisation that checks codes) or a medical
	// institution: HOSPITAL, CDC or CLINIC, which may hold a machine client
	// key recording medical events (docs/exchange.md).
	Kind string
	// SuspendReason is set for a suspended institution.
	SuspendReason string
	// ReviewReason is the reason given when a pending institution was
	// rejected; ReviewedBy the subject of the administrator who approved or
	// rejected it ("" while pending or when registered by an administrator).
	ReviewReason string
	ReviewedBy   string
	CreatedBy    string // the registering actor's subject ("system" for self-registration)
	CreatedAt    time.Time
}

// NewInstitution is the input of RegisterInstitution: the institution and
// its first administrator account.
type NewInstitution struct {
	Name             string
	CreditCode       string
	RegionCode       string
	ContactName      string
	ContactPhone     string
	AdminUsername    string
	AdminDisplayName string
	AdminPassword    string
	// Kind is VENUE (default when "") or HOSPITAL, CDC, CLINIC.
	Kind string
}

// Institution kinds.
const (
	InstitutionVenue    = "VENUE"
	InstitutionHospital = "HOSPITAL"
	InstitutionCDC      = "CDC"
	InstitutionClinic   = "CLINIC"
)

// MedicalInstitution reports whether kind is a medical institution's.
func MedicalInstitution(kind string) bool {
	return kind == InstitutionHospital || kind == InstitutionCDC || kind == InstitutionClinic
}

// Registration is the result of RegisterInstitution.
type Registration struct {
	Institution *Institution
	Admin       *Staff
}

// Venue is a place where an institution's inspectors check codes (查验场所).
type Venue struct {
	ID            int64
	InstitutionID int64
	Name          string
	Type          string // one of VenueTypes
	RegionCode    string
	Status        string // ACTIVE or SUSPENDED
	CreatedBy     string
	CreatedAt     time.Time
}

// NewVenue is the input of CreateVenue.
type NewVenue struct {
	Name       string
	Type       string
	RegionCode string
}

// Institution member roles (institution_members.role).
const (
	MemberInstitutionAdmin = string(RoleInstitutionAdmin)
	MemberInspector        = string(RoleInspector)
)

// ResponseLevel is one entry of the history of the province's emergency
// response level.
type ResponseLevel struct {
	ID        int64
	Level     int // 0 (none) to 3; 1 is the strictest
	From      time.Time
	Reason    string
	Actor     string
	CreatedAt time.Time
}

// CheckpointTypeCoverage says, for one required venue type, how many ACTIVE
// venues of active institutions are registered in a region: the supervision
// indicator "checkpoint types registered against those required".
type CheckpointTypeCoverage struct {
	Type         string
	Label        string
	ActiveVenues int
}

// TrustedIssuerEntry is an entry of the trust list (互信互认): another issuer
// whose tokens are accepted, with the ids of its keys and its validity.
type TrustedIssuerEntry struct {
	ID         int64
	IssuerID   string
	Name       string
	KeyIDs     []string
	ValidFrom  *time.Time
	ValidUntil *time.Time
	CreatedBy  string
	CreatedAt  time.Time
	RetiredAt  *time.Time
}

// NewTrustedIssuer is the input of AddTrustedIssuer.
type NewTrustedIssuer struct {
	IssuerID string
	Name     string // defaults to the name in the key set document
	// KeysJSON is a keys.json document published by the issuer; only the
	// entry and keys of IssuerID are kept (trust is not transitive).
	KeysJSON []byte
	// ValidFrom and ValidUntil bound the trust; nil takes the document's
	// window for the issuer (nil there: unbounded).
	ValidFrom  *time.Time
	ValidUntil *time.Time
}

// CheckpointService manages institutions, venues and inspectors, the
// province's emergency response level and the trust list (SPEC §4).
type CheckpointService interface {
	// RegisterInstitution registers an institution and its first
	// administrator account (机构注册登记). Anonymous callers (self-service)
	// and staff may call it. The institution is PENDING — its administrator
	// may log in but adds no venues or inspectors and records no scans —
	// until an administrator of its county approves it; it is ACTIVE at once
	// when the caller is such an administrator (or the system). Errors:
	// FORBIDDEN (residents, machines), INVALID (credit code, region, phone,
	// username, password, names), CONFLICT (credit code registered, username
	// taken).
	RegisterInstitution(ctx context.Context, in NewInstitution) (*Registration, error)
	// ApproveInstitution makes a PENDING institution ACTIVE — six-level
	// administrators (ADMIN with institution.manage) of a region containing
	// it; audited. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT
	// (not pending).
	ApproveInstitution(ctx context.Context, id int64) (*Institution, error)
	// RejectInstitution makes a PENDING institution REJECTED with a reason —
	// the callers of ApproveInstitution; audited. Errors: UNAUTHENTICATED,
	// FORBIDDEN, NOT_FOUND, INVALID (reason), CONFLICT (not pending).
	RejectInstitution(ctx context.Context, id int64, reason string) (*Institution, error)
	// CreateVenue adds a venue to an institution — its own institution
	// administrators only. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND,
	// INVALID (name, type, region), CONFLICT (institution suspended).
	CreateVenue(ctx context.Context, institutionID int64, in NewVenue) (*Venue, error)
	// CreateInspector creates an inspector (防疫员) account of an institution
	// — its own institution administrators only. Errors: UNAUTHENTICATED,
	// FORBIDDEN, NOT_FOUND, INVALID, CONFLICT (username taken, institution
	// suspended).
	CreateInspector(ctx context.Context, institutionID int64, username, displayName, password string) (*Staff, error)
	// RemoveInspector revokes an inspector's grants and membership and
	// disables the account — its own institution administrators only.
	// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
	RemoveInspector(ctx context.Context, institutionID, staffID int64) error
	// SuspendInstitution suspends an institution — six-level administrators
	// of a region containing it. Errors: UNAUTHENTICATED, FORBIDDEN,
	// NOT_FOUND, INVALID (reason), CONFLICT (already suspended).
	SuspendInstitution(ctx context.Context, id int64, reason string) (*Institution, error)
	// SuspendVenue suspends a venue — six-level administrators of a region
	// containing it. Errors: as SuspendInstitution.
	SuspendVenue(ctx context.Context, id int64, reason string) (*Venue, error)
	// Institutions lists institutions (inside region when not ""): six-level
	// administrators see those inside their grants, institution members only
	// their own. Errors: UNAUTHENTICATED, FORBIDDEN, INVALID (region).
	Institutions(ctx context.Context, region string) ([]*Institution, error)
	// Venues lists venues with the scoping of Institutions, of one
	// institution when institutionID is not 0. Errors: UNAUTHENTICATED,
	// FORBIDDEN, INVALID (region).
	Venues(ctx context.Context, institutionID int64, region string) ([]*Venue, error)
	// Inspectors lists an institution's inspectors — its administrators and
	// six-level administrators above it. Errors: UNAUTHENTICATED, FORBIDDEN,
	// NOT_FOUND.
	Inspectors(ctx context.Context, institutionID int64) ([]*Staff, error)
	// InstitutionOf returns the institution a staff account belongs to and
	// its member role — the account itself, the system, or six-level
	// administrators above the institution. Errors: UNAUTHENTICATED,
	// NOT_FOUND (not a member, or not visible).
	InstitutionOf(ctx context.Context, staffID int64) (*Institution, string, error)
	// SetResponseLevel records a new provincial response level (0..3) —
	// province administrators (response_level.write at 61). Errors:
	// UNAUTHENTICATED, FORBIDDEN, INVALID.
	SetResponseLevel(ctx context.Context, level int, reason string) (*ResponseLevel, error)
	// ResponseLevels returns the history, newest first — any logged-in
	// caller. Errors: UNAUTHENTICATED.
	ResponseLevels(ctx context.Context) ([]*ResponseLevel, error)
	// CurrentResponseLevel returns the level in force (DefaultResponseLevel
	// when none was recorded) — any caller, anonymous included.
	// Errors: INTERNAL only.
	CurrentResponseLevel(ctx context.Context) (int, error)
	// RegisteredTypes returns, for each type required at the current level,
	// the number of active venues inside region — callers with
	// institution.read (six-level administrators) or indicator.read there.
	// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID (region).
	RegisteredTypes(ctx context.Context, region string) ([]*CheckpointTypeCoverage, error)
	// AddTrustedIssuer adds an issuer to the trust list — province
	// administrators (trust.manage at 61). Errors: UNAUTHENTICATED,
	// FORBIDDEN, INVALID (issuer id, document, window), CONFLICT (already
	// trusted).
	AddTrustedIssuer(ctx context.Context, in NewTrustedIssuer) (*TrustedIssuerEntry, error)
	// RetireTrustedIssuer ends the trust in an entry — province
	// administrators. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND,
	// CONFLICT (already retired).
	RetireTrustedIssuer(ctx context.Context, id int64) error
	// TrustList lists the entries not retired — any staff. Errors:
	// UNAUTHENTICATED, FORBIDDEN.
	TrustList(ctx context.Context) ([]*TrustedIssuerEntry, error)
}

// Validate normalises the registration in place (names and phone trimmed,
// the credit code upper-cased, the administrator's username lower-cased)
// and checks the institution's name, unified social credit code, region
// (a county or below), contact and administrator account, in that order.
// CheckpointService.RegisterInstitution calls it; any caller may.
// Errors: INVALID naming the field.
func (in *NewInstitution) Validate() error {
	var err error
	if in.Name, err = ValidText("机构名称", in.Name, 1, 100); err != nil {
		return err
	}
	code, ok := NormalizeCreditCode(in.CreditCode)
	if !ok {
		return FieldError("统一社会信用代码", "应为 18 位（数字或大写字母，不含 I、O、S、V、Z），且校验位正确")
	}
	in.CreditCode = code
	if lv, ok := LevelOfCode(in.RegionCode); !ok || lv == LevelProvince || lv == LevelCity {
		return FieldError("所在地区", "应为陕西省内区县及以下的地区代码")
	}
	if in.ContactName, err = ValidText("联系人", in.ContactName, 1, 50); err != nil {
		return err
	}
	in.ContactPhone = strings.TrimSpace(in.ContactPhone)
	if !ValidPhone(in.ContactPhone) {
		return FieldError("联系电话", "应为 11 位手机号码")
	}
	if in.Kind == "" {
		in.Kind = InstitutionVenue
	}
	if in.Kind != InstitutionVenue && !MedicalInstitution(in.Kind) {
		return FieldError("机构类型", "应为 VENUE、HOSPITAL、CDC 或 CLINIC")
	}
	admin, err := ValidateNewAccount(in.AdminUsername, in.AdminDisplayName, in.AdminPassword)
	in.AdminUsername, in.AdminDisplayName = admin.Username, admin.DisplayName
	return err
}
