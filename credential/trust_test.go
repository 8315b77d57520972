package credential

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"healthcode"
)

func TestValidateNewIssuer(t *testing.T) {
	t.Parallel()
	gansu, _ := NewMemoryKeyRing("62")
	lanzhou, _ := NewMemoryKeyRing("6201")
	from, until := t0.Add(-time.Hour), t0.Add(24*time.Hour)
	lz := lanzhou.Trusted("兰州市", t0)
	lz.Issuer.ValidFrom, lz.Issuer.ValidUntil = &from, &until
	doc, err := json.Marshal(BuildKeySet(gansu, []TrustedIssuerKeys{lz}, t0))
	if err != nil {
		t.Fatal(err)
	}

	// The issuer's own entry: the id trimmed, only its keys kept, the name
	// from the document, no window.
	in := healthcode.NewTrustedIssuer{IssuerID: " 62 ", KeysJSON: doc}
	tk, err := ValidateNewIssuer(&in)
	if err != nil {
		t.Fatal(err)
	}
	if in.IssuerID != "62" || in.Name != IssuerName("62") || in.Name == "" || in.ValidFrom != nil || in.ValidUntil != nil {
		t.Errorf("normalised input = %+v", in)
	}
	if len(tk.Keys) == 0 || tk.Issuer.ID != "62" {
		t.Errorf("keys = %+v", tk)
	}
	for _, k := range tk.Keys {
		if k.Iss != "62" {
			t.Errorf("key of %s kept", k.Iss)
		}
	}
	// An issuer the document trusts: its window and name are taken unless
	// the input gives them.
	in = healthcode.NewTrustedIssuer{IssuerID: "6201", KeysJSON: doc}
	if _, err := ValidateNewIssuer(&in); err != nil || in.Name != "兰州市" || !in.ValidFrom.Equal(from) || !in.ValidUntil.Equal(until) {
		t.Errorf("%+v: %v", in, err)
	}
	later := until.Add(time.Hour)
	in = healthcode.NewTrustedIssuer{IssuerID: "6201", Name: " 兰州 ", KeysJSON: doc, ValidUntil: &later}
	if _, err := ValidateNewIssuer(&in); err != nil || in.Name != "兰州" || !in.ValidFrom.Equal(from) || !in.ValidUntil.Equal(later) {
		t.Errorf("%+v: %v", in, err)
	}

	for _, c := range []struct {
		name string
		in   healthcode.NewTrustedIssuer
		msg  string
	}{
		{"id", healthcode.NewTrustedIssuer{IssuerID: "Gansu", KeysJSON: doc}, "签发方标识：格式不正确"},
		{"empty id", healthcode.NewTrustedIssuer{IssuerID: " ", KeysJSON: doc}, "签发方标识：格式不正确"},
		{"own id", healthcode.NewTrustedIssuer{IssuerID: IssuerProvince, KeysJSON: doc}, "签发方标识：不能将本省平台自身加入互信名单"},
		{"not listed", healthcode.NewTrustedIssuer{IssuerID: "64", KeysJSON: doc}, "密钥集：未包含签发方 64 的公钥"},
		{"window", healthcode.NewTrustedIssuer{IssuerID: "62", KeysJSON: doc, ValidFrom: &until, ValidUntil: &from}, "有效期：开始时间须早于结束时间"},
		{"empty window", healthcode.NewTrustedIssuer{IssuerID: "62", KeysJSON: doc, ValidFrom: &from, ValidUntil: &from}, "有效期：开始时间须早于结束时间"},
		{"document's window reversed", healthcode.NewTrustedIssuer{IssuerID: "6201", KeysJSON: doc, ValidFrom: &later}, "有效期：开始时间须早于结束时间"},
		{"name", healthcode.NewTrustedIssuer{IssuerID: "62", Name: strings.Repeat("名", 101), KeysJSON: doc}, "签发方名称：长度应在 1 至 100 个字之间"},
	} {
		_, err := ValidateNewIssuer(&c.in)
		if healthcode.ErrorCode(err) != healthcode.EINVALID || healthcode.ErrorMessage(err) != c.msg {
			t.Errorf("%s: err = %v, want INVALID %q", c.name, err, c.msg)
		}
	}
	if _, err := ValidateNewIssuer(&healthcode.NewTrustedIssuer{IssuerID: "62", KeysJSON: []byte(`{"keys": 1}`)}); healthcode.ErrorCode(err) != healthcode.EINVALID ||
		!strings.HasPrefix(healthcode.ErrorMessage(err), "密钥集格式错误") {
		t.Errorf("bad document: %v", err)
	}
}
