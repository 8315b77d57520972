package graph

import (
	"bytes"
	"html/template"

	"healthcode"
	"healthcode/credential"
)

var printTemplate = template.Must(template.New("print").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:"Noto Sans CJK SC","WenQuanYi Zen Hei",sans-serif;margin:0;display:flex;justify-content:center}
.card{width:90mm;border:2px solid {{.Hex}};border-radius:6mm;padding:8mm;margin:10mm;text-align:center}
h1{font-size:18pt;margin:0 0 4mm}.colour{font-size:24pt;font-weight:bold;color:{{.Hex}}}
.qr svg{width:60mm;height:60mm}.meta{font-size:11pt;line-height:1.6}.stamp{margin-top:6mm;font-size:10pt;color:#555}
@media print{.card{margin:0}}
</style></head><body><div class="card">
<h1>{{.Title}}</h1><div class="colour">{{.Label}}</div><div class="qr">{{.QR}}</div>
<div class="meta">姓名：{{.Name}}<br>签发：陕西省健康码平台<br>有效期至：{{.Until}}</div>
<div class="stamp">{{.Stamp}}</div></div></body></html>`))

// printPage renders a printable paper code or pass card: the QR in the
// code's colour, the masked name and the validity (no ID, phone or address).
func printPage(c *healthcode.Credential) (string, error) {
	qr, err := credential.SVGColour(c.Token, credential.ColourHex(string(c.Colour)))
	if err != nil {
		return "", err
	}
	data := struct {
		Title, Hex, Label, Name, Until, Stamp string
		QR                                    template.HTML
	}{
		Title: "陕西健康码（纸质）", Hex: credential.ColourHex(string(c.Colour)), Label: c.Colour.Label(),
		Name: c.MaskedName, Until: c.ExpiresAt.In(healthcode.CST).Format("2006年01月02日 15:04"),
		Stamp: "社区工作人员代为申领，有效期 14 天；健康码颜色变化时本码作废。", QR: template.HTML(qr),
	}
	if c.Kind == healthcode.CredentialPassCard {
		data.Title, data.Stamp = "健康通行卡", "经社区（村）审核通过，加盖社区（村）公章后有效，有效期 14 天。"
	}
	var b bytes.Buffer
	if err := printTemplate.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}
