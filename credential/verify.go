package credential

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/oasisprotocol/curve25519-voi/curve"

	"healthcode"
)

// Verification failure reasons (VerifyError.Reason).
const (
	ReasonMalformed     = "MALFORMED"      // not a well-formed hc+jwt EdDSA token of at most 2 KiB
	ReasonUnknownIssuer = "UNKNOWN_ISSUER" // issuer not trusted, or outside its validity window
	ReasonUnknownKey    = "UNKNOWN_KEY"    // kid not in the set for that issuer (or its publication ended)
	ReasonBadSignature  = "BAD_SIGNATURE"  // signature does not verify
	ReasonExpired       = "EXPIRED"        // exp < now - skew
	ReasonNotYetValid   = "NOT_YET_VALID"  // iat > now + skew
	ReasonRevoked       = "REVOKED"        // on the revocation list
)

var reasonMessages = map[string]string{
	ReasonMalformed:     "无法识别的健康码，请出示有效的健康码",
	ReasonUnknownIssuer: "健康码签发机构不在互认范围内",
	ReasonUnknownKey:    "无法验证健康码签名密钥，请更新验码密钥后重试",
	ReasonBadSignature:  "健康码签名无效，可能已被篡改",
	ReasonExpired:       "健康码已过期，请刷新",
	ReasonNotYetValid:   "健康码尚未生效，请核对设备时间",
	ReasonRevoked:       "健康码已作废，请出示最新的健康码",
}

// Reasons lists every verification failure reason, in the order Verify
// checks them.
var Reasons = []string{
	ReasonMalformed, ReasonUnknownIssuer, ReasonUnknownKey, ReasonBadSignature,
	ReasonExpired, ReasonNotYetValid, ReasonRevoked,
}

// ReasonMessage returns the Chinese message a scanner shows for a reason
// (a generic one for an unknown reason). Any caller may use it; it never fails.
func ReasonMessage(reason string) string {
	if m, ok := reasonMessages[reason]; ok {
		return m
	}
	return "健康码验证失败"
}

// VerifyError is the error of a failed verification. Reason is one of the
// Reason* constants; Detail is English diagnostic text for logs, never shown
// to residents. It unwraps to an INVALID domain error carrying the Chinese
// message, so healthcode.ErrorCode and healthcode.ErrorMessage work on it.
type VerifyError struct {
	Reason string
	Detail string
}

// Error implements the error interface with the English reason and detail,
// for logs.
func (e *VerifyError) Error() string {
	if e.Detail == "" {
		return "credential: verify: " + e.Reason
	}
	return "credential: verify: " + e.Reason + ": " + e.Detail
}

// Message returns the Chinese message for the reason, e.g. "健康码已过期，请刷新",
// for the scanner screen or a GraphQL error. It never fails.
func (e *VerifyError) Message() string { return ReasonMessage(e.Reason) }

// Unwrap returns the INVALID domain error with the Chinese message, so the
// error presenter maps a verification failure like any domain error.
func (e *VerifyError) Unwrap() error {
	return &healthcode.Error{Code: healthcode.EINVALID, Message: e.Message()}
}

func fail(reason, detail string) error { return &VerifyError{Reason: reason, Detail: detail} }

// Verifier verifies tokens offline against a key set and a revocation list
// whose keys it has decoded and indexed once. It is immutable and safe for
// concurrent use; to refresh, build a new one and swap it in (e.g. with an
// atomic.Pointer). A successful verification allocates twice (the claims and
// one string); failures allocate the error.
type Verifier struct {
	issuers map[string]*verIssuer
	revoked *RevocationSet
}

type verIssuer struct {
	id         string
	validFrom  time.Time // zero: open
	validUntil time.Time // zero: open
	keys       map[string]*verKey
}

type verKey struct {
	pub      ed25519.PublicKey
	negA     *curve.ExpandedEdwardsPoint // −A for the batch equation; nil when pub is not a point
	notAfter time.Time                   // zero: open
}

// NewVerifier validates ks (as ParseKeySet does) and rl, decodes the keys and
// indexes both. Scanners, the scan-upload service and the CLI call it when
// they load or refresh their cached documents. It returns INVALID for a nil
// or inconsistent key set or revocation list; rl may be nil.
func NewVerifier(ks *KeySet, rl *RevocationList) (*Verifier, error) {
	if ks == nil {
		return nil, healthcode.Errorf(healthcode.EINVALID, "缺少密钥集")
	}
	if err := ks.validate(); err != nil {
		return nil, err
	}
	if rl != nil {
		if err := rl.validate(); err != nil {
			return nil, err
		}
	}
	v := &Verifier{issuers: make(map[string]*verIssuer, len(ks.Issuers)), revoked: NewRevocationSet(rl)}
	for _, ti := range ks.Issuers {
		vi := &verIssuer{id: ti.ID, keys: map[string]*verKey{}}
		if ti.ValidFrom != nil {
			vi.validFrom = *ti.ValidFrom
		}
		if ti.ValidUntil != nil {
			vi.validUntil = *ti.ValidUntil
		}
		v.issuers[ti.ID] = vi
	}
	for i := range ks.Keys {
		k := &ks.Keys[i]
		pub, err := k.PublicKey()
		if err != nil {
			return nil, err
		}
		vk := &verKey{pub: pub, negA: expandNeg(pub)}
		if k.NotAfter != nil {
			vk.notAfter = *k.NotAfter
		}
		v.issuers[k.Iss].keys[k.Kid] = vk
	}
	return v, nil
}

// Verify checks a token with a one-off Verifier built from ks and rl (rl may
// be nil). Callers that verify more than once build a Verifier instead. It
// returns the claims, a *VerifyError when the token fails, or an INVALID
// domain error when ks or rl is inconsistent.
func Verify(token string, ks *KeySet, rl *RevocationList, now time.Time, skew time.Duration) (*Claims, error) {
	v, err := NewVerifier(ks, rl)
	if err != nil {
		return nil, err
	}
	return v.Verify(token, now, skew)
}

// VerifyOffline parses a key set and an optional revocation list (nil or
// empty: none) and verifies token at now with DefaultSkew. The `healthcode
// verify` command calls it. It returns the claims; a *VerifyError when the
// token fails; a wrapped INVALID domain error when a document is malformed.
func VerifyOffline(token string, keySetJSON, revocationJSON []byte, now time.Time) (*Claims, error) {
	ks, err := ParseKeySet(keySetJSON)
	if err != nil {
		return nil, fmt.Errorf("credential: key set: %w", err)
	}
	var rl *RevocationList
	if len(bytes.TrimSpace(revocationJSON)) > 0 {
		if rl, err = ParseRevocationList(revocationJSON); err != nil {
			return nil, fmt.Errorf("credential: revocation list: %w", err)
		}
	}
	return Verify(token, ks, rl, now, DefaultSkew)
}

// Verify checks token at now, tolerating skew on iat and exp, in this order:
// size (≤ 2 KiB), parse (three base64url segments, header exactly {alg, kid,
// typ: hc+jwt}, payload exactly the eight claims), alg (EdDSA only), issuer
// trust (the iss claim names a trusted issuer valid at now), kid lookup
// within that issuer (so the issuer claim always matches the key's issuer;
// a key past its NotAfter+skew is unknown), signature, exp and iat, and
// revocation. Scanners and the scan-upload service call it. It returns the
// claims or a *VerifyError.
func (v *Verifier) Verify(token string, now time.Time, skew time.Duration) (*Claims, error) {
	var c Claims
	if err := v.verify(token, now, skew, &c); err != nil {
		return nil, err
	}
	out := new(Claims)
	*out = c
	return out, nil
}

// sigEncLen is the length of a base64url Ed25519 signature.
const sigEncLen = 86

// b64url marks the bytes of the base64url alphabet.
var b64url = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		t[c] = true
	}
	return t
}()

func (v *Verifier) verify(token string, now time.Time, skew time.Duration, c *Claims) error {
	if len(token) > MaxTokenSize {
		return fail(ReasonMalformed, "token larger than 2 KiB")
	}
	// The token is copied to the stack so that ed25519.Verify can read the
	// signing input without a heap allocation.
	var buf [MaxTokenSize]byte
	tb := buf[:copy(buf[:], token)]
	var p parsed
	if err := v.parse(tb, now, skew, &p); err != nil {
		return err
	}
	if !ed25519.Verify(p.vk.pub, tb[:p.inputLen], p.sig[:]) {
		return fail(ReasonBadSignature, "")
	}
	return v.finish(&p, now, skew, c)
}

// parsed is a token checked up to its signature: the signing input is the
// first inputLen bytes of the token, the decoded payload the first plLen of
// plBuf (lengths, not slices, so that a parsed on the stack stays there).
type parsed struct {
	inputLen int
	sig      [ed25519.SignatureSize]byte
	vi       *verIssuer
	vk       *verKey
	rc       rawClaims
	plLen    int
	plBuf    [MaxTokenSize * 3 / 4]byte
}

// parse runs every check that comes before the signature (see Verify) on
// the token tb (at most MaxTokenSize bytes).
func (v *Verifier) parse(tb []byte, now time.Time, skew time.Duration, p *parsed) error {
	if skew < 0 {
		skew = 0
	}
	d1, d2 := -1, -1
	for i, ch := range tb {
		if ch == '.' {
			switch {
			case d1 < 0:
				d1 = i
			case d2 < 0:
				d2 = i
			default:
				return fail(ReasonMalformed, "more than three segments")
			}
		} else if !b64url[ch] {
			return fail(ReasonMalformed, "character outside base64url")
		}
	}
	if d2 < 0 || d1 == 0 || d2 == d1+1 {
		return fail(ReasonMalformed, "not a compact JWS")
	}
	hdrEnc, plEnc, sigEnc := tb[:d1], tb[d1+1:d2], tb[d2+1:]
	if len(sigEnc) != sigEncLen {
		return fail(ReasonMalformed, "signature is not 64 bytes")
	}

	var hdrBuf [512]byte
	if b64.DecodedLen(len(hdrEnc)) > len(hdrBuf) {
		return fail(ReasonMalformed, "header too large")
	}
	hn, err := b64.Decode(hdrBuf[:], hdrEnc)
	if err != nil {
		return fail(ReasonMalformed, "header is not base64url")
	}
	hdr := hdrBuf[:hn]
	alg, kid, ok := parseHeader(hdr)
	if !ok {
		return fail(ReasonMalformed, "header is not {alg, kid, typ: hc+jwt}")
	}
	if string(hdr[alg.start:alg.end]) != "EdDSA" {
		return fail(ReasonMalformed, "alg is not EdDSA")
	}

	pn, err := b64.Decode(p.plBuf[:], plEnc)
	if err != nil {
		return fail(ReasonMalformed, "payload is not base64url")
	}
	p.plLen = pn
	pl := p.plBuf[:pn]
	if !parsePayload(pl, &p.rc) {
		return fail(ReasonMalformed, "payload is not the health code claims")
	}

	vi := v.issuers[string(pl[p.rc.iss.start:p.rc.iss.end])]
	if vi == nil {
		return fail(ReasonUnknownIssuer, "issuer not trusted")
	}
	if (!vi.validFrom.IsZero() && now.Before(vi.validFrom)) || (!vi.validUntil.IsZero() && !now.Before(vi.validUntil)) {
		return fail(ReasonUnknownIssuer, "issuer outside its validity window")
	}
	vk := vi.keys[string(hdr[kid.start:kid.end])]
	if vk == nil {
		return fail(ReasonUnknownKey, "kid not in the key set for this issuer")
	}
	if !vk.notAfter.IsZero() && now.After(vk.notAfter.Add(skew)) {
		return fail(ReasonUnknownKey, "key publication ended")
	}

	if n, err := b64.Decode(p.sig[:], sigEnc); err != nil || n != len(p.sig) {
		return fail(ReasonMalformed, "signature is not base64url")
	}
	p.vi, p.vk, p.inputLen = vi, vk, d2
	return nil
}

// finish runs the checks after a good signature: exp and iat, the claims,
// and revocation.
func (v *Verifier) finish(p *parsed, now time.Time, skew time.Duration, c *Claims) error {
	if skew < 0 {
		skew = 0
	}
	if time.Unix(p.rc.exp, 0).Before(now.Add(-skew)) {
		return fail(ReasonExpired, "")
	}
	if time.Unix(p.rc.iat, 0).After(now.Add(skew)) {
		return fail(ReasonNotYetValid, "")
	}
	if !p.rc.claims(p.plBuf[:p.plLen], p.vi.id, c) {
		return fail(ReasonMalformed, "bad string escape in claims")
	}
	if e, ok := v.revoked.Lookup(c); ok {
		return fail(ReasonRevoked, e.Reason)
	}
	return nil
}

// span is the content of a JSON string (between the quotes) in a buffer.
type span struct {
	start, end int
	esc        bool // contains escape sequences
}

// rawClaims are the payload's claims as spans of the decoded payload.
type rawClaims struct {
	iss, cid, col, nm, knd, jti span
	iat, exp                    int64
}

// claims fills c from the validated spans. String claims without escapes
// share one allocation; escaped ones (e.g. a name sent as \u5f20*) are
// decoded by encoding/json. Colour and kind are interned.
func (rc *rawClaims) claims(pl []byte, iss string, c *Claims) bool {
	s := string(pl)
	str := func(sp span) (string, bool) {
		if !sp.esc {
			return s[sp.start:sp.end], true
		}
		// Decode from a copy: passing pl itself would move the caller's
		// stack buffer to the heap on every call.
		var out string
		if err := json.Unmarshal([]byte(s[sp.start-1:sp.end+1]), &out); err != nil {
			return "", false
		}
		return out, true
	}
	var ok1, ok2, ok3 bool
	c.Issuer = iss
	c.Colour = internColour(pl[rc.col.start:rc.col.end])
	c.Kind = internKind(pl[rc.knd.start:rc.knd.end])
	c.CodeID, ok1 = str(rc.cid)
	c.MaskedName, ok2 = str(rc.nm)
	c.TokenID, ok3 = str(rc.jti)
	c.IssuedAt = time.Unix(rc.iat, 0)
	c.ExpiresAt = time.Unix(rc.exp, 0)
	return ok1 && ok2 && ok3 && c.CodeID != "" && c.TokenID != ""
}

func internColour(b []byte) string {
	switch string(b) {
	case ColourGreen:
		return ColourGreen
	case ColourYellow:
		return ColourYellow
	case ColourRed:
		return ColourRed
	}
	return ""
}

func internKind(b []byte) string {
	switch string(b) {
	case KindElectronic:
		return KindElectronic
	case KindPaper:
		return KindPaper
	case KindPassCard:
		return KindPassCard
	}
	return ""
}

// jscan is a minimal strict JSON scanner for the flat objects of the token:
// string keys, string or non-negative integer values, no duplicates.
type jscan struct {
	b []byte
	i int
}

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jscan) consume(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *jscan) atEnd() bool {
	s.ws()
	return s.i == len(s.b)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// str scans a JSON string and returns the span of its content.
func (s *jscan) str() (span, bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return span{}, false
	}
	s.i++
	sp := span{start: s.i}
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			sp.end = s.i
			s.i++
			return sp, utf8.Valid(s.b[sp.start:sp.end])
		case c == '\\':
			sp.esc = true
			if s.i+1 >= len(s.b) {
				return span{}, false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+5 >= len(s.b) || !isHex(s.b[s.i+2]) || !isHex(s.b[s.i+3]) || !isHex(s.b[s.i+4]) || !isHex(s.b[s.i+5]) {
					return span{}, false
				}
				s.i += 6
			default:
				return span{}, false
			}
		case c < 0x20:
			return span{}, false
		default:
			s.i++
		}
	}
	return span{}, false
}

// maxIntDigits bounds iat and exp (12 digits: beyond year 30000).
const maxIntDigits = 12

// integer scans a non-negative JSON integer without fraction or exponent.
func (s *jscan) integer() (int64, bool) {
	s.ws()
	start := s.i
	var n int64
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		if s.i-start == maxIntDigits {
			return 0, false
		}
		n = n*10 + int64(s.b[s.i]-'0')
		s.i++
	}
	if s.i == start || (s.i-start > 1 && s.b[start] == '0') {
		return 0, false
	}
	return n, true
}

// key scans an object key (no escapes allowed) and the colon after it.
func (s *jscan) key() ([]byte, bool) {
	k, ok := s.str()
	if !ok || k.esc || !s.consume(':') {
		return nil, false
	}
	return s.b[k.start:k.end], true
}

// next consumes the separator after a member: it reports more=true after a
// comma, more=false after the closing brace, ok=false otherwise.
func (s *jscan) next() (more, ok bool) {
	if s.consume(',') {
		return true, true
	}
	if s.consume('}') {
		return false, true
	}
	return false, false
}

// parseHeader parses a protected header that holds exactly alg, kid and typ
// (string values without escapes), typ being hc+jwt in any case. Any other
// member — crit, jku, jwk, x5u, ... — makes the token malformed.
func parseHeader(b []byte) (alg, kid span, ok bool) {
	s := jscan{b: b}
	if !s.consume('{') {
		return
	}
	var typ span
	var seen uint8
	for more := true; more; {
		k, ok1 := s.key()
		if !ok1 {
			return
		}
		val, ok2 := s.str()
		if !ok2 || val.esc || val.end == val.start {
			return
		}
		var bit uint8
		switch string(k) {
		case "alg":
			bit, alg = 1, val
		case "kid":
			bit, kid = 2, val
		case "typ":
			bit, typ = 4, val
		default:
			return
		}
		if seen&bit != 0 {
			return
		}
		seen |= bit
		if more, ok1 = s.next(); !ok1 {
			return
		}
	}
	if seen != 7 || !s.atEnd() || !bytes.EqualFold(b[typ.start:typ.end], []byte(TokenType)) {
		return
	}
	return alg, kid, true
}

// parsePayload parses a payload that holds exactly the eight claims: iss, col
// and knd unescaped, col and knd from their enumerations, cid and jti
// non-empty, iat and exp integers with exp > iat.
func parsePayload(b []byte, rc *rawClaims) bool {
	s := jscan{b: b}
	if !s.consume('{') {
		return false
	}
	var seen uint8
	for more := true; more; {
		k, ok := s.key()
		if !ok {
			return false
		}
		var bit uint8
		var sp *span
		var n *int64
		switch string(k) {
		case "iss":
			bit, sp = 1, &rc.iss
		case "cid":
			bit, sp = 2, &rc.cid
		case "col":
			bit, sp = 4, &rc.col
		case "nm":
			bit, sp = 8, &rc.nm
		case "knd":
			bit, sp = 16, &rc.knd
		case "jti":
			bit, sp = 32, &rc.jti
		case "iat":
			bit, n = 64, &rc.iat
		case "exp":
			bit, n = 128, &rc.exp
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		if sp != nil {
			if *sp, ok = s.str(); !ok {
				return false
			}
		} else if *n, ok = s.integer(); !ok {
			return false
		}
		if more, ok = s.next(); !ok {
			return false
		}
	}
	switch {
	case seen != 0xff || !s.atEnd():
		return false
	case rc.iss.esc || rc.col.esc || rc.knd.esc:
		return false
	case rc.cid.end == rc.cid.start || rc.jti.end == rc.jti.start || rc.iss.end == rc.iss.start:
		return false
	case internColour(b[rc.col.start:rc.col.end]) == "" || internKind(b[rc.knd.start:rc.knd.end]) == "":
		return false
	case rc.exp <= rc.iat:
		return false
	}
	return true
}

// AsVerifyError returns the *VerifyError in err's chain, or nil. Scanners and
// the CLI use it to show the reason; any caller may.
func AsVerifyError(err error) *VerifyError {
	var ve *VerifyError
	if errors.As(err, &ve) {
		return ve
	}
	return nil
}
