package graph_test

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"path"
	"strconv"
	"strings"
	"testing"
)

// sheetXLSX is one worksheet as a read-only reader sees it: the declared
// dimension and the cells inside it, rows from 1.
type sheetXLSX struct {
	Dimension string
	Rows      [][]string // the rows of the dimension, each as wide as it
	Outside   int        // cells in the file outside the dimension, which such readers never see
}

// readSheetXLSX reads one sheet of a workbook by name straight from the zip
// with encoding/xml — not with excelize, which wrote it — the way read-only
// readers do (openpyxl's read_only mode, streaming readers): they size the
// sheet by its <dimension ref> and read only the rows and columns inside
// it. Shared strings, inline strings and numbers are resolved to text.
func readSheetXLSX(t *testing.T, data []byte, name string) sheetXLSX {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("open workbook: %v", err)
	}
	part := func(p string) []byte {
		t.Helper()
		for _, f := range zr.File {
			if f.Name == p {
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				defer rc.Close()
				b, err := io.ReadAll(rc)
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
		}
		return nil
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := xml.Unmarshal(part("xl/workbook.xml"), &wb); err != nil {
		t.Fatalf("workbook.xml: %v", err)
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.Unmarshal(part("xl/_rels/workbook.xml.rels"), &rels); err != nil {
		t.Fatalf("workbook rels: %v", err)
	}
	target := ""
	for _, s := range wb.Sheets {
		if s.Name == name {
			for _, r := range rels.Rels {
				if r.ID == s.RID {
					target = r.Target
				}
			}
		}
	}
	if target == "" {
		t.Fatalf("no sheet %q in %+v", name, wb.Sheets)
	}
	if strings.HasPrefix(target, "/") {
		target = strings.TrimPrefix(target, "/")
	} else {
		target = path.Join("xl", target)
	}
	var shared []string
	if b := part("xl/sharedStrings.xml"); b != nil {
		var sst struct {
			SI []struct {
				T string `xml:"t"`
				R []struct {
					T string `xml:"t"`
				} `xml:"r"`
			} `xml:"si"`
		}
		if err := xml.Unmarshal(b, &sst); err != nil {
			t.Fatalf("sharedStrings.xml: %v", err)
		}
		for _, si := range sst.SI {
			s := si.T
			for _, r := range si.R {
				s += r.T
			}
			shared = append(shared, s)
		}
	}
	var ws struct {
		Dimension struct {
			Ref string `xml:"ref,attr"`
		} `xml:"dimension"`
		Rows []struct {
			R     int `xml:"r,attr"`
			Cells []struct {
				R  string `xml:"r,attr"`
				T  string `xml:"t,attr"`
				V  string `xml:"v"`
				IS struct {
					T string `xml:"t"`
				} `xml:"is"`
			} `xml:"c"`
		} `xml:"sheetData>row"`
	}
	b := part(target)
	if b == nil {
		t.Fatalf("no part %s", target)
	}
	if err := xml.Unmarshal(b, &ws); err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	out := sheetXLSX{Dimension: ws.Dimension.Ref}
	ref := ws.Dimension.Ref
	if !strings.Contains(ref, ":") {
		ref += ":" + ref
	}
	from, to, _ := strings.Cut(ref, ":")
	_, r1 := cellRef(t, from)
	lastCol, lastRow := cellRef(t, to)
	if r1 != 1 {
		t.Fatalf("dimension %q does not start at row 1", ws.Dimension.Ref)
	}
	out.Rows = make([][]string, lastRow)
	for i := range out.Rows {
		out.Rows[i] = make([]string, lastCol)
	}
	for _, row := range ws.Rows {
		for _, c := range row.Cells {
			col, r := cellRef(t, c.R)
			if r > lastRow || col > lastCol {
				out.Outside++
				continue
			}
			v := c.V
			switch c.T {
			case "s":
				i, err := strconv.Atoi(c.V)
				if err != nil || i >= len(shared) {
					t.Fatalf("cell %s: shared string %q", c.R, c.V)
				}
				v = shared[i]
			case "inlineStr":
				v = c.IS.T
			}
			out.Rows[r-1][col-1] = v
		}
	}
	return out
}

// cellRef splits a cell reference such as U12 into column 21 and row 12.
func cellRef(t *testing.T, ref string) (col, row int) {
	t.Helper()
	i := strings.IndexFunc(ref, func(r rune) bool { return r >= '0' && r <= '9' })
	if i <= 0 {
		t.Fatalf("cell reference %q", ref)
	}
	for _, r := range ref[:i] {
		col = col*26 + int(r-'A'+1)
	}
	row, err := strconv.Atoi(ref[i:])
	if err != nil {
		t.Fatalf("cell reference %q", ref)
	}
	return col, row
}
