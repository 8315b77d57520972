package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/rules"
)

// errPreviewDone ends a preview's transaction: the designation it inserted
// is rolled back.
var errPreviewDone = errors.New("preview done")

// PreviewAreaRisk implements healthcode.FactService. In one transaction
// that is rolled back, it inserts the designation as SetAreaRisk would,
// finds the persons the fan-out would re-evaluate (areaPersons), loads their
// facts as the re-evaluation does (the new designation in force), evaluates
// them with the published rule set and counts the colour transitions
// against their stored codes — the comparison the re-evaluation makes
// before it writes a change. Nothing is written: the row, its id and the
// evaluation results are discarded with the transaction.
func (s *FactService) PreviewAreaRisk(ctx context.Context, regionCode, level string) (*healthcode.AreaRiskPreview, error) {
	_, authAt, err := s.authorizeAreaRisk(ctx, regionCode, level)
	if err != nil {
		return nil, err
	}
	p := &healthcode.AreaRiskPreview{RegionCode: regionCode, Level: level}
	counts := map[[2]healthcode.Colour]int{}
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		if err := areaExists(ctx, tx, regionCode, authAt); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO area_risks (region_code, region_path, level, from_at, reason, actor, created_at)
			VALUES ($1, $2::text::ltree, $3, $4, '', 'preview', $4)`, regionCode, placePath(regionCode), level, tx.Now); err != nil {
			return fmt.Errorf("insert previewed area risk: %w", err)
		}
		ids, err := areaPersons(ctx, tx, regionCode, time.Time{})
		if err != nil {
			return err
		}
		rs, err := publishedRuleSet(ctx, tx)
		if err != nil {
			return err
		}
		for i := 0; i < len(ids); i += healthcode.ReevaluateBatchSize {
			batch := ids[i:min(i+healthcode.ReevaluateBatchSize, len(ids))]
			current := map[int64]healthcode.Colour{}
			if err := collectColours(ctx, tx, batch, current); err != nil {
				return err
			}
			facts, err := loadFacts(ctx, tx, batch)
			if err != nil {
				return err
			}
			for _, id := range batch {
				from, to := current[id], healthcode.Colour(rules.Evaluate(facts[id], rs, tx.Now).Colour)
				counts[[2]healthcode.Colour{from, to}]++
				if from != to {
					p.Changed++
				}
			}
			p.Evaluated += len(batch)
		}
		return errPreviewDone
	})
	if err != nil && !errors.Is(err, errPreviewDone) {
		return nil, err
	}
	p.Transitions = sortedTransitions(counts)
	return p, nil
}

// collectColours reads the stored colour of each person of ids into out
// ("" for a person without a code yet).
func collectColours(ctx context.Context, tx *Tx, ids []int64, out map[int64]healthcode.Colour) error {
	rows, err := tx.Query(ctx, `SELECT p.id, COALESCE(c.colour, '') FROM persons p
		LEFT JOIN codes c ON c.person_id = p.id WHERE p.id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("read codes: %w", err)
	}
	var id int64
	var colour string
	_, err = pgx.ForEachRow(rows, []any{&id, &colour}, func() error {
		out[id] = healthcode.Colour(colour)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read codes: %w", err)
	}
	return nil
}

func sortedTransitions(counts map[[2]healthcode.Colour]int) []healthcode.ColourTransition {
	out := make([]healthcode.ColourTransition, 0, len(counts))
	for k, v := range counts {
		out = append(out, healthcode.ColourTransition{From: k[0], To: k[1], Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.From < b.From || a.From == b.From && a.To < b.To
	})
	return out
}

// AreaRiskOutcome implements healthcode.FactService: the colour history
// rows whose cause is the designation's fan-out (both passes).
func (s *FactService) AreaRiskOutcome(ctx context.Context, areaRiskID int64) ([]healthcode.ColourTransition, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	var region string
	if err := s.DB.Pool.QueryRow(ctx, "SELECT region_code FROM area_risks WHERE id = $1", areaRiskID).Scan(&region); err != nil {
		return nil, mapError(err, "风险地区设置不存在")
	}
	authAt, err := areaCode(region)
	if err != nil {
		return nil, err
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermAreaRiskWrite, authAt); err != nil {
		return nil, err
	}
	cause := "area_risk:" + strconv.FormatInt(areaRiskID, 10)
	rows, err := s.DB.Pool.Query(ctx, `SELECT COALESCE(from_colour, ''), to_colour, count(*) FROM code_history
		WHERE cause = $1 OR cause = $1 || ':late' GROUP BY 1, 2`, cause)
	if err != nil {
		return nil, fmt.Errorf("area risk outcome: %w", err)
	}
	counts := map[[2]healthcode.Colour]int{}
	var from, to string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&from, &to, &n}, func() error {
		counts[[2]healthcode.Colour{healthcode.Colour(from), healthcode.Colour(to)}] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("area risk outcome: %w", err)
	}
	return sortedTransitions(counts), nil
}
