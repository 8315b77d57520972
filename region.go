package healthcode

import (
	"context"
	"strings"
)

// Level is one of the six administrative levels of SPEC §1.
type Level string

// The six levels. A region's level follows from the length of its code.
const (
	LevelProvince  Level = "PROVINCE"  // 2 digits: 61
	LevelCity      Level = "CITY"      // 4 digits: 6101
	LevelCounty    Level = "COUNTY"    // 6 digits: 610113
	LevelStreet    Level = "STREET"    // 9 digits: 610113001
	LevelCommunity Level = "COMMUNITY" // 12 digits: 610113001001
	LevelCompound  Level = "COMPOUND"  // 15 digits: community code + 3 digits
)

// ProvinceCode is the code of Shaanxi, the root of the region tree.
const ProvinceCode = "61"

var levelLengths = []struct {
	n     int
	level Level
}{{2, LevelProvince}, {4, LevelCity}, {6, LevelCounty}, {9, LevelStreet}, {12, LevelCommunity}, {15, LevelCompound}}

// LevelOfCode returns the level implied by a region code's length and whether
// the code is well formed (digits only, a known length, inside Shaanxi).
func LevelOfCode(code string) (Level, bool) {
	if !strings.HasPrefix(code, ProvinceCode) {
		return "", false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	for _, l := range levelLengths {
		if len(code) == l.n {
			return l.level, true
		}
	}
	return "", false
}

// AncestorCodes returns the codes of the region and all its ancestors, from the
// region itself up to the province: 610113001 → [610113001 610113 6101 61].
// Region codes are prefix-hierarchical, so this needs no lookup. It returns nil
// for a malformed code.
func AncestorCodes(code string) []string {
	if _, ok := LevelOfCode(code); !ok {
		return nil
	}
	out := make([]string, 0, 6)
	for i := len(levelLengths) - 1; i >= 0; i-- {
		if n := levelLengths[i].n; n <= len(code) {
			out = append(out, code[:n])
		}
	}
	return out
}

// RegionInside reports whether region code is inside ancestor: equal to it or
// one of its descendants.
func RegionInside(code, ancestor string) bool {
	if ancestor == "" || !strings.HasPrefix(code, ancestor) {
		return false
	}
	for _, a := range AncestorCodes(code) {
		if a == ancestor {
			return true
		}
	}
	return false
}

// Region is a node of the administrative tree: the NBS divisions of Shaanxi
// plus the compounds that community administrators create.
type Region struct {
	Code       string
	Name       string
	Level      Level
	ParentCode string // "" for the province
	// Path is the ltree path of codes from the province: "61.6101.610113".
	Path string
}

// RegionFilter selects regions to list.
type RegionFilter struct {
	ParentCode string // required: list the children of this region
	First      int    // page size, capped by the caller
	After      string // keyset cursor: the last code of the previous page
}

// RegionService reads the region tree and creates compounds.
type RegionService interface {
	// FindRegion returns one region. Staff see the regions inside the grants
	// that give them region.read; residents see the whole tree (they pick
	// their residence from it).
	// Errors: UNAUTHENTICATED, INVALID (malformed code), NOT_FOUND, FORBIDDEN.
	FindRegion(ctx context.Context, code string) (*Region, error)
	// FindRegions is the batch form of FindRegion for dataloaders: one result
	// or error per code, in the order given.
	FindRegions(ctx context.Context, codes []string) ([]*Region, []error)
	// RegionNames returns the names of regions (雁塔区, 西安市), one per code
	// in the order given, "" for an unknown code: the batch form for
	// dataloaders that label the regions of objects the caller may already
	// read (reports, lists, notices). Region names are public administrative
	// data, so any authenticated caller may ask. Errors: UNAUTHENTICATED.
	RegionNames(ctx context.Context, codes []string) ([]string, []error)
	// ListRegions returns the children of filter.ParentCode that the caller may
	// see, ordered by code, and whether more follow.
	// Errors: UNAUTHENTICATED, INVALID, NOT_FOUND, FORBIDDEN.
	ListRegions(ctx context.Context, filter RegionFilter) ([]*Region, bool, error)
	// PublicRegions returns the children of an NBS region of Shaanxi (the
	// cities for "", down to the communities of a street), ordered by code:
	// the names of the administrative divisions are public data, so anyone
	// may ask, also without a session (the public institution registration
	// picks its region from them). Compounds, which community administrators
	// create, are never listed. Errors: INVALID (malformed code), NOT_FOUND.
	PublicRegions(ctx context.Context, parentCode string) ([]*Region, error)
	// CreateCompound creates a compound (组/小区) under a community. Callers
	// need region.create_compound in the community: its administrators and
	// those above. Errors: UNAUTHENTICATED, INVALID (parent not a community,
	// empty or long name), NOT_FOUND, FORBIDDEN, CONFLICT (name taken, or all
	// 999 codes used).
	CreateCompound(ctx context.Context, communityCode, name string) (*Region, error)
}
