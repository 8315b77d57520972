package credential

import (
	"strings"

	"healthcode"
)

// ValidateNewIssuer normalises and checks a new trust-list entry in place
// and returns the issuer's entry and keys to store: the issuer id (trimmed,
// well formed, not our own), the key set document (parsed strictly; only
// in.IssuerID's entry and keys are kept, and there must be keys), the
// window (a bound left nil takes the document's; the start must precede the
// end) and the name (blank takes the document's, then IssuerName; 1 to 100
// characters). The first problem is returned. Whether an entry of the issuer
// is already active needs the database: CheckpointService.AddTrustedIssuer
// checks it. Any caller. Errors: INVALID naming the field.
func ValidateNewIssuer(in *healthcode.NewTrustedIssuer) (TrustedIssuerKeys, error) {
	in.IssuerID = strings.TrimSpace(in.IssuerID)
	if !ValidIssuerID(in.IssuerID) {
		return TrustedIssuerKeys{}, healthcode.FieldError("签发方标识", "格式不正确")
	}
	if in.IssuerID == IssuerProvince {
		return TrustedIssuerKeys{}, healthcode.FieldError("签发方标识", "不能将本省平台自身加入互信名单")
	}
	ks, err := ParseKeySet(in.KeysJSON)
	if err != nil {
		return TrustedIssuerKeys{}, err
	}
	tk, ok := ks.IssuerKeys(in.IssuerID)
	if !ok || len(tk.Keys) == 0 {
		return TrustedIssuerKeys{}, healthcode.FieldError("密钥集", "未包含签发方 %s 的公钥", in.IssuerID)
	}
	if in.ValidFrom == nil {
		in.ValidFrom = tk.Issuer.ValidFrom
	}
	if in.ValidUntil == nil {
		in.ValidUntil = tk.Issuer.ValidUntil
	}
	if in.ValidFrom != nil && in.ValidUntil != nil && !in.ValidFrom.Before(*in.ValidUntil) {
		return TrustedIssuerKeys{}, healthcode.FieldError("有效期", "开始时间须早于结束时间")
	}
	if strings.TrimSpace(in.Name) == "" {
		in.Name = tk.Issuer.Name
	}
	if in.Name == "" {
		in.Name = IssuerName(in.IssuerID)
	}
	if in.Name, err = healthcode.ValidText("签发方名称", in.Name, 1, 100); err != nil {
		return TrustedIssuerKeys{}, err
	}
	return tk, nil
}
