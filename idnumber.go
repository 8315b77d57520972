package healthcode

import (
	"strings"
	"time"
)

// DocType is the kind of identity document that identifies a person.
type DocType string

// Document types (SPEC §2): the resident ID card, and for foreigners and
// Hong Kong, Macao and Taiwan residents their travel documents.
const (
	DocIDCard   DocType = "ID_CARD"  // 居民身份证, 18 characters, GB 11643 check digit
	DocPassport DocType = "PASSPORT" // 护照
	DocHKMacao  DocType = "HK_MACAO" // 港澳居民来往内地通行证
	DocTaiwan   DocType = "TAIWAN"   // 台湾居民来往大陆通行证
)

// Valid reports whether d is a known document type.
func (d DocType) Valid() bool {
	switch d {
	case DocIDCard, DocPassport, DocHKMacao, DocTaiwan:
		return true
	}
	return false
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// IDCheckChar returns the GB 11643 check character for the first 17 digits
// of a resident ID number, and false when they are not 17 digits.
func IDCheckChar(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		sum += int(c-'0') * idWeights[i]
	}
	return idCheckChars[sum%11], true
}

// NormalizeDocument trims and upper-cases a document number and validates it
// for its type. A resident ID number must have 18 characters, a valid birth
// date not in the future, and the GB 11643 check character (X allowed last).
// Anyone may call it. Errors: INVALID with a Chinese message.
func NormalizeDocument(t DocType, number string, now time.Time) (string, error) {
	n := strings.ToUpper(strings.TrimSpace(number))
	switch t {
	case DocIDCard:
		if len(n) != 18 {
			return "", Errorf(EINVALID, "身份证号码应为 18 位")
		}
		check, ok := IDCheckChar(n[:17])
		if !ok {
			return "", Errorf(EINVALID, "身份证号码前 17 位应为数字")
		}
		if n[17] != check {
			return "", Errorf(EINVALID, "身份证号码校验位不正确，请核对")
		}
		birth, err := time.ParseInLocation("20060102", n[6:14], time.UTC)
		if err != nil || birth.Year() < 1900 || birth.After(now) {
			return "", Errorf(EINVALID, "身份证号码中的出生日期不正确")
		}
		return n, nil
	case DocPassport, DocHKMacao, DocTaiwan:
		if len(n) < 5 || len(n) > 20 {
			return "", Errorf(EINVALID, "证件号码长度应为 5 至 20 位")
		}
		for _, c := range n {
			if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return "", Errorf(EINVALID, "证件号码只能包含字母和数字")
			}
		}
		return n, nil
	}
	return "", Errorf(EINVALID, "证件类型不正确")
}
