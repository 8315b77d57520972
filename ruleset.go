package healthcode

import (
	"context"
	"time"
)

// Rule set statuses.
const (
	RuleSetPending   = "DRAFT"     // submitted, waiting for a second rule admin
	RuleSetPublished = "PUBLISHED" // in force (exactly one)
	RuleSetRetired   = "RETIRED"   // replaced
)

// RuleSetInfo describes a stored rule set; Body is its JSON (rules.RuleSet).
type RuleSetInfo struct {
	Version     string
	Name        string
	Status      string
	Body        []byte
	CreatedBy   string
	CreatedAt   time.Time
	ApprovedBy  string
	PublishedAt *time.Time
}

// ColourTransition counts persons whose colour would go From → To.
type ColourTransition struct {
	From, To Colour
	Count    int
}

// PreviewChange is one sample person whose code a rule set would change.
type PreviewChange struct {
	PersonID   int64
	MaskedName string
	RegionCode string
	From, To   Colour
	ClauseIDs  []string
}

// RuleSetPreview is what a new rule set would change, computed over every
// person without writing anything.
type RuleSetPreview struct {
	Version     string
	Evaluated   int
	Transitions []ColourTransition // every (from, to) pair with a count, unchanged ones included
	Sample      []PreviewChange    // up to 20 persons whose colour would change
}

// RuleSetService manages versioned rule sets (Annex 1 六: 健康码规则调整).
type RuleSetService interface {
	// ListRuleSets returns every rule set, newest first (ruleset.read at the
	// province). Errors: UNAUTHENTICATED, FORBIDDEN.
	ListRuleSets(ctx context.Context) ([]*RuleSetInfo, error)
	// PreviewRuleSet validates a rule set (JSON) and reports what it would
	// change (ruleset.write). Errors: UNAUTHENTICATED, FORBIDDEN, INVALID.
	PreviewRuleSet(ctx context.Context, body []byte) (*RuleSetPreview, error)
	// PublishRuleSet validates and submits a rule set for approval
	// (ruleset.write); it takes effect when a second rule admin approves it.
	// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID, CONFLICT (version exists).
	PublishRuleSet(ctx context.Context, body []byte) (*RuleSetInfo, error)
	// ApproveRuleSet puts a submitted rule set in force (ruleset.approve, not
	// the submitter) and queues the re-evaluation of everyone in batches.
	// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT.
	ApproveRuleSet(ctx context.Context, version string) (*RuleSetInfo, error)
}
