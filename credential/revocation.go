package credential

import (
	"time"

	"healthcode"
)

// Revocation reasons the platform writes; other issuers may use their own.
const (
	RevokeSuperseded    = "SUPERSEDED"     // a newer paper code or pass card replaced it
	RevokeColourChanged = "COLOUR_CHANGED" // the person's colour changed (SPEC §2: revoked if the colour changes)
	RevokeCancelled     = "CANCELLED"      // withdrawn by staff (e.g. issued in error)
)

// Revoked is one entry of a revocation list. Exactly one of TokenID and
// CodeID is set:
//   - TokenID revokes that one token (a paper code or pass card: its jti);
//   - CodeID revokes every token of that code whose iat is strictly before
//     RevokedAt, so the replacement issued at or after RevokedAt stays valid.
//
// Issuer scopes the entry: code ids are only unique within their issuer.
type Revoked struct {
	Issuer    string    `json:"iss"`
	TokenID   string    `json:"jti,omitempty"`
	CodeID    string    `json:"cid,omitempty"`
	RevokedAt time.Time `json:"revokedAt"`
	Reason    string    `json:"reason"`
}

// RevocationList is the document served next to the key set
// (/.well-known/healthcode/revocations.json): superseded paper codes and pass
// cards. Scanners cache it with the key set.
type RevocationList struct {
	GeneratedAt time.Time `json:"generatedAt"`
	Entries     []Revoked `json:"entries"`
}

// ParseRevocationList parses and validates a revocation list strictly
// (unknown fields, trailing data, entries with neither or both of jti and
// cid, or without issuer or time are errors). Scanners and the `healthcode
// verify` command call it. It returns an INVALID domain error.
func ParseRevocationList(data []byte) (*RevocationList, error) {
	var rl RevocationList
	if err := decodeStrict(data, &rl); err != nil {
		return nil, healthcode.Errorf(healthcode.EINVALID, "吊销列表格式错误：%v", err)
	}
	if err := rl.validate(); err != nil {
		return nil, err
	}
	return &rl, nil
}

// validate returns an INVALID domain error for an inconsistent list.
func (rl *RevocationList) validate() error {
	if rl.GeneratedAt.IsZero() {
		return healthcode.Errorf(healthcode.EINVALID, "吊销列表缺少 generatedAt")
	}
	for i, e := range rl.Entries {
		switch {
		case !ValidIssuerID(e.Issuer):
			return healthcode.Errorf(healthcode.EINVALID, "吊销列表 entries[%d] 的签发方无效", i)
		case (e.TokenID == "") == (e.CodeID == ""):
			return healthcode.Errorf(healthcode.EINVALID, "吊销列表 entries[%d] 必须且只能有 jti 或 cid 之一", i)
		case len(e.TokenID) > maxIDLen || len(e.CodeID) > maxIDLen:
			return healthcode.Errorf(healthcode.EINVALID, "吊销列表 entries[%d] 的编号过长", i)
		case e.RevokedAt.IsZero():
			return healthcode.Errorf(healthcode.EINVALID, "吊销列表 entries[%d] 缺少 revokedAt", i)
		}
	}
	return nil
}

// Fresh reports whether the list was generated less than maxAge before now.
// Scanners call it with MaxRevocationAge and warn when it is false. It never
// fails.
func (rl *RevocationList) Fresh(now time.Time, maxAge time.Duration) bool {
	return now.Sub(rl.GeneratedAt) < maxAge
}

// ETag returns a strong HTTP entity tag over the entries (not GeneratedAt),
// for the revocations endpoint. It never fails.
func (rl *RevocationList) ETag() string {
	return etag(rl.Entries)
}

// RevocationSet is the lookup form of a revocation list: two hash maps, one
// lookup per claim. It is immutable and safe for concurrent use; a nil set
// revokes nothing.
type RevocationSet struct {
	tokens map[string]map[string]int // jti → issuer → entry index
	codes  map[string]map[string]int // cid → issuer → entry index (latest RevokedAt)
	list   []Revoked
}

// NewRevocationSet indexes rl (nil gives an empty set). NewVerifier calls it;
// any caller may. It never fails; validate the list first (ParseRevocationList).
func NewRevocationSet(rl *RevocationList) *RevocationSet {
	s := &RevocationSet{tokens: map[string]map[string]int{}, codes: map[string]map[string]int{}}
	if rl == nil {
		return s
	}
	s.list = append([]Revoked(nil), rl.Entries...)
	for i, e := range s.list {
		if e.TokenID != "" {
			add(s.tokens, e.TokenID, e.Issuer, i, func(int) bool { return true })
		} else if e.CodeID != "" {
			add(s.codes, e.CodeID, e.Issuer, i, func(prev int) bool { return e.RevokedAt.After(s.list[prev].RevokedAt) })
		}
	}
	return s
}

func add(m map[string]map[string]int, id, iss string, i int, replace func(prev int) bool) {
	byIss := m[id]
	if byIss == nil {
		byIss = map[string]int{}
		m[id] = byIss
	}
	if prev, ok := byIss[iss]; !ok || replace(prev) {
		byIss[iss] = i
	}
}

// Lookup returns the entry that revokes c, if any. The verifier calls it
// after the signature and times are checked; any caller may. It never fails.
func (s *RevocationSet) Lookup(c *Claims) (Revoked, bool) {
	if s == nil {
		return Revoked{}, false
	}
	if i, ok := s.tokens[c.TokenID][c.Issuer]; ok {
		return s.list[i], true
	}
	if i, ok := s.codes[c.CodeID][c.Issuer]; ok && c.IssuedAt.Before(s.list[i].RevokedAt) {
		return s.list[i], true
	}
	return Revoked{}, false
}

// Len returns the number of entries. Any caller may use it.
func (s *RevocationSet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.list)
}
