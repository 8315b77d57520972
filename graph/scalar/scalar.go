// Package scalar holds the custom GraphQL scalar bindings: object ids are
// int64 in Go and strings on the wire; dates are time.Time at midnight China
// Standard Time in Go and YYYY-MM-DD on the wire; times are RFC 3339, and a
// malformed one is INVALID (not an internal error). Floats are finite and
// strings hold neither NUL characters nor invalid UTF-8: a hostile value is
// INVALID at the edge, before any service or the database sees it.
package scalar

import (
	"context"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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

// MarshalDate writes a time as its YYYY-MM-DD date in China Standard Time.
func MarshalDate(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, strconv.Quote(t.In(healthcode.CST).Format("2006-01-02")))
	})
}

// UnmarshalDate reads a YYYY-MM-DD date as midnight China Standard Time.
// Errors: INVALID for anything else.
func UnmarshalDate(v any) (time.Time, error) {
	if s, ok := v.(string); ok {
		if t, err := time.ParseInLocation("2006-01-02", s, healthcode.CST); err == nil {
			return t, nil
		}
	}
	return time.Time{}, healthcode.Errorf(healthcode.EINVALID, "日期格式应为 YYYY-MM-DD")
}

// MarshalTime writes a time in RFC 3339 (as gqlgen's Time).
func MarshalTime(t time.Time) graphql.Marshaler { return graphql.MarshalTime(t) }

// UnmarshalTime reads an RFC 3339 time (as gqlgen's Time: also without
// fractional seconds, or "2006-01-02 15:04:05" in UTC). Errors: INVALID for
// anything else, with a message the caller can show.
func UnmarshalTime(v any) (time.Time, error) {
	t, err := graphql.UnmarshalTime(v)
	if err != nil {
		return time.Time{}, healthcode.Errorf(healthcode.EINVALID, "时间格式应为 RFC 3339，如 2026-12-03T12:00:00+08:00")
	}
	return t, nil
}

// MarshalFloat writes a float as GraphQL's Float; a NaN or infinite value
// (which JSON cannot carry) is an error of the field, never stored because
// UnmarshalFloat refuses it on the way in.
func MarshalFloat(f float64) graphql.ContextMarshaler { return graphql.MarshalFloatContext(f) }

// UnmarshalFloat reads a GraphQL Float (a number, or a numeric string as
// gqlgen accepts). Errors: INVALID for anything else and for NaN and
// infinities ("NaN", "+Inf", 1e400), which no measurement can be.
func UnmarshalFloat(ctx context.Context, v any) (float64, error) {
	f, err := graphql.UnmarshalFloatContext(ctx, v)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, healthcode.Errorf(healthcode.EINVALID, "数值格式不正确")
	}
	return f, nil
}

// MarshalString writes a string as GraphQL's String.
func MarshalString(s string) graphql.Marshaler { return graphql.MarshalString(s) }

// UnmarshalString reads a GraphQL String (as gqlgen does: numbers and
// booleans are read as their text). Errors: INVALID for a string with a NUL
// character or invalid UTF-8, which PostgreSQL cannot store and no name,
// address or question contains.
func UnmarshalString(v any) (string, error) {
	s, err := graphql.UnmarshalString(v)
	if err != nil {
		return "", healthcode.Errorf(healthcode.EINVALID, "文本格式不正确")
	}
	if strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
		return "", healthcode.Errorf(healthcode.EINVALID, "文本不能包含空字符或无效编码")
	}
	return s, nil
}
