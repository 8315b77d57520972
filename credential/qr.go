package credential

import (
	"bytes"
	"fmt"
	"strconv"

	qrcode "github.com/skip2/go-qrcode"

	"healthcode"
)

// Colours of the QR code on the code page.
const (
	HexGreen  = "#1a9e4b"
	HexYellow = "#f0b400"
	HexRed    = "#d93025"
	HexBlack  = "#000000"
)

// ColourHex returns the QR colour for a code colour (GREEN → #1a9e4b, YELLOW
// → #f0b400, RED → #d93025) and black for anything else. The code page calls
// it; it never fails.
func ColourHex(colour string) string {
	switch colour {
	case ColourGreen:
		return HexGreen
	case ColourYellow:
		return HexYellow
	case ColourRed:
		return HexRed
	}
	return HexBlack
}

// Image limits.
const (
	// DefaultModuleSize is the module size SVGColour uses, in SVG user units.
	DefaultModuleSize = 8
	maxPNGSize        = 4096
	maxModuleSize     = 64
	// maxQRContent is the most the QR carries; a token is at most MaxTokenSize.
	maxQRContent = 2048
)

func newQR(content string) (*qrcode.QRCode, error) {
	if content == "" || len(content) > maxQRContent {
		return nil, healthcode.Errorf(healthcode.EINVALID, "二维码内容长度必须在 1 到 %d 字节之间", maxQRContent)
	}
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("credential: encode qr: %w", err)
	}
	return q, nil
}

// PNG renders content (normally a token) as a black-on-white QR code PNG of
// size×size pixels with medium error correction and a 4-module quiet zone.
// The code page and paper-code printing call it. It returns INVALID for empty
// or oversized content or a size outside 1..4096; wrapped encoder errors.
func PNG(content string, size int) ([]byte, error) {
	if size < 1 || size > maxPNGSize {
		return nil, healthcode.Errorf(healthcode.EINVALID, "二维码图片尺寸必须在 1 到 %d 像素之间", maxPNGSize)
	}
	q, err := newQR(content)
	if err != nil {
		return nil, err
	}
	png, err := q.PNG(size)
	if err != nil {
		return nil, fmt.Errorf("credential: render qr png: %w", err)
	}
	return png, nil
}

// SVG renders content as a black QR code SVG, moduleSize user units per
// module (1..64), medium error correction, 4-module quiet zone. Any caller may
// use it. It returns INVALID for bad content or module size.
func SVG(content string, moduleSize int) ([]byte, error) {
	return renderSVG(content, moduleSize, HexBlack)
}

// SVGColour renders content as an SVG QR code drawn in colour hex (#rgb or
// #rrggbb; the code page passes ColourHex of the code's colour) on white,
// with DefaultModuleSize. It returns INVALID for bad content or colour.
func SVGColour(content, hex string) ([]byte, error) {
	return renderSVG(content, DefaultModuleSize, hex)
}

func validHex(s string) bool {
	if len(s) != 4 && len(s) != 7 || s[0] != '#' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// renderSVG draws the QR bitmap (quiet zone included) as one path: each run
// of dark modules in a row is one rectangle "M x y h n v 1 h -n z".
func renderSVG(content string, moduleSize int, hex string) ([]byte, error) {
	if moduleSize < 1 || moduleSize > maxModuleSize {
		return nil, healthcode.Errorf(healthcode.EINVALID, "二维码模块尺寸必须在 1 到 %d 之间", maxModuleSize)
	}
	if !validHex(hex) {
		return nil, healthcode.Errorf(healthcode.EINVALID, "颜色必须是 #rgb 或 #rrggbb 形式：%q", hex)
	}
	q, err := newQR(content)
	if err != nil {
		return nil, err
	}
	bm := q.Bitmap() // includes the 4-module quiet zone
	n := len(bm)
	px := strconv.Itoa(n * moduleSize)
	ns := strconv.Itoa(n)
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="` + px + `" height="` + px +
		`" viewBox="0 0 ` + ns + ` ` + ns + `" shape-rendering="crispEdges">`)
	b.WriteString(`<rect width="` + ns + `" height="` + ns + `" fill="#ffffff"/>`)
	b.WriteString(`<path fill="` + hex + `" d="`)
	for y, row := range bm {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			run := strconv.Itoa(x - start)
			b.WriteString("M" + strconv.Itoa(start) + " " + strconv.Itoa(y) + "h" + run + "v1h-" + run + "z")
		}
	}
	b.WriteString(`"/></svg>` + "\n")
	return b.Bytes(), nil
}
