package divisions

import (
	"encoding/csv"
	"strings"
	"testing"
)

func TestFileStructure(t *testing.T) {
	all := All()
	seen := map[string]Division{}
	counts := map[Level]int{}
	wantLen := map[Level]int{Province: 2, City: 4, County: 6}
	for i, d := range all {
		if _, dup := seen[d.Code]; dup {
			t.Errorf("row %d: code %s twice", i+2, d.Code)
		}
		n, ok := wantLen[d.Level]
		if !ok {
			t.Fatalf("row %d: unknown level %q", i+2, d.Level)
		}
		if len(d.Code) != n || strings.Trim(d.Code, "0123456789") != "" {
			t.Errorf("row %d: code %q is not a %s code", i+2, d.Code, d.Level)
		}
		if strings.TrimSpace(d.Name) == "" || d.Name != strings.TrimSpace(d.Name) {
			t.Errorf("row %d: name %q", i+2, d.Name)
		}
		switch d.Level {
		case Province:
			if d.ParentCode != "" {
				t.Errorf("row %d: province %s has parent %s", i+2, d.Code, d.ParentCode)
			}
		default:
			// Each prefecture under an existing province; each county under
			// its prefecture, or its province where the NBS has a placeholder.
			p, ok := seen[d.ParentCode]
			if !ok || !strings.HasPrefix(d.Code, d.ParentCode) {
				t.Errorf("row %d: %s %s: parent %q missing or not its prefix", i+2, d.Level, d.Code, d.ParentCode)
			} else if d.Level == City && p.Level != Province {
				t.Errorf("row %d: prefecture %s under %s %s", i+2, d.Code, p.Level, p.Code)
			} else if d.Level == County {
				if _, city := seen[d.Code[:4]]; city != (p.Level == City) {
					t.Errorf("row %d: county %s under %s although prefecture %s exists: %v", i+2, d.Code, p.Code, d.Code[:4], city)
				}
			}
		}
		seen[d.Code] = d
		counts[d.Level]++
	}
	// All 34 province-level divisions of GB/T 2260, by their codes.
	provinces := "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82"
	for _, c := range strings.Fields(provinces) {
		if d, ok := seen[c]; !ok || d.Level != Province {
			t.Errorf("province %s missing", c)
		}
	}
	// 333 prefecture-level divisions (2023); a few thousand counties.
	if counts[Province] != 34 || counts[City] != 333 || counts[County] < 2800 {
		t.Errorf("counts %v, want 34 provinces, 333 prefectures, >= 2800 counties", counts)
	}
}

func TestNames(t *testing.T) {
	for code, want := range map[string]string{
		"42":     "湖北省",
		"4201":   "湖北省武汉市",
		"420106": "湖北省武汉市武昌区",
		"110105": "北京市朝阳区", // under the 市辖区 placeholder
		"429004": "湖北省仙桃市", // 省直辖县级行政区划
		"500229": "重庆市城口县", // 县 placeholder
		"6101":   "西安市",    // Shaanxi without 陕西省
		"610113": "西安市雁塔区",
		"61":     "陕西省",
		"81":     "香港特别行政区",
		"65":     "新疆维吾尔自治区",
	} {
		if got := FullName(code); got != want {
			t.Errorf("FullName(%s) = %q, want %q", code, got, want)
		}
		if got := Label(code); got != want {
			t.Errorf("Label(%s) = %q, want %q", code, got, want)
		}
	}
	for code, want := range map[string]string{
		"420106001":       "湖北省武汉市武昌区（420106001）",
		"610113001":       "西安市雁塔区小寨路街道",
		"610113001001":    "西安市雁塔区小寨路街道长安大学社区居委会",
		"610113001001001": "西安市雁塔区小寨路街道长安大学社区居委会（610113001001001）",
		"610113999":       "西安市雁塔区（610113999）",
		"429999":          "湖北省（429999）",
		"99":              "99",
		"9901":            "9901",
		"":                "",
		"ABROAD:US":       "ABROAD:US",
	} {
		if got := Label(code); got != want {
			t.Errorf("Label(%q) = %q, want %q", code, got, want)
		}
	}
	if Name("420106") != "武昌区" || Name("1101") != "" || FullName("99") != "" {
		t.Errorf("Name/FullName of placeholders or unknown codes")
	}
}

func TestPlaceLabel(t *testing.T) {
	for place, want := range map[string]string{"ABROAD:JP": "境外（日本）", "ABROAD:BR": "境外（BR）", "4201": "湖北省武汉市", "99": "99"} {
		if got := PlaceLabel(place); got != want {
			t.Errorf("PlaceLabel(%q) = %q, want %q", place, got, want)
		}
	}
}

// The Shaanxi file: its counties and above equal the national file's; each
// street and community hangs under an existing division whose code is its
// prefix.
func TestShaanxiFile(t *testing.T) {
	rows, err := csv.NewReader(strings.NewReader(shaanxiData)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	below := 0
	for i, r := range rows[1:] {
		code, name, level, parent := r[0], r[1], Level(r[2]), r[3]
		d, ok := Find(code)
		if !ok || d.Name != name || d.Level != level || d.ParentCode != parent {
			t.Errorf("row %d: %v, found %+v", i+2, r, d)
		}
		if level == Street || level == Community {
			below++
			if p, ok := Find(parent); !ok || !strings.HasPrefix(code, parent) || (level == Street) != (p.Level == County) {
				t.Errorf("row %d: %s %s under %q", i+2, level, code, parent)
			}
		}
	}
	if below < 20000 {
		t.Errorf("%d streets and communities, want the whole province", below)
	}
}
