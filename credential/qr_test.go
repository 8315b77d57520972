package credential

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/png"
	"io"
	"strings"
	"testing"
	"time"

	"healthcode"
)

func TestPNG(t *testing.T) {
	f := newFixture(t)
	tok := mustSign(t, f.signer, claimsAt("61", t0, 5*time.Minute))
	data, err := PNG(tok, 320)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode png: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 320 || b.Dy() != 320 {
		t.Fatalf("bounds %v", b)
	}
	for _, size := range []int{0, -1, 5000} {
		if _, err := PNG(tok, size); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("size %d: %v", size, err)
		}
	}
	if _, err := PNG("", 100); healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Errorf("empty content: %v", err)
	}
}

// wellFormed parses data as XML and counts its elements by name.
func wellFormed(t *testing.T, data []byte) map[string]int {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	counts := map[string]int{}
	for {
		tk, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("svg is not well-formed XML: %v\n%s", err, data)
		}
		if se, ok := tk.(xml.StartElement); ok {
			counts[se.Name.Local]++
		}
	}
	return counts
}

func TestSVG(t *testing.T) {
	f := newFixture(t)
	tok := mustSign(t, f.signer, claimsAt("61", t0, 5*time.Minute))
	data, err := SVG(tok, 4)
	if err != nil {
		t.Fatal(err)
	}
	counts := wellFormed(t, data)
	if counts["svg"] != 1 || counts["path"] != 1 || counts["rect"] != 1 {
		t.Fatalf("elements %v", counts)
	}
	if !strings.Contains(string(data), `fill="#000000"`) {
		t.Fatal("not black")
	}
	for _, col := range []string{ColourGreen, ColourYellow, ColourRed} {
		data, err := SVGColour(tok, ColourHex(col))
		if err != nil {
			t.Fatal(err)
		}
		wellFormed(t, data)
		if !strings.Contains(string(data), `<path fill="`+ColourHex(col)+`"`) {
			t.Fatalf("%s: colour missing", col)
		}
	}
	if ColourHex(ColourGreen) != "#1a9e4b" || ColourHex(ColourYellow) != "#f0b400" || ColourHex(ColourRed) != "#d93025" {
		t.Fatal("palette")
	}
	for _, bad := range []string{"green", "#12345", `#000" onload="x`, "#ggg"} {
		if _, err := SVGColour(tok, bad); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("colour %q: %v", bad, err)
		}
	}
	if _, err := SVG(tok, 0); healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Errorf("module size 0: %v", err)
	}
}

func TestSVGQuietZone(t *testing.T) {
	// The first and last four rows and columns are light: no path command
	// starts there.
	data, err := SVG("hc", 1)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	d := s[strings.Index(s, ` d="`)+4:]
	d = d[:strings.IndexByte(d, '"')]
	var n int
	for _, cmd := range strings.Split(strings.TrimSuffix(d, "z"), "z") {
		var x, y, run, back int
		if _, err := fmt.Sscanf(cmd, "M%d %dh%dv1h-%d", &x, &y, &run, &back); err != nil || back != run {
			t.Fatalf("command %q: %v", cmd, err)
		}
		if x < 4 || y < 4 || y >= 21+4 || x+run > 21+4 {
			t.Fatalf("module outside the symbol: %q", cmd)
		}
		n++
	}
	if n == 0 {
		t.Fatal("empty path")
	}
}
