package credential

import (
	"crypto/sha256"
	"encoding/base64"
)

// PrintStyle is the one style sheet of a printed paper code or pass card
// (graph's print page): an A6 sheet, the colour from the body's class
// (GREEN, YELLOW, RED). It is constant, so that a Content-Security-Policy can
// allow exactly it (PrintStyleSource): the console shows the page in a
// frame, which keeps the console's policy.
const PrintStyle = `@page{size:A6 portrait;margin:0}
body{font-family:"Noto Sans CJK SC","WenQuanYi Zen Hei",sans-serif;margin:0;display:flex;justify-content:center;--c:` + HexBlack + `}
body.GREEN{--c:` + HexGreen + `}body.YELLOW{--c:` + HexYellow + `}body.RED{--c:` + HexRed + `}
.card{box-sizing:border-box;width:95mm;min-height:138mm;border:2px solid var(--c);border-radius:5mm;padding:6mm;margin:5mm;text-align:center}
h1{font-size:16pt;margin:0 0 3mm}.colour{font-size:22pt;font-weight:bold;color:var(--c)}
.qr svg{width:58mm;height:58mm}.meta{font-size:11pt;line-height:1.6}.stamp{margin-top:4mm;font-size:9pt;color:#555}`

// PrintStyleSource is the CSP source expression ('sha256-…') that allows
// PrintStyle inline. Any caller.
var PrintStyleSource = func() string {
	sum := sha256.Sum256([]byte(PrintStyle))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()
