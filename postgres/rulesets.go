package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/rules"
)

// RuleSetService implements healthcode.RuleSetService.
type RuleSetService struct{ DB *DB }

var _ healthcode.RuleSetService = (*RuleSetService)(nil)

const ruleSetColumns = `version, body->>'name', status, body::text, created_by, created_at, COALESCE(approved_by, ''), published_at`

func scanRuleSet(row pgx.Row) (*healthcode.RuleSetInfo, error) {
	var r healthcode.RuleSetInfo
	var name *string
	var body string
	err := row.Scan(&r.Version, &name, &r.Status, &body, &r.CreatedBy, &r.CreatedAt, &r.ApprovedBy, &r.PublishedAt)
	if name != nil {
		r.Name = *name
	}
	r.Body = []byte(body)
	return &r, err
}

// ListRuleSets implements healthcode.RuleSetService.
func (s *RuleSetService) ListRuleSets(ctx context.Context) ([]*healthcode.RuleSetInfo, error) {
	if _, err := s.DB.caller(ctx, healthcode.PermRuleSetRead, healthcode.ProvinceCode); err != nil {
		return nil, err
	}
	rows, err := s.DB.Pool.Query(ctx, "SELECT "+ruleSetColumns+" FROM rule_sets ORDER BY created_at DESC, version")
	if err != nil {
		return nil, fmt.Errorf("list rule sets: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.RuleSetInfo, error) { return scanRuleSet(r) })
}

// PreviewRuleSet implements healthcode.RuleSetService.
func (s *RuleSetService) PreviewRuleSet(ctx context.Context, body []byte) (*healthcode.RuleSetPreview, error) {
	if _, err := s.DB.caller(ctx, healthcode.PermRuleSetWrite, healthcode.ProvinceCode); err != nil {
		return nil, err
	}
	rs, err := rules.Parse(body)
	if err != nil {
		return nil, err
	}
	return s.DB.previewRuleSet(ctx, rs)
}

// previewRuleSet evaluates every person with rs in read-only batches and
// counts the colour transitions against their current codes.
func (db *DB) previewRuleSet(ctx context.Context, rs *rules.RuleSet) (*healthcode.RuleSetPreview, error) {
	p := &healthcode.RuleSetPreview{Version: rs.Version}
	counts := map[[2]healthcode.Colour]int{}
	var after int64
	for {
		var n int
		err := db.InTx(ctx, func(tx *Tx) error {
			rows, err := tx.Query(ctx, `SELECT p.id, p.name_masked, p.residence_code, COALESCE(c.colour, '') FROM persons p
				LEFT JOIN codes c ON c.person_id = p.id WHERE p.id > $1 ORDER BY p.id LIMIT $2`, after, healthcode.ReevaluateBatchSize)
			if err != nil {
				return fmt.Errorf("preview batch: %w", err)
			}
			type cur struct {
				name, region, colour string
			}
			var ids []int64
			current := map[int64]cur{}
			var id int64
			var c cur
			if _, err := pgx.ForEachRow(rows, []any{&id, &c.name, &c.region, &c.colour}, func() error {
				ids = append(ids, id)
				current[id] = c
				return nil
			}); err != nil {
				return err
			}
			n = len(ids)
			if n == 0 {
				return nil
			}
			after = ids[n-1]
			facts, err := loadFacts(ctx, tx, ids)
			if err != nil {
				return err
			}
			for _, id := range ids {
				res := rules.Evaluate(facts[id], rs, tx.Now)
				from, to := healthcode.Colour(current[id].colour), healthcode.Colour(res.Colour)
				counts[[2]healthcode.Colour{from, to}]++
				if from != to && len(p.Sample) < 20 {
					ch := healthcode.PreviewChange{PersonID: id, MaskedName: current[id].name, RegionCode: current[id].region, From: from, To: to}
					for _, c := range res.Clauses {
						ch.ClauseIDs = append(ch.ClauseIDs, c.ID)
					}
					p.Sample = append(p.Sample, ch)
				}
			}
			p.Evaluated += n
			return nil
		})
		if err != nil {
			return nil, err
		}
		if n < healthcode.ReevaluateBatchSize {
			break
		}
	}
	for k, v := range counts {
		p.Transitions = append(p.Transitions, healthcode.ColourTransition{From: k[0], To: k[1], Count: v})
	}
	sort.Slice(p.Transitions, func(i, j int) bool {
		a, b := p.Transitions[i], p.Transitions[j]
		return a.From < b.From || a.From == b.From && a.To < b.To
	})
	return p, nil
}

// PublishRuleSet implements healthcode.RuleSetService.
func (s *RuleSetService) PublishRuleSet(ctx context.Context, body []byte) (*healthcode.RuleSetInfo, error) {
	a, err := s.DB.caller(ctx, healthcode.PermRuleSetWrite, healthcode.ProvinceCode)
	if err != nil {
		return nil, err
	}
	rs, err := rules.Parse(body)
	if err != nil {
		return nil, err
	}
	canonical, err := json.Marshal(rs)
	if err != nil {
		return nil, err
	}
	var out *healthcode.RuleSetInfo
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		r, err := scanRuleSet(tx.QueryRow(ctx, `INSERT INTO rule_sets (version, body, status, created_by, created_at)
			VALUES ($1, $2, 'DRAFT', $3, $4) ON CONFLICT (version) DO NOTHING RETURNING `+ruleSetColumns,
			rs.Version, canonical, a.Subject(), tx.Now))
		if errors.Is(err, pgx.ErrNoRows) {
			return healthcode.Errorf(healthcode.ECONFLICT, "规则版本 %s 已存在，请使用新的版本号", rs.Version)
		} else if err != nil {
			return fmt.Errorf("insert rule set: %w", err)
		}
		out = r
		return tx.Audit(ctx, healthcode.AuditRecord{Role: healthcode.RoleRuleAdmin, Action: "ruleset.submit",
			Object: "ruleset:" + rs.Version})
	})
	return out, err
}

// ApproveRuleSet implements healthcode.RuleSetService.
func (s *RuleSetService) ApproveRuleSet(ctx context.Context, version string) (*healthcode.RuleSetInfo, error) {
	a, err := s.DB.caller(ctx, healthcode.PermRuleSetApprove, healthcode.ProvinceCode)
	if err != nil {
		return nil, err
	}
	var out *healthcode.RuleSetInfo
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		r, err := scanRuleSet(tx.QueryRow(ctx, "SELECT "+ruleSetColumns+" FROM rule_sets WHERE version = $1 FOR UPDATE", version))
		if err != nil {
			return mapError(err, "规则版本不存在")
		}
		if r.Status != healthcode.RuleSetPending {
			return healthcode.Errorf(healthcode.ECONFLICT, "该规则版本不在待审核状态")
		}
		if r.CreatedBy == a.Subject() {
			return healthcode.Errorf(healthcode.EFORBIDDEN, "规则须由另一名规则管理员审核发布")
		}
		if _, err := tx.Exec(ctx, "UPDATE rule_sets SET status = 'RETIRED' WHERE status = 'PUBLISHED'"); err != nil {
			return fmt.Errorf("retire rule set: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE rule_sets SET status = 'PUBLISHED', approved_by = $2, published_at = $3 WHERE version = $1`,
			version, a.Subject(), tx.Now); err != nil {
			return fmt.Errorf("publish rule set: %w", err)
		}
		r.Status, r.ApprovedBy, r.PublishedAt = healthcode.RuleSetPublished, a.Subject(), &tx.Now
		out = r
		cause := "ruleset:" + version
		payload, _ := json.Marshal(healthcode.FanOutAllPayload{Cause: cause})
		if _, err := tx.Outbox(ctx, healthcode.TaskFanOutAll, payload, cause); err != nil {
			return err
		}
		return tx.Audit(ctx, healthcode.AuditRecord{Role: healthcode.RoleRuleAdmin, Action: "ruleset.publish",
			Object: "ruleset:" + version})
	})
	return out, err
}
