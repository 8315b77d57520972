package healthcode

import (
	"strings"
	"time"
	"unicode/utf8"
)

// GuardianshipPolicy says for whom a resident account may declare as a
// guardian (监护人代为申领) without the community's confirmation: the notice's
// 老幼人群, by the birth date of a resident ID number. Anyone else (adults of
// working age, and persons identified by other documents, whose age the
// platform cannot read) is bound to a guardian only by community staff.
type GuardianshipPolicy struct {
	ChildUnder int // a child: younger than this many years (default 14)
	ElderFrom  int // an elder: this many years old or older (default 65)
}

// DefaultGuardianship is the policy of the notice: children under 14 and
// elders of 65 and over.
var DefaultGuardianship = GuardianshipPolicy{ChildUnder: 14, ElderFrom: 65}

// Bases of a guardian binding (GuardianshipEvent.Basis for BIND).
const (
	GuardianBasisChild     = "CHILD"     // a child by the ID number
	GuardianBasisElder     = "ELDER"     // an elder by the ID number
	GuardianBasisCommunity = "COMMUNITY" // confirmed by community staff
	GuardianBasisLegacy    = "LEGACY"    // bound before bindings were checked
)

// Bases of an unbinding (GuardianshipEvent.Basis for UNBIND).
const (
	UnbindClaimed   = "CLAIMED"   // the holder took their code back
	UnbindCommunity = "COMMUNITY" // ended by community staff
)

// DependentBasis returns the basis on which a guardian may declare for the
// holder of the document at now without the community (CHILD or ELDER), or
// "" when the community must confirm the binding. Any caller; no error.
func (p GuardianshipPolicy) DependentBasis(t DocType, number string, now time.Time) string {
	birth, ok := BirthDate(t, number)
	if !ok {
		return ""
	}
	age := AgeAt(birth, now)
	switch {
	case p.ChildUnder > 0 && age < p.ChildUnder:
		return GuardianBasisChild
	case p.ElderFrom > 0 && age >= p.ElderFrom:
		return GuardianBasisElder
	}
	return ""
}

// BirthDate returns the birth date a resident ID number carries; false for
// other documents or a malformed number. Any caller; no error.
func BirthDate(t DocType, number string) (time.Time, bool) {
	if t != DocIDCard || len(number) != 18 {
		return time.Time{}, false
	}
	birth, err := time.ParseInLocation("20060102", number[6:14], CST)
	if err != nil {
		return time.Time{}, false
	}
	return birth, true
}

// AgeAt returns the age in full years of a person born on birth at now (in
// Shaanxi's calendar). Any caller; no error.
func AgeAt(birth, now time.Time) int {
	now = now.In(CST)
	age := now.Year() - birth.Year()
	if now.Month() < birth.Month() || now.Month() == birth.Month() && now.Day() < birth.Day() {
		age--
	}
	return age
}

// GuardianshipEvent is one binding or unbinding of a person to a guardian
// account, as the person and community staff see it.
type GuardianshipEvent struct {
	ID       int64
	PersonID int64
	Event    string // BIND or UNBIND
	// Basis is CHILD, ELDER, COMMUNITY or LEGACY for a binding; CLAIMED or
	// COMMUNITY for an unbinding.
	Basis string
	// Guardian is the masked phone of the guardian account.
	Guardian string
	// Actor is the subject who made the change; ByRole the role through
	// which staff made it ("" for residents).
	Actor  string
	ByRole Role
	Reason string
	At     time.Time
}

// GuardianBinding is what community staff enter to bind a person to a
// guardian's account: the guardian's phone and the basis of the
// guardianship (the reason, kept in the audit trail).
type GuardianBinding struct {
	GuardianPhone string
	Reason        string
}

// Validate trims the fields in place and checks them: an 11-digit mobile
// number and a reason of 1 to 200 characters. Whether an account with that
// phone exists needs the database: PrivacyService.BindGuardian checks it.
// Any caller may call it. Errors: INVALID naming the field.
func (in *GuardianBinding) Validate() error {
	in.GuardianPhone, in.Reason = strings.TrimSpace(in.GuardianPhone), strings.TrimSpace(in.Reason)
	if !ValidPhone(in.GuardianPhone) {
		return FieldError("监护人手机号码", "应为 11 位手机号码")
	}
	if in.Reason == "" || utf8.RuneCountInString(in.Reason) > 200 {
		return FieldError("原因", "请填写确认监护关系的依据，不超过 200 字")
	}
	return nil
}

// GuardianUnbinding is what community staff enter to end a person's
// binding: the reason, kept in the audit trail.
type GuardianUnbinding struct {
	Reason string
}

// Validate trims the reason in place and checks that it has 1 to 200
// characters. Any caller may call it. Errors: INVALID naming the field.
func (in *GuardianUnbinding) Validate() error {
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" || utf8.RuneCountInString(in.Reason) > 200 {
		return FieldError("原因", "请填写解除绑定的原因，不超过 200 字")
	}
	return nil
}

// ClaimInput is what a holder proves to take their own code back: the
// document and the name on record. The phone is the calling account's,
// verified by SMS at login.
type ClaimInput struct {
	DocType   DocType
	DocNumber string
	Name      string
}

// Validate checks the claim at now and normalises it in place: a known
// document type, a valid document number (normalised), a name of 1 to 50
// characters (trimmed). Whether a person with that document and name is on
// record needs the database: PrivacyService checks it. Any caller may call
// it. Errors: INVALID naming the field.
func (in *ClaimInput) Validate(now time.Time) error {
	if !in.DocType.Valid() {
		return FieldError("证件类型", "未知的证件类型")
	}
	doc, err := NormalizeDocument(in.DocType, in.DocNumber, now)
	if err != nil {
		return err
	}
	in.DocNumber = doc
	in.Name = strings.TrimSpace(in.Name)
	if n := utf8.RuneCountInString(in.Name); n == 0 || n > 50 {
		return FieldError("姓名", "不能为空，且不超过 50 个字")
	}
	return nil
}
