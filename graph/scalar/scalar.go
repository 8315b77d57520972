// Package scalar holds the custom GraphQL scalar bindings: object ids are
// int64 in Go and strings on the wire; dates are days of China Standard Time.
package scalar

import (
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"healthcode"
)

// MarshalID64 writes an int64 id as a GraphQL ID string.
func MarshalID64(id int64) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, strconv.Quote(strconv.FormatInt(id, 10)))
	})
}

// UnmarshalID64 reads a GraphQL ID (string or integer) as an int64.
func UnmarshalID64(v any) (int64, error) {
	switch v := v.(type) {
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return 0, healthcode.Errorf(healthcode.EINVALID, "编号格式不正确")
		}
		return n, nil
	case int64:
		return v, nil
	case int:
		return int64(v), nil
	}
	return 0, healthcode.Errorf(healthcode.EINVALID, "编号格式不正确")
}

// MarshalDate writes a day (a time at 00:00 China Standard Time) as
// "YYYY-MM-DD".
func MarshalDate(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, strconv.Quote(t.In(cst).Format(time.DateOnly)))
	})
}

// UnmarshalDate reads "YYYY-MM-DD" as 00:00 China Standard Time of that day.
func UnmarshalDate(v any) (time.Time, error) {
	s, ok := v.(string)
	if ok {
		if t, err := time.ParseInLocation(time.DateOnly, s, cst); err == nil {
			return t, nil
		}
	}
	return time.Time{}, healthcode.Errorf(healthcode.EINVALID, "日期格式应为 YYYY-MM-DD")
}

// cst is China Standard Time (UTC+8, no daylight saving time).
var cst = time.FixedZone("CST", 8*3600)
