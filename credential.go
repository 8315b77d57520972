package healthcode

import (
	"context"
	"time"
)

// Credential kinds.
const (
	CredentialElectronic = "ELECTRONIC"
	CredentialPaper      = "PAPER"
	CredentialPassCard   = "PASS_CARD"
)

// Credential is a signed health-code token (JWS) with what it says, for the
// code page or a printable paper code or pass card.
type Credential struct {
	Token      string
	Kind       string
	Colour     Colour
	MaskedName string
	IssuedAt   time.Time
	ExpiresAt  time.Time
	PrintedID  int64 // the paper code or pass card, 0 for electronic tokens
}

// VerifiedCode is what a verified token says.
type VerifiedCode struct {
	Issuer     string
	IssuerName string
	CodeID     string
	Colour     Colour
	MaskedName string
	Kind       string
	IssuedAt   time.Time
	ExpiresAt  time.Time
}

// PassCardApplication is an application for a health pass card, reviewed by
// the community.
type PassCardApplication struct {
	ID           int64
	PersonID     int64
	MaskedName   string
	RegionCode   string
	Status       string // PENDING, APPROVED, REJECTED
	Colour       Colour // the applicant's code colour now
	CreatedAt    time.Time
	ReviewedBy   string
	ReviewedAt   *time.Time
	ReviewReason string
	CardID       int64
}

// CredentialService signs, prints, verifies and revokes credentials.
type CredentialService interface {
	// ElectronicToken signs a short-lived token for the calling resident's
	// own code or a dependent's (personID 0: their own), after re-evaluating
	// the code when due. Errors: UNAUTHENTICATED, NOT_FOUND.
	ElectronicToken(ctx context.Context, personID int64) (*Credential, error)
	// IssuePaperCode prints a 14-day paper code for a person without a phone
	// (community staff: person.declare at the residence, docs/roles.md);
	// earlier paper codes of the person are revoked as superseded.
	// Errors: UNAUTHENTICATED, NOT_FOUND (no such person, or outside the
	// caller's jurisdiction), FORBIDDEN (the caller sees the person but lacks
	// person.declare).
	IssuePaperCode(ctx context.Context, personID int64) (*Credential, error)
	// RevokePaperCode withdraws a person's paper codes that have not expired
	// (issued in error, the person got a phone), with a reason: they go on the
	// revocation list as CANCELLED. Community staff with person.declare at the
	// residence. It returns how many were revoked. Errors: UNAUTHENTICATED,
	// INVALID (empty reason or over 200 characters), NOT_FOUND (no such
	// person, or outside the caller's jurisdiction), FORBIDDEN (seen but
	// without person.declare), CONFLICT (no paper code in force).
	RevokePaperCode(ctx context.Context, personID int64, reason string) (int, error)
	// ApplyPassCard records a pass-card application from the declaration form
	// (by the resident or by community staff) and queues it for review.
	// Errors: those of SubmitDeclaration, CONFLICT (an application pending).
	ApplyPassCard(ctx context.Context, in DeclarationInput) (*PassCardApplication, error)
	// ReviewPassCard approves (only a green, low-risk applicant) or rejects
	// (reason required) an application (community staff: passcard.review at
	// the residence). Errors: UNAUTHENTICATED, NOT_FOUND (no such application,
	// or outside the caller's jurisdiction), FORBIDDEN (the caller sees the
	// applicant but lacks passcard.review), INVALID, CONFLICT (not pending, or
	// not green).
	ReviewPassCard(ctx context.Context, id int64, approve bool, reason string) (*PassCardApplication, *Credential, error)
	// PassCardApplications lists applications inside the caller's
	// passcard.review regions (or inside region), by status.
	// Errors: UNAUTHENTICATED, FORBIDDEN.
	PassCardApplications(ctx context.Context, region, status string) ([]*PassCardApplication, error)
	// VerifyCode verifies a token against the published key set and the
	// revocation list, as a scanner would offline. Any caller may use it.
	// Errors: INVALID with the reason (expired, revoked, unknown issuer, bad
	// signature, malformed).
	VerifyCode(ctx context.Context, token string) (*VerifiedCode, error)
}
