package graph

import (
	"bytes"
	"html/template"

	"healthcode"
	"healthcode/credential"
)

var printTemplate = template.Must(template.New("print").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>{{.Style}}</style></head><body class="{{.Class}}"><div class="card">
<h1>{{.Title}}</h1><div class="colour">{{.Label}}</div><div class="qr">{{.QR}}</div>
<div class="meta">姓名：{{.Name}}<br>签发：陕西省健康码平台<br>有效期至：{{.Until}}</div>
<div class="stamp">{{.Stamp}}</div></div></body></html>`))

// printPage renders a printable paper code or pass card on one A6 sheet
// (105 × 148 mm): the QR in the code's colour, the masked name and the validity (no ID, phone or address).
func printPage(c *healthcode.Credential) (string, error) {
	qr, err := credential.SVGColour(c.Token, credential.ColourHex(string(c.Colour)))
	if err != nil {
		return "", err
	}
	data := struct {
		Title, Class, Label, Name, Until, Stamp string
		QR                                      template.HTML
		Style                                   template.CSS
	}{
		Title: "陕西健康码（纸质）", Class: string(c.Colour), Label: c.Colour.Label(), Style: template.CSS(credential.PrintStyle),
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
