// Package credential implements the signed QR credential of SPEC §4: health
// code tokens (JWS compact, EdDSA/Ed25519, typ "hc+jwt"), the issuer's key
// ring with rotation, the published key set with the trusted issuers of
// mutual recognition (互信互认), the revocation list of superseded paper codes
// and pass cards, offline verification for scanners, and QR images.
//
// The package does no database or network I/O; the only files it touches are
// the signing keys under a key directory (see LoadKeyRing). A token carries
// exactly the fields of Claims: never an ID number, phone or address.
//
// Hand-written where the figures show it is needed (docs/benchmarks.md,
// "credential: hand-written or library"): tokens are signed with go-jose,
// but parsed by hand (verify.go), about ten times faster than go-jose's JWS
// parsing and without allocating, which the scan upload needs (1,000 tokens
// parsed per batch); and a batch is verified with one Ed25519 equation per
// chunk whose terms are grouped by key, built from curve25519-voi's
// low-level parts (batch.go), about 1.9 times the rate of voi's own batch
// verifier. The tests hold the parser to go-jose (FuzzVerify).
package credential

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"healthcode"
)

// Code colours carried in the col claim.
const (
	ColourGreen  = "GREEN"
	ColourYellow = "YELLOW"
	ColourRed    = "RED"
)

// Code kinds carried in the knd claim.
const (
	KindElectronic = "ELECTRONIC" // shown in the app; the token lives minutes and the page refreshes it
	KindPaper      = "PAPER"      // printed by community staff; the token lives 14 days
	KindPassCard   = "PASS_CARD"  // health pass card stamped by the community; 14 days
)

// Issuer identifiers that are not region codes.
const (
	// IssuerProvince is the provincial platform (Shaanxi, region code 61).
	IssuerProvince = healthcode.ProvinceCode
	// IssuerNational is the national government service platform.
	IssuerNational = "national"
)

// Lifetimes and limits of the token format.
const (
	// PaperTokenLifetime is the lifetime of a paper code's or pass card's token.
	PaperTokenLifetime = 14 * 24 * time.Hour
	// DefaultSkew is the clock skew a scanner tolerates on iat and exp.
	DefaultSkew = 2 * time.Minute
	// MaxTokenSize is the largest token Verify parses; larger ones are MALFORMED.
	MaxTokenSize = 2048
	// MaxKeySetAge is the age (from GeneratedAt) beyond which a scanner
	// refuses to verify with a cached key set (docs/scanning.md).
	MaxKeySetAge = 7 * 24 * time.Hour
	// MaxRevocationAge is the age beyond which a scanner warns that its
	// revocation list is out of date.
	MaxRevocationAge = 24 * time.Hour
)

// Claims is the content of a health code token. It holds exactly these fields
// and nothing else: the token is shown to anyone who scans the code, so it
// never carries an ID number, phone or address. Code-issuing services fill it
// for Signer.Sign; Verify returns it.
type Claims struct {
	// Issuer is "61" for the provincial platform, a city code (e.g. "6101")
	// for a city sub-system, "national" or another province's code.
	Issuer string
	// CodeID is the opaque id of the person's code, e.g. "hc_123".
	CodeID string
	// Colour is GREEN, YELLOW or RED.
	Colour string
	// MaskedName is the masked name (pii.MaskName): 张* or 张*三.
	MaskedName string
	// Kind is ELECTRONIC, PAPER or PASS_CARD.
	Kind string
	// IssuedAt and ExpiresAt bound the token's validity; the token format
	// keeps whole seconds.
	IssuedAt, ExpiresAt time.Time
	// TokenID is the random jti; Sign generates one when it is empty.
	TokenID string
}

// wireClaims is the JSON payload with the short claim names.
type wireClaims struct {
	Iss string `json:"iss"`
	Cid string `json:"cid"`
	Col string `json:"col"`
	Nm  string `json:"nm"`
	Knd string `json:"knd"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
	Jti string `json:"jti"`
}

// Limits on claim values, enforced when signing.
const (
	maxIDLen   = 128 // cid, jti
	maxNameLen = 32  // runes of the masked name
)

// NewTokenID returns a random token id (16 bytes, base64url). Any caller may
// use it, e.g. to know a paper code's jti before signing so it can be revoked
// later. It never fails.
func NewTokenID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails (it panics instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidColour reports whether s is GREEN, YELLOW or RED. Any caller may use
// it; it never fails.
func ValidColour(s string) bool {
	return s == ColourGreen || s == ColourYellow || s == ColourRed
}

// ValidKind reports whether s is ELECTRONIC, PAPER or PASS_CARD. Any caller
// may use it; it never fails.
func ValidKind(s string) bool {
	return s == KindElectronic || s == KindPaper || s == KindPassCard
}

// ValidIssuerID reports whether id can name an issuer: 1 to 32 characters of
// lower-case ASCII letters, digits, '-' and '_' ("61", "6101", "national").
// Any caller may use it; it never fails.
func ValidIssuerID(id string) bool {
	if len(id) == 0 || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validate checks claims before signing. It returns an INVALID domain error.
func (c *Claims) validate() error {
	switch {
	case !ValidIssuerID(c.Issuer):
		return healthcode.Errorf(healthcode.EINVALID, "签发方标识无效：%q", c.Issuer)
	case c.CodeID == "" || len(c.CodeID) > maxIDLen || !utf8.ValidString(c.CodeID):
		return healthcode.Errorf(healthcode.EINVALID, "健康码编号无效")
	case !ValidColour(c.Colour):
		return healthcode.Errorf(healthcode.EINVALID, "健康码颜色无效：%q", c.Colour)
	case !ValidKind(c.Kind):
		return healthcode.Errorf(healthcode.EINVALID, "健康码类型无效：%q", c.Kind)
	case !utf8.ValidString(c.MaskedName) || utf8.RuneCountInString(c.MaskedName) > maxNameLen:
		return healthcode.Errorf(healthcode.EINVALID, "姓名掩码无效")
	case c.MaskedName != "" && !strings.ContainsRune(c.MaskedName, '*'):
		// A guard against putting a clear name into a token (SPEC §8).
		return healthcode.Errorf(healthcode.EINVALID, "令牌中的姓名必须脱敏（如 张*）")
	case c.IssuedAt.IsZero() || c.IssuedAt.Unix() <= 0:
		return healthcode.Errorf(healthcode.EINVALID, "签发时间无效")
	case c.ExpiresAt.Unix() <= c.IssuedAt.Unix():
		return healthcode.Errorf(healthcode.EINVALID, "失效时间必须晚于签发时间")
	case len(c.TokenID) > maxIDLen || !utf8.ValidString(c.TokenID):
		return healthcode.Errorf(healthcode.EINVALID, "令牌编号无效")
	}
	return nil
}

func (c *Claims) wire() wireClaims {
	return wireClaims{
		Iss: c.Issuer, Cid: c.CodeID, Col: c.Colour, Nm: c.MaskedName, Knd: c.Kind,
		Iat: c.IssuedAt.Unix(), Exp: c.ExpiresAt.Unix(), Jti: c.TokenID,
	}
}

// ColourName returns the Chinese name of a colour: 绿码, 黄码 or 红码 (未知颜色
// otherwise). Any caller may use it; it never fails.
func ColourName(colour string) string {
	switch colour {
	case ColourGreen:
		return "绿码"
	case ColourYellow:
		return "黄码"
	case ColourRed:
		return "红码"
	}
	return "未知颜色"
}

// KindName returns the Chinese name of a code kind. Any caller may use it;
// it never fails.
func KindName(kind string) string {
	switch kind {
	case KindElectronic:
		return "电子健康码"
	case KindPaper:
		return "纸质健康码"
	case KindPassCard:
		return "健康通行卡"
	}
	return "健康码"
}

// issuerNames names the issuers a scanner in Shaanxi meets: the national
// platform, the provinces (mutual recognition) and the Shaanxi cities.
var issuerNames = map[string]string{
	IssuerNational: "国家政务服务平台",
	"11":           "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
	"21": "辽宁省", "22": "吉林省", "23": "黑龙江省",
	"31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
	"41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区", "46": "海南省",
	"50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
	"61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区", "65": "新疆维吾尔自治区",
	"6101": "西安市", "6102": "铜川市", "6103": "宝鸡市", "6104": "咸阳市", "6105": "渭南市",
	"6106": "延安市", "6107": "汉中市", "6108": "榆林市", "6109": "安康市", "6110": "商洛市",
}

// IssuerName returns the Chinese name of a well-known issuer id, or the id
// itself when it is not known. Any caller may use it; it never fails.
func IssuerName(id string) string {
	if n, ok := issuerNames[id]; ok {
		return n
	}
	return id
}

// Describe returns a one-line Chinese description of verified claims for a
// scanner screen or the `healthcode verify` command: colour, masked name,
// kind, issuer and validity in Beijing time. Any caller may use it; it
// returns "" for nil.
func Describe(c *Claims) string {
	if c == nil {
		return ""
	}
	const layout = "2006-01-02 15:04:05"
	name := c.MaskedName
	if name == "" {
		name = "（无姓名）"
	}
	return fmt.Sprintf("%s｜%s｜%s｜签发方：%s（%s）｜有效期：%s 至 %s（北京时间）",
		ColourName(c.Colour), name, KindName(c.Kind), IssuerName(c.Issuer), c.Issuer,
		c.IssuedAt.In(healthcode.CST).Format(layout), c.ExpiresAt.In(healthcode.CST).Format(layout))
}
